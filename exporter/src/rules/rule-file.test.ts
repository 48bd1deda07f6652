import { describe, expect, it } from 'vitest';
import { parseRuleFile } from './rule-file.js';

/** compile stands in for the template engine: it rejects `{{ nope }}` like an unknown function. */
const compile = (name: string, text: string): string => {
  if (text.includes('{{ nope')) throw new Error(`template: ${name}:1: function "nope" not defined`);
  return text;
};

const GOOD = `groups:
  - name: cpu
    interval: 30s
    limit: 10
    rules:
      - record: server:cpu:avg
        expr: avg by (server) (cpu)
        labels:
          team: infra
      - alert: HighCPU
        expr: server:cpu:avg > 80
        for: 5m
        keep_firing_for: 1m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.server }} is busy"
  - name: empty
    rules: []
`;

describe('parseRuleFile', () => {
  it('reads groups and rules with their durations, limits, labels and compiled templates', async () => {
    const { groups, errors } = await parseRuleFile('cpu.yml', GOOD, compile);
    expect(errors).toEqual([]);
    expect(groups.map((g) => [g.name, g.intervalMs, g.limit, g.rules.length])).toEqual([
      ['cpu', 30_000, 10, 2],
      ['empty', undefined, 0, 0],
    ]);
    const [record, alert] = groups[0]!.rules;
    expect(record).toMatchObject({
      kind: 'record',
      name: 'server:cpu:avg',
      labels: { team: 'infra' },
      line: 6,
    });
    expect(alert).toMatchObject({
      kind: 'alert',
      name: 'HighCPU',
      forMs: 300_000,
      keepFiringForMs: 60_000,
      line: 10,
      annotationTemplates: { summary: '{{ $labels.server }} is busy' },
    });
  });

  it.each<[string, string, string]>([
    ['YAML syntax', 'groups:\n  - name: a\n    rules: [\n', 'cpu.yml:4:1: yaml: Flow sequence'],
    ['unknown field', 'groups:\n  - name: a\n    rulez: []\n', 'cpu.yml:3:5: field rulez not found'],
    [
      'repeated group',
      'groups:\n  - name: a\n  - name: a\n',
      'cpu.yml:3:11: groupname: "a" is repeated in the same file',
    ],
    [
      'bad expression',
      'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: rate(x[5m]\n',
      'cpu.yml:5:15: group "a", rule 1, "X": could not parse expression: ',
    ],
    [
      'range vector result',
      'groups:\n  - name: a\n    rules:\n      - record: y\n        expr: x[5m]\n',
      'expression must evaluate to a vector or a scalar, got matrix',
    ],
    [
      'both record and alert',
      'groups:\n  - name: a\n    rules:\n      - alert: X\n        record: y\n        expr: x\n',
      'cpu.yml:4:9: group "a", rule 1, "y": only one of \'record\' and \'alert\' must be set',
    ],
    [
      'neither record nor alert',
      'groups:\n  - name: a\n    rules:\n      - expr: x\n',
      "one of 'record' or 'alert' must be set",
    ],
    [
      'missing expr',
      'groups:\n  - name: a\n    rules:\n      - alert: X\n',
      "field 'expr' must be set in rule",
    ],
    [
      'bad duration',
      'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: x\n        for: 5 minutes\n',
      'cpu.yml:6:14: group "a", rule 1: not a valid duration',
    ],
    [
      'bad record name',
      'groups:\n  - name: a\n    rules:\n      - record: "not a name"\n        expr: x\n',
      'invalid recording rule name: not a name',
    ],
    [
      'annotations on a recording rule',
      'groups:\n  - name: a\n    rules:\n      - record: y\n        expr: x\n        annotations: {a: b}\n',
      "invalid field 'annotations' in recording rule",
    ],
    [
      'bad label name',
      'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: x\n        labels: {"a-b": c}\n',
      'invalid label name: a-b',
    ],
    [
      'unknown template function',
      'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: x\n        annotations:\n          summary: "{{ nope }}"\n',
      'cpu.yml:7:20: group "a", rule 1, "X": msg="error parsing template summary" err=template: __alert_X:1: function "nope" not defined',
    ],
  ])('rejects %s with file, line and reason', async (_name, text, message) => {
    const { groups, errors } = await parseRuleFile('cpu.yml', text, compile);
    expect(groups).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.message).toContain(message);
  });

  it('reports every error of a file, not only the first', async () => {
    const text =
      'groups:\n  - name: a\n    rules:\n      - alert: X\n      - record: "bad name"\n        expr: x\n';
    const { errors } = await parseRuleFile('f.yml', text, compile);
    expect(errors.map((e) => e.line)).toEqual([4, 5]);
  });

  it('accepts an empty file and a file without groups', async () => {
    expect(await parseRuleFile('e.yml', '', compile)).toEqual({ groups: [], errors: [] });
    expect(await parseRuleFile('e.yml', 'groups:\n', compile)).toEqual({ groups: [], errors: [] });
  });
});
