/**
 * The wire contract between the exporter and its clients (the Grafana plugin first): every shape that crosses
 * HTTP or the hub, as TypeScript types and zod schemas. It depends on nothing but zod, so a client imports it
 * (`@openmanager/exporter/contract`) without pulling in any of the exporter.
 */
export * from './fleet.js';
export * from './unified-metrics.js';
export * from './hub-protocol.js';
export * from './prometheus-api.js';
export * from './notifications.js';
export * from './analysis.js';
export * from './drills.js';
export * from './coverage.js';
