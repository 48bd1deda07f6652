/**
 * Rule files in Prometheus's format (`rulefmt`: groups of recording and alerting rules), read and checked the
 * way `promtool check rules` checks them, so a file the exporter accepts also loads in Prometheus and the
 * other way round. Every problem is reported with the file, line and column of the offending node and a
 * reason in Prometheus's words (`group "cpu", rule 2, "HighCPU": could not parse expression: …`).
 *
 * Loading never half-succeeds: a file with any error yields no groups, and the caller keeps what it had.
 */
import { LineCounter, isMap, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import type { Expr } from '../promql/index.js';
import { parseExpr, typeOf } from '../promql/index.js';
import { parseDuration } from '../util/duration.js';
import { LABEL_NAME_RE, METRIC_NAME_RE } from '../util/labels.js';
import { Pacer } from '../util/pacer.js';

/** RuleFileError is one problem in a rule file: where it is and what is wrong. */
export class RuleFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = 'RuleFileError';
  }
}

/** TemplateCheck compiles one template at load time; it throws (with a message) when the template is invalid. */
export type TemplateCheck<T> = (name: string, text: string) => T;

/** RuleCommon is what recording and alerting rules share. */
interface RuleCommon {
  readonly name: string;
  readonly expr: Expr;
  /** query is the expression as written in the file (the API shows it). */
  readonly query: string;
  /** labels are the rule's labels as written (alerting rules may template their values). */
  readonly labels: Readonly<Record<string, string>>;
  /** line is where the rule starts in its file. */
  readonly line: number;
}

/** RecordingRuleSpec is a `record:` rule. */
export interface RecordingRuleSpec extends RuleCommon {
  readonly kind: 'record';
}

/** AlertingRuleSpec is an `alert:` rule with its compiled templates. */
export interface AlertingRuleSpec<T> extends RuleCommon {
  readonly kind: 'alert';
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly annotations: Readonly<Record<string, string>>;
  /** labelTemplates and annotationTemplates are compiled once, at load. */
  readonly labelTemplates: Readonly<Record<string, T>>;
  readonly annotationTemplates: Readonly<Record<string, T>>;
}

/** RuleSpec is one rule of a group. */
export type RuleSpec<T> = RecordingRuleSpec | AlertingRuleSpec<T>;

/** GroupSpec is one group: its rules are evaluated in order, at one timestamp, every interval. */
export interface GroupSpec<T> {
  readonly name: string;
  readonly file: string;
  /** intervalMs is the group's own interval, or undefined for the global evaluation interval. */
  readonly intervalMs: number | undefined;
  /** limit bounds the alerts (or recorded series) a rule may produce; 0 = none. */
  readonly limit: number;
  /** queryOffsetMs evaluates the rules' queries this much in the past (late-arriving samples). */
  readonly queryOffsetMs: number;
  readonly rules: readonly RuleSpec<T>[];
}

const durationText = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'not a valid duration (use Prometheus durations such as 30s, 5m, 1h30m)',
});
const stringMap = z.record(z.string(), z.string());

// The shapes promtool accepts; `.strict()` rejects unknown fields as Go's strict YAML decoding does.
const RULE_SCHEMA = z
  .object({
    record: z.string().optional(),
    alert: z.string().optional(),
    expr: z.union([z.string(), z.number()]).optional(),
    for: durationText.optional(),
    keep_firing_for: durationText.optional(),
    labels: stringMap.nullable().optional(),
    annotations: stringMap.nullable().optional(),
  })
  .strict();
const GROUP_SCHEMA = z
  .object({
    name: z.string(),
    interval: durationText.optional(),
    limit: z.number().int().min(0).optional(),
    query_offset: durationText.optional(),
    rules: z.array(z.unknown()).nullable().optional(),
  })
  .strict();
const FILE_SCHEMA = z.object({ groups: z.array(z.unknown()).nullable().optional() }).strict();

type Path = readonly (string | number)[];

/** Located is a parsed document and a way to place any of its paths in the file. */
class Located {
  private readonly lines = new LineCounter();
  readonly doc: Document;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
  }

  /** error builds a RuleFileError at the node of `path` (or its nearest existing parent). */
  error(path: Path, reason: string, useKey = false): RuleFileError {
    for (let p = [...path]; ; p = p.slice(0, -1)) {
      const node = this.nodeAt(p, useKey);
      if (node?.range) {
        const pos = this.lines.linePos(node.range[0]);
        return new RuleFileError(this.file, pos.line, pos.col, reason);
      }
      if (p.length === 0) return new RuleFileError(this.file, 1, 1, reason);
    }
  }

  private nodeAt(path: Path, useKey: boolean): Node | undefined {
    if (path.length === 0) return this.doc.contents ?? undefined;
    if (useKey) {
      const parent = this.doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === path.at(-1));
        if (pair?.key && typeof pair.key === 'object') return pair.key as Node;
      }
    }
    const n: unknown = this.doc.getIn(path, true);
    return n && typeof n === 'object' && 'range' in n ? (n as Node) : undefined;
  }

  /** position turns a character offset into a line and column. */
  position(offset: number): { line: number; col: number } {
    return this.lines.linePos(offset);
  }

  /** lineOf returns the line a path's node starts on. */
  lineOf(path: Path): number {
    return this.error(path, '').line;
  }
}

/** issuePath is where in the file a zod issue points: an unknown field points at its own key. */
function issuePath(base: Path, issue: z.core.$ZodIssue): Path {
  const p: Path = [...base, ...(issue.path as Path)];
  return issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...p, issue.keys[0]] : p;
}

/** zodReason words a zod issue the way a rule author reads it. */
function zodReason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `field ${issue.keys.join(', ')} not found in this object`;
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  return issue.message;
}

/**
 * parseRuleFile reads one rule file's text. Templates are compiled with `compile` (its errors become rule
 * errors); every problem found is returned, and groups only when there is none.
 */
export async function parseRuleFile<T>(
  file: string,
  text: string,
  compile: TemplateCheck<T>,
): Promise<{ groups: GroupSpec<T>[]; errors: RuleFileError[] }> {
  // A file of thousands of rules takes a while to parse: give the event loop a turn between rules.
  const pacer = new Pacer();
  const loc = new Located(file, text);
  const errors: RuleFileError[] = [];
  for (const e of loc.doc.errors) {
    const pos = loc.position(e.pos[0]);
    errors.push(new RuleFileError(file, pos.line, pos.col, `yaml: ${e.message.split('\n')[0] ?? e.message}`));
  }
  if (errors.length > 0) return { groups: [], errors };
  const root: unknown = loc.doc.toJS();
  if (root === null || root === undefined) return { groups: [], errors };
  const top = FILE_SCHEMA.safeParse(root);
  if (!top.success) {
    for (const issue of top.error.issues)
      errors.push(loc.error(issuePath([], issue), zodReason(issue), issue.code === 'unrecognized_keys'));
    return { groups: [], errors };
  }
  const groups: GroupSpec<T>[] = [];
  const seen = new Set<string>();
  for (const [gi, rawGroup] of (top.data.groups ?? []).entries()) {
    const gPath: Path = ['groups', gi];
    const g = GROUP_SCHEMA.safeParse(rawGroup);
    if (!g.success) {
      for (const issue of g.error.issues)
        errors.push(loc.error(issuePath(gPath, issue), zodReason(issue), issue.code === 'unrecognized_keys'));
      continue;
    }
    const name = g.data.name;
    if (name === '') errors.push(loc.error([...gPath, 'name'], 'groupname must not be empty'));
    else if (seen.has(name))
      errors.push(loc.error([...gPath, 'name'], `groupname: "${name}" is repeated in the same file`));
    seen.add(name);
    const rules: RuleSpec<T>[] = [];
    for (const [ri, rawRule] of (g.data.rules ?? []).entries()) {
      const rule = parseRule(loc, [...gPath, 'rules', ri], name, ri, rawRule, compile, errors);
      if (rule) rules.push(rule);
      await pacer.pace();
    }
    groups.push({
      name,
      file,
      intervalMs: g.data.interval === undefined ? undefined : parseDuration(g.data.interval),
      limit: g.data.limit ?? 0,
      queryOffsetMs: g.data.query_offset === undefined ? 0 : (parseDuration(g.data.query_offset) ?? 0),
      rules,
    });
  }
  if (errors.length > 0) return { groups: [], errors };
  return { groups, errors };
}

/** parseRule checks one rule node; problems go to `errors` and the rule is then undefined. */
function parseRule<T>(
  loc: Located,
  path: Path,
  group: string,
  index: number,
  raw: unknown,
  compile: TemplateCheck<T>,
  errors: RuleFileError[],
): RuleSpec<T> | undefined {
  const parsed = RULE_SCHEMA.safeParse(raw);
  const where = (name: string | undefined): string =>
    `group "${group}", rule ${index + 1}${name ? `, "${name}"` : ''}`;
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      errors.push(
        loc.error(
          issuePath(path, issue),
          `${where(undefined)}: ${zodReason(issue)}`,
          issue.code === 'unrecognized_keys',
        ),
      );
    return undefined;
  }
  const r = parsed.data;
  const name = r.record ?? r.alert;
  const fail = (field: string | undefined, reason: string): undefined => {
    errors.push(loc.error(field ? [...path, field] : path, `${where(name)}: ${reason}`));
    return undefined;
  };
  if (r.record !== undefined && r.alert !== undefined)
    return fail(undefined, "only one of 'record' and 'alert' must be set");
  if (r.record === undefined && r.alert === undefined)
    return fail(undefined, "one of 'record' or 'alert' must be set");
  const query = r.expr === undefined ? '' : String(r.expr);
  if (query.trim() === '') return fail('expr', "field 'expr' must be set in rule");
  let expr: Expr;
  try {
    expr = parseExpr(query);
  } catch (err) {
    return fail('expr', `could not parse expression: ${(err as Error).message}`);
  }
  const t = typeOf(expr);
  if (t !== 'vector' && t !== 'scalar')
    return fail('expr', `expression must evaluate to a vector or a scalar, got ${t}`);
  const labels = r.labels ?? {};
  for (const l of Object.keys(labels)) {
    if (!LABEL_NAME_RE.test(l)) return fail('labels', `invalid label name: ${l}`);
    if (l === '__name__' && r.alert !== undefined) return fail('labels', 'invalid label name: __name__');
  }
  const line = loc.lineOf(path);
  if (r.record !== undefined) {
    if (!METRIC_NAME_RE.test(r.record)) return fail('record', `invalid recording rule name: ${r.record}`);
    if (r.annotations) return fail('annotations', "invalid field 'annotations' in recording rule");
    if (r.for !== undefined) return fail('for', "invalid field 'for' in recording rule");
    if (r.keep_firing_for !== undefined)
      return fail('keep_firing_for', "invalid field 'keep_firing_for' in recording rule");
    return { kind: 'record', name: r.record, expr, query, labels, line };
  }
  const alert = r.alert ?? '';
  if (alert === '') return fail('alert', 'invalid field "alert": the alert name must not be empty');
  const annotations = r.annotations ?? {};
  for (const a of Object.keys(annotations))
    if (!LABEL_NAME_RE.test(a)) return fail('annotations', `invalid annotation name: ${a}`);
  const labelTemplates: Record<string, T> = {};
  const annotationTemplates: Record<string, T> = {};
  for (const [field, source, into] of [
    ['labels', labels, labelTemplates],
    ['annotations', annotations, annotationTemplates],
  ] as const) {
    for (const [k, text] of Object.entries(source)) {
      try {
        into[k] = compile(`__alert_${alert}`, text);
      } catch (err) {
        const reason = `msg=${JSON.stringify(`error parsing template ${k}`)} err=${(err as Error).message}`;
        errors.push(loc.error([...path, field, k], `${where(alert)}: ${reason}`));
        return undefined;
      }
    }
  }
  return {
    kind: 'alert',
    name: alert,
    expr,
    query,
    labels,
    line,
    forMs: r.for === undefined ? 0 : (parseDuration(r.for) ?? 0),
    keepFiringForMs: r.keep_firing_for === undefined ? 0 : (parseDuration(r.keep_firing_for) ?? 0),
    annotations,
    labelTemplates,
    annotationTemplates,
  };
}
