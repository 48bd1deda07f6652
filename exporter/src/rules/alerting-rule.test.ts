import { describe, expect, it } from 'vitest';
import { parseExpr } from '../promql/index.js';
import { AlertingRule, AlertsLimitError, RESOLVED_RETENTION_MS, type AlertState } from './alerting-rule.js';
import type { AlertingRuleSpec } from './rule-file.js';

const MIN = 60_000;

function rule(forMs: number, keepFiringForMs = 0): AlertingRule<string> {
  const spec: AlertingRuleSpec<string> = {
    kind: 'alert',
    name: 'HighCPU',
    expr: parseExpr('cpu > 80'),
    query: 'cpu > 80',
    labels: { severity: 'warning' },
    line: 1,
    forMs,
    keepFiringForMs,
    annotations: { summary: 's' },
    labelTemplates: { severity: 'warning' },
    annotationTemplates: { summary: 'busy' },
  };
  return new AlertingRule(spec);
}

/** plain expands templates to their text (the template engine has its own tests). */
const plain = (t: string): Promise<string> => Promise.resolve(t);

/** step evaluates at `ts` with `servers` returned by the expression (value 90) and returns each alert's state. */
async function step(
  r: AlertingRule<string>,
  ts: number,
  servers: string[],
): Promise<Record<string, AlertState>> {
  const c = await r.expand(
    servers.map((server) => ({ labels: { __name__: 'cpu', server }, value: 90 })),
    plain,
  );
  r.update(ts, c, 0);
  const out: Record<string, AlertState> = {};
  for (const a of r.active.values()) out[a.labels.server ?? ''] = a.state;
  return out;
}

describe('AlertingRule state machine', () => {
  it.each<[string, number, number, [number, string[], Record<string, AlertState>][]]>([
    [
      'pending until held for `for`, then firing, then resolved',
      5 * MIN,
      0,
      [
        [0, ['a'], { a: 'pending' }],
        [4 * MIN, ['a'], { a: 'pending' }],
        [5 * MIN, ['a'], { a: 'firing' }],
        [6 * MIN, [], { a: 'inactive' }],
      ],
    ],
    [
      'a pending alert that goes away is forgotten, not resolved',
      5 * MIN,
      0,
      [
        [0, ['a'], { a: 'pending' }],
        [MIN, [], {}],
        [2 * MIN, ['a'], { a: 'pending' }],
      ],
    ],
    ['for: 0 fires at once', 0, 0, [[0, ['a'], { a: 'firing' }]]],
    [
      'keep_firing_for holds a firing alert through a gap, then resolves',
      0,
      2 * MIN,
      [
        [0, ['a'], { a: 'firing' }],
        [MIN, [], { a: 'firing' }],
        [2 * MIN, [], { a: 'firing' }],
        [3 * MIN, [], { a: 'inactive' }],
      ],
    ],
    [
      'a resolved alert that comes back is a new pending alert',
      MIN,
      0,
      [
        [0, ['a'], { a: 'pending' }],
        [MIN, ['a'], { a: 'firing' }],
        [2 * MIN, [], { a: 'inactive' }],
        [3 * MIN, ['a'], { a: 'pending' }],
      ],
    ],
    [
      'alerts of different label sets are independent',
      MIN,
      0,
      [
        [0, ['a'], { a: 'pending' }],
        [MIN, ['a', 'b'], { a: 'firing', b: 'pending' }],
        [2 * MIN, ['b'], { a: 'inactive', b: 'firing' }],
      ],
    ],
  ])('%s', async (_name, forMs, keepMs, steps) => {
    const r = rule(forMs, keepMs);
    for (const [ts, servers, want] of steps)
      expect(await step(r, ts, servers), `at ${ts / MIN} min`).toEqual(want);
  });

  it('keeps a resolved alert 15 minutes, then drops it', async () => {
    const r = rule(0);
    await step(r, 0, ['a']);
    await step(r, MIN, []);
    expect(await step(r, MIN + RESOLVED_RETENTION_MS, [])).toEqual({ a: 'inactive' });
    expect(await step(r, 2 * MIN + RESOLVED_RETENTION_MS, [])).toEqual({});
  });

  it('writes ALERTS with alertstate and ALERTS_FOR_STATE with activeAt in seconds; reports transitions', async () => {
    const r = rule(MIN);
    const c = await r.expand([{ labels: { __name__: 'cpu', server: 'a' }, value: 91 }], plain);
    const first = r.update(30_000, c, 0);
    expect(first.samples).toEqual([
      {
        labels: {
          server: 'a',
          severity: 'warning',
          alertname: 'HighCPU',
          __name__: 'ALERTS',
          alertstate: 'pending',
        },
        value: 1,
      },
      {
        labels: { server: 'a', severity: 'warning', alertname: 'HighCPU', __name__: 'ALERTS_FOR_STATE' },
        value: 30,
      },
    ]);
    expect(first.transitions.map((t) => [t.from, t.to])).toEqual([[undefined, 'pending']]);
    const second = r.update(90_000, c, 0);
    expect(second.samples[0]?.labels.alertstate).toBe('firing');
    expect(second.transitions.map((t) => [t.from, t.to, t.alert.firedAt])).toEqual([
      ['pending', 'firing', 90_000],
    ]);
    const third = r.update(120_000, [], 0);
    expect(third.samples).toEqual([]);
    expect(third.transitions.map((t) => [t.from, t.to, t.alert.resolvedAt])).toEqual([
      ['firing', 'inactive', 120_000],
    ]);
  });

  it('drops __name__, lets rule labels override the result, and refuses duplicates after relabelling', async () => {
    const r = rule(0);
    const [c] = await r.expand(
      [{ labels: { __name__: 'cpu', server: 'a', severity: 'low' }, value: 1 }],
      plain,
    );
    expect(c?.labels).toEqual({ server: 'a', severity: 'warning', alertname: 'HighCPU' });
    await expect(
      r.expand(
        [
          { labels: { __name__: 'cpu', server: 'a', severity: 'x' }, value: 1 },
          { labels: { __name__: 'cpu', server: 'a', severity: 'y' }, value: 2 },
        ],
        plain,
      ),
    ).rejects.toThrow('vector contains metrics with the same labelset after applying alert labels');
  });

  it('fails past the limit and clears every alert, as Prometheus does', async () => {
    const r = rule(0);
    const c = await r.expand(
      ['a', 'b', 'c'].map((server) => ({ labels: { server }, value: 1 })),
      plain,
    );
    expect(() => r.update(0, c, 2)).toThrow(AlertsLimitError);
    expect(() => r.update(0, c, 2)).toThrow('exceeded limit of 2 with 3 alerts');
    expect(r.active.size).toBe(0);
    expect(r.update(0, c, 3).samples).toHaveLength(6);
  });
});
