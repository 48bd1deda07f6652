/** AppJsonData is the app's non-secret settings (plugin settings `jsonData`). */
export interface AppJsonData {
  /** exporterUrl is the exporter's base URL as Grafana's server reaches it (plugin-proxy routes). */
  exporterUrl?: string;
  /** liveUrl is the hub's WebSocket URL as the browser reaches it; empty = derived from exporterUrl. */
  liveUrl?: string;
  /** datasourceUid is the Prometheus-type data source the charts query; empty = DEFAULT_DATASOURCE_UID. */
  datasourceUid?: string;
}

/** AppSecureJsonData is the app's secret settings: written once, never sent back to the browser. */
export interface AppSecureJsonData {
  /** apiToken is the exporter's bearer token (the exporter's API_TOKEN). */
  apiToken?: string;
  /** hubToken is the exporter's HUB_TOKEN: the plugin proxy trades it for single-use hub tickets. */
  hubToken?: string;
}
