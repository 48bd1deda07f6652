/**
 * The Prometheus rule files in the top-level `rules/` directory, checked with the real promtool: the files
 * load (`promtool check rules`, and the exporter's own rule-file parser), their unit tests pass
 * (`promtool test rules`), and every alert carries what on-call needs (severity, summary, description, a
 * runbook_url whose anchor is a heading of rules/README.md), is exercised by a unit test, and templates its
 * annotations with the function subset that Prometheus, the exporter's rule manager and Grafana-managed
 * rules all understand.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseRuleFile } from '../src/rules/rule-file.js';
import { compileTemplate } from '../src/rules/template.js';
import { findBinary } from '../scripts/stack/peer-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RULES_DIR = join(ROOT, 'rules');
const TESTS_DIR = join(RULES_DIR, 'tests');

/** RUNBOOK_BASE is the one address every runbook_url starts with; the anchor names the alert. */
const RUNBOOK_BASE = 'https://github.com/openmanager/openmanager/blob/main/rules/README.md';

const SEVERITIES = ['warning', 'critical'];

/**
 * TEMPLATE_FUNCTIONS is the template subset rule files keep to, so an annotation reads the same from
 * Prometheus 2.42, the exporter's template engine and the Grafana-managed rules generated from these files.
 * `with`/`end` are the control words a `query` needs to skip an empty result.
 */
const TEMPLATE_FUNCTIONS = new Set([
  'humanize',
  'humanize1024',
  'humanizeDuration',
  'humanizePercentage',
  'printf',
  'title',
  'toUpper',
  'toLower',
  'query',
  'first',
  'value',
  'label',
  'with',
  'end',
]);

/** TEMPLATE_VARIABLES are the variables Prometheus defines for alert templates. */
const TEMPLATE_VARIABLES = new Set(['labels', 'value', 'externalLabels']);

/** MAX_QUERY_TEMPLATES bounds `query` in templates: each one is a query per alert per evaluation. */
const MAX_QUERY_TEMPLATES = 2;

const ruleSchema = z.union([
  z.object({
    alert: z.string(),
    expr: z.string(),
    for: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  z.object({ record: z.string(), expr: z.string(), labels: z.record(z.string(), z.string()).optional() }),
]);
const ruleFileSchema = z.object({
  groups: z.array(
    z.object({ name: z.string(), interval: z.string().optional(), rules: z.array(ruleSchema) }),
  ),
});
type Rule = z.infer<typeof ruleSchema>;
type AlertRule = Extract<Rule, { alert: string }>;

const testFileSchema = z.object({
  rule_files: z.array(z.string()),
  tests: z.array(
    z.object({
      alert_rule_test: z
        .array(z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()).nullish() }))
        .optional(),
      promql_expr_test: z.array(z.object({ expr: z.string() })).optional(),
    }),
  ),
});

/** promtool returns promtool's path, or throws naming the package that provides it. */
function promtool(): string {
  const path = findBinary('promtool');
  if (!path) {
    throw new Error(
      'promtool is not on PATH: install Prometheus (Debian: apt-get install -y prometheus) to test rules/',
    );
  }
  return path;
}

/** runPromtool runs promtool from the repository root; output is returned for failure messages. */
function runPromtool(args: string[]): { status: number | null; output: string } {
  const res = spawnSync(promtool(), args, { cwd: ROOT, encoding: 'utf8', timeout: 50_000 });
  if (res.error) throw res.error;
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

const ruleFiles = readdirSync(RULES_DIR)
  .filter((f) => f.endsWith('.yml'))
  .sort();
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.test.yml'))
  .sort();

const parsedRules = ruleFiles.map((file) => ({
  file,
  content: ruleFileSchema.parse(parse(readFileSync(join(RULES_DIR, file), 'utf8'))),
}));
const parsedTests = testFiles.map((file) => ({
  file,
  content: testFileSchema.parse(parse(readFileSync(join(TESTS_DIR, file), 'utf8'))),
}));

const alerts: { file: string; rule: AlertRule }[] = parsedRules.flatMap(({ file, content }) =>
  content.groups.flatMap((g) => g.rules.flatMap((rule) => ('alert' in rule ? [{ file, rule }] : []))),
);
const records: string[] = parsedRules.flatMap(({ content }) =>
  content.groups.flatMap((g) => g.rules.flatMap((rule) => ('record' in rule ? [rule.record] : []))),
);

/** githubAnchor is the anchor GitHub gives a Markdown heading: lower case, punctuation dropped, '-' for spaces. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

const readme = readFileSync(join(RULES_DIR, 'README.md'), 'utf8');
const anchors = new Set(
  readme
    .split('\n')
    .map((line) => /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)?.[1])
    .filter((h): h is string => h !== undefined)
    .map(githubAnchor),
);

/** templateProblems lists the variables and functions of `text`'s {{ }} actions outside the subset. */
function templateProblems(text: string): string[] {
  const problems: string[] = [];
  for (const action of text.matchAll(/\{\{-?(.*?)-?\}\}/gs)) {
    // String literals (printf formats, query texts) are data, not template code.
    const code = (action[1] ?? '').replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, '""');
    for (const m of code.matchAll(/\$([A-Za-z_]\w*)?/g)) {
      if (!TEMPLATE_VARIABLES.has(m[1] ?? '')) problems.push(`variable $${m[1] ?? ''}`);
    }
    // Identifiers not preceded by `$` or `.` (those are variables and fields) are functions or keywords.
    for (const m of code.matchAll(/(?<![$.\w])([A-Za-z_]\w*)/g)) {
      if (!TEMPLATE_FUNCTIONS.has(m[1] ?? '')) problems.push(`function ${m[1] ?? ''}`);
    }
  }
  return problems;
}

describe('rules/ with promtool', () => {
  it('finds the rule files and their tests', () => {
    expect(ruleFiles).toEqual(
      expect.arrayContaining([
        'cpu_alerts.yml',
        'memory_alerts.yml',
        'disk_alerts.yml',
        'recording_rules.yml',
      ]),
    );
    expect(alerts.length).toBeGreaterThan(0);
    expect(testFiles.length).toBeGreaterThan(0);
  });

  it('passes promtool check rules', () => {
    const res = runPromtool(['check', 'rules', ...ruleFiles.map((f) => `rules/${f}`)]);
    expect(res.status, res.output).toBe(0);
  });

  it('passes promtool test rules', () => {
    const res = runPromtool(['test', 'rules', ...testFiles.map((f) => `rules/tests/${f}`)]);
    expect(res.status, res.output).toBe(0);
    // promtool prints SUCCESS per file; a file that ran no test would still exit 0.
    expect(res.output.match(/SUCCESS/g)?.length, res.output).toBe(testFiles.length);
  });

  it("loads every file in the exporter's rule manager too (same parser checks, same templates)", async () => {
    const parsedFiles = await Promise.all(
      ruleFiles.map(async (file) => ({
        file,
        ...(await parseRuleFile(
          `rules/${file}`,
          readFileSync(join(RULES_DIR, file), 'utf8'),
          compileTemplate,
        )),
      })),
    );
    const problems = parsedFiles.flatMap(({ file, groups, errors }) => {
      const expected = parsedRules.find((p) => p.file === file)?.content.groups.length;
      return [
        ...errors.map((e) => e.message),
        ...(groups.length === expected
          ? []
          : [`rules/${file}: ${groups.length} groups, expected ${expected}`]),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('has a unit test file loading each rule file', () => {
    const loaded = new Set(
      parsedTests.flatMap(({ content }) => content.rule_files.map((f) => f.replace(/^\.\.\//, ''))),
    );
    expect(ruleFiles.filter((f) => !loaded.has(f))).toEqual([]);
  });

  it('tests every alert firing and every recording rule', () => {
    const fired = new Set(
      parsedTests.flatMap(({ content }) =>
        content.tests.flatMap((t) =>
          (t.alert_rule_test ?? []).filter((a) => (a.exp_alerts ?? []).length > 0).map((a) => a.alertname),
        ),
      ),
    );
    const exprs = parsedTests.flatMap(({ content }) =>
      content.tests.flatMap((t) => (t.promql_expr_test ?? []).map((p) => p.expr)),
    );
    expect(alerts.map((a) => a.rule.alert).filter((name) => !fired.has(name))).toEqual([]);
    const mentions = (expr: string, name: string): boolean =>
      new RegExp(`(^|[^\\w:])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w:])`).test(expr);
    expect(records.filter((r) => !exprs.some((e) => mentions(e, r)))).toEqual([]);
  });

  it('gives every alert a severity, summary, description and a runbook section', () => {
    const problems: string[] = [];
    for (const { file, rule } of alerts) {
      const where = `${file}: ${rule.alert}`;
      const severity = rule.labels?.severity;
      if (!severity || !SEVERITIES.includes(severity)) problems.push(`${where}: severity "${severity}"`);
      for (const key of ['summary', 'description', 'runbook_url']) {
        if (!rule.annotations?.[key]?.trim()) problems.push(`${where}: no ${key}`);
      }
      const url = rule.annotations?.runbook_url ?? '';
      const expected = `${RUNBOOK_BASE}#${rule.alert.toLowerCase()}`;
      if (url !== expected) problems.push(`${where}: runbook_url ${url}, expected ${expected}`);
      if (!anchors.has(rule.alert.toLowerCase()))
        problems.push(`${where}: rules/README.md has no heading "${rule.alert}"`);
    }
    expect(problems).toEqual([]);
  });

  it('names each alert once', () => {
    const names = alerts.map((a) => a.rule.alert);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('templates with the common function subset only', () => {
    const problems: string[] = [];
    let queries = 0;
    for (const { file, rule } of alerts) {
      for (const [key, text] of Object.entries({ ...rule.labels, ...rule.annotations })) {
        for (const p of templateProblems(text)) problems.push(`${file}: ${rule.alert} ${key}: ${p}`);
        queries += (text.match(/\|\s*query\b|\bquery\s+"/g) ?? []).length;
      }
    }
    expect(problems).toEqual([]);
    expect(queries).toBeLessThanOrEqual(MAX_QUERY_TEMPLATES);
  });

  it('rejects templates outside the subset (the checker itself)', () => {
    expect(templateProblems('{{ $labels.server }} {{ $value | humanizePercentage }}')).toEqual([]);
    expect(templateProblems('{{ printf "%.1f and reReplaceAll" $value }}')).toEqual([]);
    expect(templateProblems('{{ $value | humanizeTimestamp }}')).toEqual(['function humanizeTimestamp']);
    expect(templateProblems('{{ if gt $value 1.0 }}x{{ end }}')).toEqual(['function if', 'function gt']);
    expect(templateProblems('{{ $foo }}')).toEqual(['variable $foo']);
  });
});
