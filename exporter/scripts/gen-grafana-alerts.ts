/**
 * `npm run gen:grafana-alerts` writes provisioning/alerting/rules.yml: every alerting rule of the top-level
 * rules/*.yml as a Grafana-managed alert rule (Grafana's file-provisioning format), so Grafana alerts on the
 * same conditions as Prometheus and the exporter's rule manager. `--check` only compares and exits 1 when
 * the file differs from what the rule files give (exporter/test/grafana-alerts.test.ts runs the same check).
 *
 * The translation, per rule:
 * - The condition is split the way Grafana's rule editor builds one: each side of a comparison that is not
 *   a constant becomes an instant query (A, B, …) that returns the measured value for every series, and a
 *   math expression compares them (`$A > 80`; `and`/`or` of comparisons become `&&`/`||`). Prometheus keeps
 *   the series for which the comparison holds; Grafana fires the instances whose math result is non-zero.
 *   An expression that does not split that way (`unless`, `absent()`, vector matching with `on`) stays one
 *   query, and the condition is "A returned this series" — the form Grafana gives imported Prometheus rules.
 * - Rules that read `up` query the stack's Prometheus (only a scraping Prometheus has `up`); all others the
 *   exporter ("OpenManager", which also evaluates the recording rules the alerts read).
 * - `for`, labels and annotations are copied. Grafana's `$value` is a text listing every query, so
 *   `$value` becomes `$values.A.Value` (query A is the value Prometheus's `$value` holds). Grafana has no
 *   `query` template function: an annotation that uses it needs an entry in ANNOTATION_OVERRIDES.
 * - Grafana evaluates rule groups on a 10 s grid (its scheduler's base interval): groups run every 10 s,
 *   not Prometheus's 15 s.
 * - No data is OK (Prometheus: no series, no alert); a query error is Grafana's Error state, which fires a
 *   DatasourceError alert — what ExporterDown says when the exporter does not answer.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse, stringify } from 'yaml';
import { exprToString, parseExpr, walkExpr, type BinaryOp, type Expr } from '../src/promql/index.js';

/** REPO_ROOT is the repository's top level. */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** RULES_DIR holds the Prometheus rule files. */
export const RULES_DIR = join(REPO_ROOT, 'rules');

/** OUTPUT_FILE is the generated Grafana provisioning file. */
export const OUTPUT_FILE = join(REPO_ROOT, 'provisioning/alerting/rules.yml');

/** DATASOURCE_UIDS are the uids provisioning/datasources/openmanager.yml gives the two data sources. */
export const DATASOURCE_UIDS = { exporter: 'openmanager', prometheus: 'openmanager-prometheus' } as const;

/** EXPRESSION_UID is the pseudo data source of Grafana's server-side expressions (math, reduce, threshold). */
const EXPRESSION_UID = '__expr__';

/** FOLDER is the Grafana folder of the rules (the dashboards' folder too). */
const FOLDER = 'OpenManager';

/** GROUP_INTERVAL is the rule groups' evaluation interval: a multiple of Grafana's 10 s base interval. */
const GROUP_INTERVAL = '10s';

/** INSTANT_LOOKBACK_S is the relative time range of each instant query (Grafana's editor default: 10 min). */
const INSTANT_LOOKBACK_S = 600;

/** UID_PREFIX makes the rule uids (Grafana: at most 40 characters, letters, digits, - and _). */
const UID_PREFIX = 'om-';

/**
 * ANNOTATION_OVERRIDES replace annotations Grafana cannot evaluate (its templates have no `query`
 * function), keyed by alert name, then annotation name.
 */
const ANNOTATION_OVERRIDES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // Query B is 2.5 times the day's median p99: the baseline the Prometheus text fetches with `query`.
  HighHTTPLatency: {
    description:
      'p99 latency on {{ $labels.server }} is {{ $values.A.Value | humanizeDuration }}, more than 2.5 times its median over the last day (2.5 times that median: {{ $values.B.Value | humanizeDuration }}).',
  },
};

/** COMPARISONS maps PromQL's comparison operators to Grafana math's. */
const COMPARISONS: Partial<Record<BinaryOp, string>> = {
  '>': '>',
  '<': '<',
  '>=': '>=',
  '<=': '<=',
  '==': '==',
  '!=': '!=',
};

interface PromRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface PromGroup {
  name: string;
  rules: PromRule[];
}

/** GrafanaQuery is one entry of a Grafana rule's `data`. */
interface GrafanaQuery {
  refId: string;
  relativeTimeRange: { from: number; to: number };
  datasourceUid: string;
  model: Record<string, unknown>;
}

/** Condition is a rule expression split into instant queries and the math expression over them. */
export interface Condition {
  readonly queries: readonly string[];
  readonly math: string;
}

const refId = (i: number): string => String.fromCharCode('A'.charCodeAt(0) + i);

const unwrap = (e: Expr): Expr => (e.type === 'ParenExpr' ? unwrap(e.expr) : e);

/** constantValue evaluates `e` when it is a number or arithmetic on numbers only (math inlines it). */
function constantValue(e: Expr): number | undefined {
  switch (e.type) {
    case 'NumberLiteral':
      return e.value;
    case 'ParenExpr':
      return constantValue(e.expr);
    case 'UnaryExpr': {
      const v = constantValue(e.expr);
      return v === undefined ? undefined : e.op === '-' ? -v : v;
    }
    case 'BinaryExpr': {
      const l = constantValue(e.lhs);
      const r = constantValue(e.rhs);
      if (l === undefined || r === undefined) return undefined;
      const arithmetic: Partial<Record<BinaryOp, (a: number, b: number) => number>> = {
        '+': (a, b) => a + b,
        '-': (a, b) => a - b,
        '*': (a, b) => a * b,
        '/': (a, b) => a / b,
      };
      return arithmetic[e.op]?.(l, r);
    }
    default:
      return undefined;
  }
}

/**
 * splitCondition splits a PromQL alert expression into instant queries and a Grafana math condition, or
 * returns the expression as one query with the condition "A returned a value" when it does not split.
 */
export function splitCondition(expr: string): Condition {
  const queries: string[] = [];
  const operand = (e: Expr): string => {
    const constant = constantValue(e);
    if (constant !== undefined) return String(constant);
    queries.push(exprToString(unwrap(e)));
    return `$${refId(queries.length - 1)}`;
  };
  const split = (e: Expr): string | undefined => {
    const n = unwrap(e);
    if (n.type !== 'BinaryExpr') return undefined;
    const cmp = COMPARISONS[n.op];
    if (cmp !== undefined && !n.returnBool) {
      if (n.matching !== undefined && (n.matching.on || n.matching.labels.length > 0)) return undefined;
      if (constantValue(n.lhs) !== undefined && constantValue(n.rhs) !== undefined) return undefined;
      return `${operand(n.lhs)} ${cmp} ${operand(n.rhs)}`;
    }
    if (
      (n.op === 'and' || n.op === 'or') &&
      n.matching !== undefined &&
      !n.matching.on &&
      n.matching.labels.length === 0
    ) {
      const l = split(n.lhs);
      const r = l === undefined ? undefined : split(n.rhs);
      return l === undefined || r === undefined ? undefined : `(${l}) ${n.op === 'and' ? '&&' : '||'} (${r})`;
    }
    return undefined;
  };
  const math = split(parseExpr(expr));
  if (math !== undefined) return { queries, math };
  // Grafana's own form for an imported Prometheus rule: every series the expression returns fires.
  return { queries: [exprToString(parseExpr(expr))], math: 'is_number($A) || is_nan($A) || is_inf($A)' };
}

/** readsUp tells whether an expression selects the `up` series only a scraping Prometheus has. */
function readsUp(expr: string): boolean {
  let found = false;
  walkExpr(parseExpr(expr), (n) => {
    if (n.type === 'VectorSelector' && n.name === 'up') found = true;
  });
  return found;
}

/** grafanaTemplate turns a Prometheus annotation template into Grafana's, or throws naming what is missing. */
function grafanaTemplate(alert: string, key: string, text: string): string {
  const override = ANNOTATION_OVERRIDES[alert]?.[key];
  if (override !== undefined) return override;
  if (/\bquery\b/.test(text.replace(/"[^"]*"/g, '')))
    throw new Error(
      `${alert}: annotation ${key} uses the template function "query", which Grafana lacks; ` +
        'add its Grafana text to ANNOTATION_OVERRIDES in scripts/gen-grafana-alerts.ts',
    );
  return text.replace(/\$value\b/g, '$values.A.Value');
}

/** grafanaRule translates one Prometheus alerting rule. */
function grafanaRule(rule: PromRule & { alert: string }): Record<string, unknown> {
  const { queries, math } = splitCondition(rule.expr);
  const datasourceUid = readsUp(rule.expr) ? DATASOURCE_UIDS.prometheus : DATASOURCE_UIDS.exporter;
  const condition = refId(queries.length);
  const data: GrafanaQuery[] = queries.map((q, i) => ({
    refId: refId(i),
    relativeTimeRange: { from: INSTANT_LOOKBACK_S, to: 0 },
    datasourceUid,
    model: {
      refId: refId(i),
      expr: q,
      instant: true,
      range: false,
      editorMode: 'code',
      legendFormat: '__auto',
    },
  }));
  data.push({
    refId: condition,
    relativeTimeRange: { from: 0, to: 0 },
    datasourceUid: EXPRESSION_UID,
    model: {
      refId: condition,
      type: 'math',
      expression: math,
      datasource: { type: EXPRESSION_UID, uid: EXPRESSION_UID },
    },
  });
  const annotations = Object.fromEntries(
    Object.entries(rule.annotations ?? {}).map(([k, v]) => [k, grafanaTemplate(rule.alert, k, v)]),
  );
  return {
    uid: `${UID_PREFIX}${rule.alert.toLowerCase()}`,
    title: rule.alert,
    condition,
    data,
    noDataState: 'OK',
    execErrState: 'Error',
    for: rule.for ?? '0s',
    ...(rule.keep_firing_for !== undefined ? { keepFiringFor: rule.keep_firing_for } : {}),
    annotations,
    labels: rule.labels ?? {},
    isPaused: false,
  };
}

/**
 * generateGrafanaAlerts returns the text of provisioning/alerting/rules.yml for the rule files in `rulesDir`,
 * formatted by the repository's prettier settings (the file is checked by prettier like every other).
 */
export async function generateGrafanaAlerts(rulesDir = RULES_DIR): Promise<string> {
  const files = readdirSync(rulesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const groups: Record<string, unknown>[] = [];
  const uids = new Map<string, string>();
  for (const file of files) {
    const doc = parse(readFileSync(join(rulesDir, file), 'utf8')) as { groups?: PromGroup[] };
    for (const g of doc.groups ?? []) {
      const alerts = g.rules.filter((r): r is PromRule & { alert: string } => r.alert !== undefined);
      if (alerts.length === 0) continue;
      const rules = alerts.map((r) => {
        const rule = grafanaRule(r);
        const uid = rule.uid as string;
        const seen = uids.get(uid);
        if (seen !== undefined)
          throw new Error(`alert ${r.alert} in ${file} has the uid ${uid} of one in ${seen}`);
        uids.set(uid, file);
        return rule;
      });
      groups.push({ orgId: 1, name: g.name, folder: FOLDER, interval: GROUP_INTERVAL, rules });
    }
  }
  const header = [
    '# Generated by `npm run gen:grafana-alerts` from rules/*.yml (exporter/scripts/gen-grafana-alerts.ts says',
    '# how each rule is translated). Do not edit: change the rule files and run it again.',
    '',
  ].join('\n');
  const text = header + stringify({ apiVersion: 1, groups }, { lineWidth: 0 });
  return format(text, { ...(await resolveConfig(OUTPUT_FILE)), filepath: OUTPUT_FILE });
}

async function main(argv: readonly string[]): Promise<void> {
  const text = await generateGrafanaAlerts();
  if (argv.includes('--check')) {
    if (readFileSync(OUTPUT_FILE, 'utf8') !== text) {
      console.error(`${OUTPUT_FILE} is out of date with rules/: run npm run gen:grafana-alerts`);
      process.exit(1);
    }
    console.log(`${OUTPUT_FILE} is up to date`);
    return;
  }
  writeFileSync(OUTPUT_FILE, text);
  console.log(`wrote ${OUTPUT_FILE}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main(process.argv.slice(2));
