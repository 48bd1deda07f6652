/**
 * The exporter's own metrics: a prom-client Registry created here and injected into every module that
 * instruments itself (never prom-client's global registry), rendered by the same writer as the fleet so
 * `/metrics` can speak both text 0.0.4 and OpenMetrics.
 */
import {
  Gauge,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import { BUILD_INFO } from '../build-info.js';
import { escapeHelp, formatValue, labelString, type ExpositionFormat } from './text-format.js';

/**
 * LINT_FAILING_DEFAULT_METRICS are prom-client default gauges whose names end in `_total`, which
 * `promtool check metrics` flags ("non-counter metrics should not have _total suffix"). Their per-type
 * siblings (`nodejs_active_handles{type}` …) carry the same information, so they are unregistered.
 */
const LINT_FAILING_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * createSelfRegistry returns a fresh registry with the exporter's build info (`openmanager_exporter_build_info`,
 * value 1, as Prometheus's own `prometheus_build_info`) and Node's process metrics (`process_*`, `nodejs_*`).
 */
export function createSelfRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'openmanager_exporter_build_info',
    help: 'The exporter build: version, git revision and Node version, value 1.',
    labelNames: ['version', 'revision', 'nodeversion'],
    registers: [registry],
  }).set(
    { version: BUILD_INFO.version, revision: BUILD_INFO.revision, nodeversion: BUILD_INFO.nodeVersion },
    1,
  );
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of LINT_FAILING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  return registry;
}

type Family = MetricObjectWithValues<MetricValue<string>>;

/**
 * renderRegistry renders a registry in `format` (OpenMetrics without `# EOF`: the caller ends the body).
 * Counters follow each format's naming rule: the text family is `x_total`, the OpenMetrics family `x`.
 */
export async function renderRegistry(registry: Registry, format: ExpositionFormat): Promise<string> {
  const families = (await registry.getMetricsAsJSON()) as Family[];
  let out = '';
  for (const fam of families) {
    if (fam.values.length === 0) continue;
    const type = String(fam.type);
    const isCounter = type === 'counter';
    const base = isCounter && fam.name.endsWith('_total') ? fam.name.slice(0, -'_total'.length) : fam.name;
    const familyName = format === 'openmetrics' ? base : fam.name;
    out += `# HELP ${familyName} ${escapeHelp(fam.help, format)}\n# TYPE ${familyName} ${type}\n`;
    for (const v of fam.values) {
      const withName = v as MetricValue<string> & { metricName?: string };
      const sample = withName.metricName ?? (isCounter ? `${base}_total` : fam.name);
      out += `${sample}${labelString(v.labels)} ${formatValue(v.value)}\n`;
    }
  }
  return out;
}
