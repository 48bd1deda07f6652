/**
 * Label matchers for routing and silences, written as Alertmanager writes them: `severity="critical"`,
 * `server=~"web-.*"`, `team!=ops`, or a braced list `{severity="critical", team="db"}`. They are parsed by the
 * PromQL parser (the same grammar as a selector's matchers, so there is one matcher syntax in the exporter)
 * and compiled by the TSDB's matcher compiler (RE2, fully anchored; an absent label matches as "").
 */
import { parseExpr } from '../promql/index.js';
import { compileMatcher } from '../tsdb/index/matchers.js';
import type { Matcher } from '../tsdb/storage.js';
import type { Labels } from '../util/labels.js';

/** LabelMatcher is one parsed and compiled matcher. */
export interface LabelMatcher extends Matcher {
  /** matches tests a label set. */
  matches(labels: Labels): boolean;
}

/** MAX_MATCHER_TEXT bounds one matcher string (a configuration or API value, never a long text). */
const MAX_MATCHER_TEXT = 4_096;

const UNBRACED = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

/** compile turns a Matcher into a LabelMatcher; throws with the regex error for a bad pattern. */
export function compile(m: Matcher): LabelMatcher {
  const c = compileMatcher(m);
  return { type: m.type, name: m.name, value: m.value, matches: (labels) => c.matches(labels[m.name] ?? '') };
}

/**
 * parseMatchers parses one matcher or a braced list of them. Throws an Error saying what is wrong and how a
 * matcher is written.
 */
export function parseMatchers(text: string): LabelMatcher[] {
  const hint = 'write matchers as name="value", name!="value", name=~"regex" or name!~"regex"';
  if (text.length > MAX_MATCHER_TEXT) throw new Error(`matcher longer than ${MAX_MATCHER_TEXT} characters`);
  const trimmed = text.trim();
  let body: string;
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    body = trimmed.slice(1, -1);
  } else {
    const m = UNBRACED.exec(trimmed);
    if (!m) throw new Error(`cannot parse matcher ${JSON.stringify(text)}: ${hint}`);
    const [, name, op, value = ''] = m;
    const quoted = /^".*"$/s.test(value) || /^'.*'$/s.test(value) || /^`.*`$/s.test(value);
    body = `${name}${op}${quoted ? value : JSON.stringify(value)}`;
  }
  // A metric name in front lets selectors that match nothing non-empty (`team!="ops"`) through the parser.
  let expr;
  try {
    expr = parseExpr(`om_matchers{${body}}`);
  } catch (err) {
    throw new Error(`cannot parse matcher ${JSON.stringify(text)}: ${(err as Error).message}; ${hint}`);
  }
  if (expr.type !== 'VectorSelector' || expr.name !== 'om_matchers')
    throw new Error(`cannot parse matcher ${JSON.stringify(text)}: ${hint}`);
  return expr.matchers.filter((m) => m.name !== '__name__').map((m) => compile(m));
}

/** matchesAll tells whether every matcher matches `labels` (an empty list matches everything). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Labels): boolean {
  for (const m of matchers) if (!m.matches(labels)) return false;
  return true;
}

/** formatMatchers writes matchers as Alertmanager prints a route's (`{severity="critical"}`). */
export function formatMatchers(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(',')}}`;
}
