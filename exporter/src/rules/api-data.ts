/**
 * The `data` of `/api/v1/rules` and `/api/v1/alerts` in Prometheus's exact shapes (web/api/v1/api.go:
 * RuleGroup, AlertingRule, RecordingRule, Alert), so Grafana's Prometheus data source with
 * `manageAlerts: true`, promtool and any API client read the exporter's rules as they read Prometheus's.
 */
import { exprToString } from '../promql/index.js';
import type { Labels } from '../util/labels.js';
import { AlertingRule, type Alert } from './alerting-rule.js';
import type { RuleGroup, RuleStatus } from './group.js';

/** RuleFilters are `/rules`' query parameters (type, rule_name[], rule_group[], file[], exclude_alerts). */
export interface RuleFilters {
  readonly type?: 'alert' | 'record';
  readonly ruleNames?: readonly string[];
  readonly groupNames?: readonly string[];
  readonly files?: readonly string[];
  readonly excludeAlerts?: boolean;
}

/** ZERO_TIME is Go's zero time.Time in RFC 3339, what Prometheus shows for "never evaluated". */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** rfc3339 formats ms as Prometheus's JSON times (RFC 3339 with fractional seconds, UTC). */
export function rfc3339(ms: number | undefined): string {
  if (ms === undefined) return ZERO_TIME;
  return new Date(ms).toISOString();
}

/** goExponent formats a value as Go's strconv.FormatFloat(v, 'e', -1, 64) (the alerts' `value`). */
export function goExponent(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = v.toExponential(); // shortest round-trip digits, like Go's -1 precision
  const [mant, exp] = s.split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  const digits = exp.replace(/^[+-]/, '').padStart(2, '0');
  return `${mant}e${sign}${digits}`;
}

/** alertData is one alert as the API shows it. */
export function alertData(a: Alert): Record<string, unknown> {
  return {
    labels: sortedLabels(a.labels),
    annotations: sortedLabels(a.annotations),
    state: a.state,
    activeAt: rfc3339(a.activeAt),
    ...(a.keepFiringSince !== undefined ? { keepFiringSince: rfc3339(a.keepFiringSince) } : {}),
    value: goExponent(a.value),
  };
}

/** sortedLabels returns labels with keys in byte order (Prometheus's labels.Labels marshal sorted). */
function sortedLabels(l: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(l).sort()) out[k] = l[k] ?? '';
  return out;
}

function statusFields(s: RuleStatus): Record<string, unknown> {
  return {
    health: s.health,
    ...(s.lastError !== '' ? { lastError: s.lastError } : {}),
    evaluationTime: s.evaluationMs / 1000,
    lastEvaluation: rfc3339(s.lastEvaluation),
  };
}

/** rulesData is `/api/v1/rules`' data for the given groups and filters. */
export function rulesData<T>(groups: readonly RuleGroup<T>[], f: RuleFilters = {}): unknown {
  const out: unknown[] = [];
  for (const g of groups) {
    if (f.groupNames?.length && !f.groupNames.includes(g.spec.name)) continue;
    if (f.files?.length && !f.files.includes(g.spec.file)) continue;
    const rules: unknown[] = [];
    for (const r of g.rules) {
      const rule = r.rule;
      if (f.ruleNames?.length && !f.ruleNames.includes(rule.name)) continue;
      const isAlert = rule instanceof AlertingRule;
      if (f.type === 'alert' && !isAlert) continue;
      if (f.type === 'record' && isAlert) continue;
      const query = exprToString(rule.spec.expr);
      if (rule instanceof AlertingRule) {
        const alerts = [...rule.active.values()].filter((a) => a.state !== 'inactive');
        rules.push({
          state: rule.state(),
          name: rule.name,
          query,
          duration: rule.spec.forMs / 1000,
          keepFiringFor: rule.spec.keepFiringForMs / 1000,
          labels: sortedLabels(rule.spec.labels),
          annotations: sortedLabels(rule.spec.annotations),
          ...(f.excludeAlerts ? {} : { alerts: alerts.map(alertData) }),
          ...statusFields(r.status),
          type: 'alerting',
        });
      } else {
        rules.push({
          name: rule.name,
          query,
          labels: sortedLabels(rule.spec.labels),
          ...statusFields(r.status),
          type: 'recording',
        });
      }
    }
    // Filtering by rule name or type drops groups left without rules, as Prometheus does.
    if (rules.length === 0 && (f.ruleNames?.length || f.type)) continue;
    out.push({
      name: g.spec.name,
      file: g.spec.file,
      rules,
      interval: g.intervalMs / 1000,
      limit: g.spec.limit,
      evaluationTime: g.evaluationMs / 1000,
      lastEvaluation: rfc3339(g.lastEvaluation),
    });
  }
  return { groups: out };
}

/** alertsData is `/api/v1/alerts`' data: every pending and firing alert. */
export function alertsData(alerts: readonly { alert: Alert }[]): unknown {
  return { alerts: alerts.map((a) => alertData(a.alert)) };
}
