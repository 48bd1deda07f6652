/**
 * SEED_FAMILIES are the text-format family names shared/SEED.md lists (counters with `_total`), plus the
 * exporter's scenario ground truth; tests check exposition and Prometheus against this one list.
 */
export const SEED_FAMILIES: readonly string[] = [
  'openmanager_cpu_usage_percent',
  'openmanager_cpu_load_average_1m',
  'openmanager_cpu_load_average_5m',
  'openmanager_cpu_load_average_15m',
  'openmanager_cpu_context_switches_total',
  'openmanager_memory_usage_percent',
  'openmanager_memory_used_bytes',
  'openmanager_memory_total_bytes',
  'openmanager_memory_available_bytes',
  'openmanager_swap_used_bytes',
  'openmanager_disk_usage_percent',
  'openmanager_disk_read_bytes_total',
  'openmanager_disk_write_bytes_total',
  'openmanager_disk_read_ops_total',
  'openmanager_disk_write_ops_total',
  'openmanager_network_receive_bytes_total',
  'openmanager_network_transmit_bytes_total',
  'openmanager_network_receive_packets_total',
  'openmanager_network_transmit_packets_total',
  'openmanager_network_receive_errors_total',
  'openmanager_network_transmit_drops_total',
  'openmanager_service_up',
  'openmanager_http_request_duration_seconds',
  'openmanager_http_requests_total',
  'openmanager_scenario_active',
];

/** HISTOGRAM_FAMILIES are the SEED_FAMILIES exposed as histograms (stored by their `_bucket` series). */
export const HISTOGRAM_FAMILIES: ReadonlySet<string> = new Set(['openmanager_http_request_duration_seconds']);

/** SEED_SERIES are the SEED_FAMILIES as Prometheus stores them (histograms by their `_bucket` series). */
export const SEED_SERIES: readonly string[] = SEED_FAMILIES.map((n) =>
  HISTOGRAM_FAMILIES.has(n) ? `${n}_bucket` : n,
);
