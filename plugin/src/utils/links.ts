/**
 * Links into Grafana built with Grafana's own URL helpers: `urlUtil.renderUrl` for the query string (as Grafana's
 * Explore links do) and `locationUtil.assureBaseUrl` for the sub-path Grafana may be served under, plus the
 * current organisation, so a link opened in a new tab lands in the same org.
 */
import { locationUtil, urlUtil, type UrlQueryMap } from '@grafana/data';
import { config } from '@grafana/runtime';

/** currentOrgId is the signed-in user's organisation, when Grafana says. */
function currentOrgId(): number | undefined {
  const id = config.bootData?.user?.orgId;
  return typeof id === 'number' && id > 0 ? id : undefined;
}

/** grafanaUrl is a Grafana path with a query, under Grafana's sub-path and for the current org. */
export function grafanaUrl(path: string, query: UrlQueryMap = {}): string {
  const orgId = currentOrgId();
  return locationUtil.assureBaseUrl(urlUtil.renderUrl(path, orgId ? { ...query, orgId } : query));
}

/** ExploreQuery is one Prometheus query for Explore. */
export interface ExploreQuery {
  expr: string;
  legendFormat?: string;
}

/**
 * exploreUrl opens `queries` against the Prometheus-type data source `datasourceUid` over [from, to] (Grafana
 * time strings such as `now-1h`, or Unix ms), in Explore's current URL schema.
 */
export function exploreUrl(
  datasourceUid: string,
  queries: readonly ExploreQuery[],
  range: { from: string | number; to: string | number }
): string {
  const datasource = { type: 'prometheus', uid: datasourceUid };
  const pane = {
    datasource: datasourceUid,
    queries: queries.map((q, i) => ({
      refId: String.fromCharCode(65 + (i % 26)),
      expr: q.expr,
      ...(q.legendFormat ? { legendFormat: q.legendFormat } : {}),
      editorMode: 'code',
      datasource,
    })),
    range: { from: String(range.from), to: String(range.to) },
  };
  return grafanaUrl('/explore', { schemaVersion: 1, panes: JSON.stringify({ om: pane }) });
}

/** alertListUrl is Grafana's alert list searched for one alert rule (and server, when given). */
export function alertListUrl(alertname: string, server?: string): string {
  const terms = [`rule:"${alertname.replace(/"/g, '')}"`];
  if (server) {
    terms.push(`label:server=${server}`);
  }
  return grafanaUrl('/alerting/list', { search: terms.join(' ') });
}
