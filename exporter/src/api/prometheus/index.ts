/** The Prometheus HTTP API v1 router and its parts; the app mounts the router at `/api/prometheus/api/v1`. */
export {
  createPrometheusApiRouter,
  toApiData,
  DEFAULT_BUILD_INFO,
  MAX_POINTS_PER_SERIES,
  type PrometheusApiOptions,
  type MetadataProvider,
  type MetricMetadata,
  type BuildInfo,
} from './router.js';
export { familiesMetadata } from './metadata.js';
export { ERROR_STATUS, respond, respondError } from './envelope.js';
