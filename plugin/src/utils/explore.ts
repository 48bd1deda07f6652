import { getDataSourceSrv } from '@grafana/runtime';

/** prometheusDatasourceUid is the uid of the first Prometheus data source (the one pointing at the exporter), if any. */
export function prometheusDatasourceUid(): string | undefined {
  try {
    return getDataSourceSrv().getList({ type: 'prometheus' })[0]?.uid;
  } catch {
    // Outside Grafana (the harness) there is no data source service.
    return undefined;
  }
}

/** exploreUrl is a Grafana Explore link that opens `expr` over [from, to] (Grafana time strings or ms). */
export function exploreUrl(expr: string, from: string, to: string, datasourceUid = prometheusDatasourceUid()): string {
  const query: Record<string, unknown> = { refId: 'A', expr, editorMode: 'code' };
  if (datasourceUid) {
    query.datasource = { type: 'prometheus', uid: datasourceUid };
  }
  const pane = { datasource: datasourceUid, queries: [query], range: { from, to } };
  return `/explore?schemaVersion=1&orgId=1&panes=${encodeURIComponent(JSON.stringify({ om: pane }))}`;
}
