/**
 * The coverage report as terminal tables: one row per scenario kind (detection, time to fire, the alerts that
 * fired), one row per alerting rule (true fires, false alarms, flaps, kinds never caught), then the totals.
 */
import type { CoverageReport } from '../contract/coverage.js';

/** formatTable aligns rows under a header: the first column left, the rest right. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const secs = (v: number | null): string => (v === null ? '–' : `${Math.round(v)}`);
const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;

/** topAlerts lists a kind's alerts by how many scenarios they fired for, most first: "Name×n". */
function topAlerts(alerts: Readonly<Record<string, number>>, limit = 4): string {
  const list = Object.entries(alerts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown = list.slice(0, limit).map(([n, c]) => `${n}×${c}`);
  if (list.length > limit) shown.push(`+${list.length - limit}`);
  return shown.join(', ') || '–';
}

/** formatCoverageTable renders the report for a terminal. */
export function formatCoverageTable(report: CoverageReport): string {
  const kindRows = report.kinds.map((k) => [
    k.kind,
    String(k.scenarios),
    String(k.detected),
    String(k.misses),
    pct(k.detectionRate),
    secs(k.timeToFireS.median),
    secs(k.timeToFireS.p90),
    secs(k.timeToFireS.max),
    topAlerts(k.alerts) +
      (Object.keys(k.dependentAlerts).length > 0 ? `; dependents: ${topAlerts(k.dependentAlerts, 3)}` : ''),
  ]);
  const ruleRows = report.rules.map((r) => [
    r.alertname,
    String(r.trueFires),
    String(r.falseAlarms),
    String(r.flaps),
    Object.entries(r.caught)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k}×${n}`)
      .join(', ') || '–',
  ]);
  const s = report.summary;
  return [
    formatTable(
      [
        'scenario kind',
        'runs',
        'detected',
        'missed',
        'rate',
        'ttf p50 s',
        'p90 s',
        'max s',
        'alerts fired (scenarios)',
      ],
      kindRows,
    ),
    '',
    formatTable(['rule', 'true fires', 'false alarms', 'flaps', 'caught (scenarios per kind)'], ruleRows),
    '',
    `detection ${pct(s.detectionRate)} (${s.detected}/${s.scenarios} scenarios)` +
      (s.kindsMissed.length > 0 ? `, kinds never detected: ${s.kindsMissed.join(', ')}` : '') +
      `; false alarms ${s.falseAlarms} = ${s.falseAlarmsPerDay} per day over ${s.scoredDays} scored days ` +
      `(${s.simulatedDays} simulated, ${report.settings.servers} servers, seed ${report.settings.seed})`,
  ].join('\n');
}
