/**
 * The alert feed's state and its pure transitions: firing and pending alerts from the rules API or the hub's
 * `alerts` channel, recently resolved ones (from hub events and from the `ALERTS` history), filters and order.
 * Rows that did not change keep their identity, so a live update with 1,000 alerts re-renders only what moved.
 */
import type { AlertInfo, PromAlert, PromRuleGroup, PromVectorSample } from '../api/types';

/** AlertRowState is what the page shows: the rule manager's pending/firing, or resolved. */
export type AlertRowState = 'firing' | 'pending' | 'resolved';

/** AlertRow is one alert instance as the Alerts page and the alert-list panel show it. */
export interface AlertRow {
  /** key identifies the alert instance: its label set (alertname included), sorted. */
  key: string;
  name: string;
  state: AlertRowState;
  severity: string;
  server: string | undefined;
  summary: string;
  /** value is the rule expression's value at the last evaluation; null when unknown (resolved from history). */
  value: number | null;
  /** activeAt is when the alert became pending (Unix ms); null when unknown. */
  activeAt: number | null;
  /** resolvedAt is when it resolved (Unix ms); null while active. */
  resolvedAt: number | null;
  labels: Readonly<Record<string, string>>;
}

/** AlertFeed is the feed's state: active alerts and recently resolved ones, each keyed by AlertRow.key. */
export interface AlertFeed {
  active: ReadonlyMap<string, AlertRow>;
  resolved: ReadonlyMap<string, AlertRow>;
}

/** EMPTY_FEED is the feed before anything loaded. */
export const EMPTY_FEED: AlertFeed = { active: new Map(), resolved: new Map() };

/** SEVERITY_ORDER ranks severities worst first; unknown ones sort after these. */
export const SEVERITY_ORDER = ['critical', 'warning', 'info', 'none'];

/** STATE_ORDER ranks states: firing before pending before resolved. */
const STATE_ORDER: Record<AlertRowState, number> = { firing: 0, pending: 1, resolved: 2 };

/** MAX_RESOLVED bounds the resolved alerts kept (the oldest go first): a page, not an archive. */
export const MAX_RESOLVED = 500;

/** LABELS_NOT_IDENTIFYING are labels `ALERTS` adds that are not part of an alert's identity. */
const LABELS_NOT_IDENTIFYING = new Set(['__name__', 'alertstate']);

/** alertKey is the identity of an alert instance: its labels (minus ALERTS' own), sorted by name. */
export function alertKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .filter((k) => !LABELS_NOT_IDENTIFYING.has(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

function severityOf(labels: Readonly<Record<string, string>>): string {
  return labels.severity || 'none';
}

function serverOf(labels: Readonly<Record<string, string>>): string | undefined {
  return labels.server || labels.instance || undefined;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function timeOrNull(rfc3339: string | undefined): number | null {
  if (!rfc3339 || rfc3339.startsWith('0001-')) {
    return null;
  }
  const t = Date.parse(rfc3339);
  return Number.isFinite(t) ? t : null;
}

/** fromPromAlert reads one alert of the Prometheus `/api/v1/alerts` API. */
export function fromPromAlert(a: PromAlert): AlertRow {
  return {
    key: alertKey(a.labels),
    name: a.labels.alertname ?? 'alert',
    state: a.state === 'firing' ? 'firing' : a.state === 'pending' ? 'pending' : 'resolved',
    severity: severityOf(a.labels),
    server: serverOf(a.labels),
    summary: a.annotations.summary ?? a.annotations.description ?? '',
    value: finiteOrNull(Number(a.value)),
    activeAt: timeOrNull(a.activeAt),
    resolvedAt: null,
    labels: a.labels,
  };
}

/**
 * fromAlertInfo reads one alert of the hub's `alerts` channel; an inactive one is resolved at `changedAt`. `key`
 * is its alertKey when the caller knows it already.
 */
export function fromAlertInfo(a: AlertInfo, changedAt?: number, key: string = alertKey(a.labels)): AlertRow {
  const resolved = a.state === 'inactive';
  const state: AlertRowState = a.state === 'firing' ? 'firing' : a.state === 'pending' ? 'pending' : 'resolved';
  return {
    key,
    name: a.name || a.labels.alertname || 'alert',
    state,
    severity: a.severity || severityOf(a.labels),
    server: serverOf(a.labels),
    summary: a.annotations.summary ?? a.annotations.description ?? '',
    value: a.value,
    activeAt: a.activeAt,
    resolvedAt: resolved ? (a.resolvedAt ?? changedAt ?? null) : null,
    labels: a.labels,
  };
}

/**
 * fromAlertsHistory reads `max_over_time(timestamp(ALERTS{alertstate="firing"})[…:])` (RESOLVED_HISTORY_QUERY):
 * each sample is an alert instance and the last time it was seen firing, which is when it resolved if it is not
 * active now. Summary and value are not in `ALERTS`; they stay empty.
 */
export function fromAlertsHistory(samples: readonly PromVectorSample[]): AlertRow[] {
  return samples.map((s) => {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.metric)) {
      if (!LABELS_NOT_IDENTIFYING.has(k)) {
        labels[k] = v;
      }
    }
    const lastSeen = Number(s.value[1]) * 1000;
    return {
      key: alertKey(labels),
      name: labels.alertname ?? 'alert',
      state: 'resolved',
      severity: severityOf(labels),
      server: serverOf(labels),
      summary: '',
      value: null,
      activeAt: null,
      resolvedAt: Number.isFinite(lastSeen) ? lastSeen : null,
      labels,
    };
  });
}

/** resolvedHistoryQuery is the PromQL that lists alert instances seen firing within `windowS` seconds. */
export function resolvedHistoryQuery(windowS: number): string {
  return `max_over_time(timestamp(ALERTS{alertstate="firing"})[${Math.max(60, Math.round(windowS))}s:])`;
}

function sameRow(a: AlertRow, b: AlertRow): boolean {
  return (
    a.state === b.state &&
    a.value === b.value &&
    a.activeAt === b.activeAt &&
    a.resolvedAt === b.resolvedAt &&
    a.summary === b.summary &&
    a.severity === b.severity
  );
}

/** keepIdentity returns `prev`'s row where nothing shown changed, so memoised rows skip re-rendering. */
function keepIdentity(prev: ReadonlyMap<string, AlertRow>, next: AlertRow): AlertRow {
  const old = prev.get(next.key);
  return old && sameRow(old, next) ? old : next;
}

function boundResolved(resolved: Map<string, AlertRow>): Map<string, AlertRow> {
  if (resolved.size <= MAX_RESOLVED) {
    return resolved;
  }
  const newest = [...resolved.values()].sort((a, b) => (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0));
  return new Map(newest.slice(0, MAX_RESOLVED).map((r) => [r.key, r]));
}

/**
 * withActive replaces the active alerts by `rows` (a complete list: the API's answer or a hub event's
 * `activeAlerts`). An alert that left the list without a resolution event is resolved now (`at`); an alert that
 * is active again leaves the resolved list.
 */
export function withActive(feed: AlertFeed, rows: readonly AlertRow[], at: number): AlertFeed {
  const active = new Map<string, AlertRow>();
  for (const r of rows) {
    if (r.state !== 'resolved') {
      active.set(r.key, keepIdentity(feed.active, r));
    }
  }
  let resolved: Map<string, AlertRow> | undefined;
  for (const [key, old] of feed.active) {
    if (!active.has(key)) {
      resolved ??= new Map(feed.resolved);
      resolved.set(key, { ...old, state: 'resolved', resolvedAt: at });
    }
  }
  for (const key of active.keys()) {
    if ((resolved ?? feed.resolved).has(key)) {
      resolved ??= new Map(feed.resolved);
      resolved.delete(key);
    }
  }
  return { active, resolved: resolved ? boundResolved(resolved) : feed.resolved };
}

/**
 * lastEvent is the active list of the last hub event readActiveInfos read, with the key it derived for each. The
 * hub sends the complete list in the same order with every event, so an alert at the same place with the same
 * labels has the same key: comparing a few labels is cheaper than sorting and quoting them again, 1,000 times an
 * event. Any earlier list is a correct hint (a mismatch derives the key afresh), so one for all callers is safe.
 */
let lastEvent: { infos: readonly AlertInfo[]; keys: readonly string[] } = { infos: [], keys: [] };

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) {
      return false;
    }
    n++;
  }
  for (const _ in b) {
    n--;
  }
  return n === 0;
}

/**
 * readActiveInfos reads an event's active list into rows, returning `active`'s row where the alert shows the same
 * as before (no new object), so an unchanged alert costs a label comparison and a lookup.
 */
function readActiveInfos(active: ReadonlyMap<string, AlertRow>, infos: readonly AlertInfo[]): AlertRow[] {
  const hint = lastEvent;
  const keys: string[] = [];
  const rows: AlertRow[] = [];
  for (let i = 0; i < infos.length; i++) {
    const info = infos[i]!;
    const previous = hint.infos[i];
    const key =
      previous !== undefined && sameLabels(previous.labels, info.labels) ? hint.keys[i]! : alertKey(info.labels);
    keys.push(key);
    const old = active.get(key);
    rows.push(old !== undefined && showsAsInfo(old, info) ? old : fromAlertInfo(info, undefined, key));
  }
  lastEvent = { infos, keys };
  return rows;
}

/** showsAsInfo tells whether `row` shows what fromAlertInfo would read from `info` (an active alert). */
function showsAsInfo(row: AlertRow, info: AlertInfo): boolean {
  return (
    row.state === info.state &&
    row.value === info.value &&
    row.activeAt === info.activeAt &&
    row.resolvedAt === null &&
    row.severity === (info.severity || severityOf(info.labels)) &&
    row.name === (info.name || info.labels.alertname || 'alert') &&
    row.summary === (info.annotations.summary ?? info.annotations.description ?? '')
  );
}

/** applyAlertEvent applies one `alert_state_changed` event: its complete active list, and the changed alert. */
export function applyAlertEvent(
  feed: AlertFeed,
  event: { alert: AlertInfo; changedAt: number; activeAlerts: readonly AlertInfo[] }
): AlertFeed {
  const next = withActive(feed, readActiveInfos(feed.active, event.activeAlerts), event.changedAt);
  const changed = fromAlertInfo(event.alert, event.changedAt);
  if (changed.state !== 'resolved') {
    return next;
  }
  // The event's own alert carries its annotations and value: a better record than the one withActive made.
  const resolved = new Map(next.resolved);
  const previous = feed.active.get(changed.key);
  resolved.set(changed.key, {
    ...changed,
    summary: changed.summary || previous?.summary || '',
    activeAt: changed.activeAt ?? previous?.activeAt ?? null,
  });
  return { active: next.active, resolved: boundResolved(resolved) };
}

/**
 * withResolvedHistory adds alerts resolved within the window from the `ALERTS` history, keeping what the feed
 * already knows (hub events carry more) and skipping alerts that are active now.
 */
export function withResolvedHistory(feed: AlertFeed, history: readonly AlertRow[]): AlertFeed {
  let resolved: Map<string, AlertRow> | undefined;
  for (const r of history) {
    if (feed.active.has(r.key) || feed.resolved.has(r.key)) {
      continue;
    }
    resolved ??= new Map(feed.resolved);
    resolved.set(r.key, r);
  }
  return resolved ? { active: feed.active, resolved: boundResolved(resolved) } : feed;
}

/** dropResolvedBefore forgets alerts resolved before `cutoff` (Unix ms). */
export function dropResolvedBefore(feed: AlertFeed, cutoff: number): AlertFeed {
  const stale = [...feed.resolved.values()].filter((r) => (r.resolvedAt ?? 0) < cutoff);
  if (stale.length === 0) {
    return feed;
  }
  const resolved = new Map(feed.resolved);
  for (const r of stale) {
    resolved.delete(r.key);
  }
  return { active: feed.active, resolved };
}

/** AlertFilters are the page's and the panel's filters; empty or undefined = all. */
export interface AlertFilters {
  severities?: readonly string[];
  servers?: readonly string[];
  states?: readonly AlertRowState[];
}

/**
 * TEXT and NATURAL compare strings as localeCompare does (NATURAL with numbers by value: web-2 before web-10).
 * One collator each: localeCompare with options builds a collator per call, which dominated sorting 1,000 alerts.
 */
const TEXT = new Intl.Collator();
const NATURAL = new Intl.Collator(undefined, { numeric: true });

function rank(list: readonly string[], v: string): number {
  const i = list.indexOf(v);
  return i === -1 ? list.length : i;
}

/**
 * compareAlerts orders rows: severity (worst first), state, server (natural order), name, then newest. It reads only
 * the fields sameSortKey compares, which lets sortFeed keep a row's place while its value changes.
 */
export function compareAlerts(a: AlertRow, b: AlertRow): number {
  return (
    rank(SEVERITY_ORDER, a.severity) - rank(SEVERITY_ORDER, b.severity) ||
    TEXT.compare(a.severity, b.severity) ||
    STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
    NATURAL.compare(a.server ?? '', b.server ?? '') ||
    TEXT.compare(a.name, b.name) ||
    (b.resolvedAt ?? b.activeAt ?? 0) - (a.resolvedAt ?? a.activeAt ?? 0) ||
    TEXT.compare(a.key, b.key)
  );
}

/** passes tells whether a row passes `filters`. */
function passes(r: AlertRow, { severities, servers, states }: AlertFilters): boolean {
  return (
    (!severities?.length || severities.includes(r.severity)) &&
    (!servers?.length || (r.server !== undefined && servers.includes(r.server))) &&
    (!states?.length || states.includes(r.state))
  );
}

/** selectAlerts returns the feed's rows that pass `filters`, in display order. */
export function selectAlerts(feed: AlertFeed, filters: AlertFilters = {}): AlertRow[] {
  const rows: AlertRow[] = [];
  for (const map of [feed.active, feed.resolved]) {
    for (const r of map.values()) {
      if (passes(r, filters)) {
        rows.push(r);
      }
    }
  }
  return rows.sort(compareAlerts);
}

/**
 * lastOrder is sortFeed's previous answer, its default hint. Any list sorted by compareAlerts is a correct hint
 * (only its rows still in the feed are kept, in their order), so sharing it between callers costs nothing but
 * speed.
 */
let lastOrder: readonly AlertRow[] = [];

/**
 * sameSortKey tells whether two rows of one alert compare alike against every other row: they agree on every
 * field compareAlerts reads. Keep it in step with compareAlerts.
 */
function sameSortKey(a: AlertRow, b: AlertRow): boolean {
  return (
    a.key === b.key &&
    a.severity === b.severity &&
    a.state === b.state &&
    a.server === b.server &&
    a.name === b.name &&
    (a.resolvedAt ?? a.activeAt) === (b.resolvedAt ?? b.activeAt)
  );
}

/**
 * sortFeed returns all the feed's rows in display order, reusing `previous` (by default its last answer). A row
 * of `previous` keeps its place when the feed still holds it, or holds a new row for the same alert that sorts
 * alike (sameSortKey: only its value or summary changed, as every rule evaluation changes them); only the other
 * rows are sorted and inserted. A live update with 1,000 active alerts moves one or two: a few dozen comparisons
 * instead of ten thousand, each a collator call, even when every alert's value changed.
 */
export function sortFeed(feed: AlertFeed, previous: readonly AlertRow[] = lastOrder): AlertRow[] {
  const byKey = new Map<string, AlertRow>();
  for (const map of [feed.active, feed.resolved]) {
    for (const r of map.values()) {
      byKey.set(r.key, r);
    }
  }
  const kept: AlertRow[] = [];
  const placed = new Set<AlertRow>();
  for (const old of previous) {
    const r = byKey.get(old.key);
    if (r !== undefined && !placed.has(r) && (r === old || sameSortKey(old, r))) {
      kept.push(r);
      placed.add(r);
    }
  }
  const added: AlertRow[] = [];
  for (const map of [feed.active, feed.resolved]) {
    for (const r of map.values()) {
      if (!placed.has(r)) {
        added.push(r);
      }
    }
  }
  added.sort(compareAlerts);
  if (kept.length === 0) {
    lastOrder = added;
    return added;
  }
  for (const r of added) {
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareAlerts(kept[mid]!, r) <= 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    kept.splice(lo, 0, r);
  }
  lastOrder = kept;
  return kept;
}

/** filterAlerts keeps the rows of `sorted` that pass `filters`, in their order. */
export function filterAlerts(sorted: readonly AlertRow[], filters: AlertFilters = {}): AlertRow[] {
  return sorted.filter((r) => passes(r, filters));
}

/** AlertCounts are the feed's totals by state (before filters). */
export interface AlertCounts {
  firing: number;
  pending: number;
  resolved: number;
}

/** countAlerts counts the feed's rows by state. */
export function countAlerts(feed: AlertFeed): AlertCounts {
  let firing = 0;
  let pending = 0;
  for (const r of feed.active.values()) {
    if (r.state === 'firing') {
      firing++;
    } else {
      pending++;
    }
  }
  return { firing, pending, resolved: feed.resolved.size };
}

/** facetValues lists the severities and servers present in the feed (for filter choices), sorted. */
export function facetValues(feed: AlertFeed): { severities: string[]; servers: string[] } {
  const severities = new Set<string>();
  const servers = new Set<string>();
  for (const map of [feed.active, feed.resolved]) {
    for (const r of map.values()) {
      severities.add(r.severity);
      if (r.server) {
        servers.add(r.server);
      }
    }
  }
  return {
    severities: [...severities].sort((a, b) => rank(SEVERITY_ORDER, a) - rank(SEVERITY_ORDER, b) || TEXT.compare(a, b)),
    servers: [...servers].sort(NATURAL.compare),
  };
}

/** EmptyReason says why no alert shows: no alerting rule to fire, nothing fired, or filters hide everything. */
export type EmptyReason = 'no-rules' | 'quiet' | 'filtered';

/** whyEmpty picks the EmptyReason from the loaded rules, the feed's total and whether filters are set. */
export function whyEmpty(rules: readonly PromRuleGroup[] | undefined, total: number, filtered: boolean): EmptyReason {
  if (total > 0 && filtered) {
    return 'filtered';
  }
  return alertingRuleCount(rules) > 0 ? 'quiet' : 'no-rules';
}

/** alertingRuleCount counts the alerting (not recording) rules loaded. */
export function alertingRuleCount(rules: readonly PromRuleGroup[] | undefined): number {
  let n = 0;
  for (const g of rules ?? []) {
    for (const r of g.rules) {
      if (r.type === 'alerting') {
        n++;
      }
    }
  }
  return n;
}

/** latestEvaluation is the newest rule-group evaluation time (Unix ms), if any group was evaluated. */
export function latestEvaluation(groups: readonly PromRuleGroup[] | undefined): number | undefined {
  let latest: number | undefined;
  for (const g of groups ?? []) {
    const t = timeOrNull(g.lastEvaluation);
    if (t !== null && (latest === undefined || t > latest)) {
      latest = t;
    }
  }
  return latest;
}
