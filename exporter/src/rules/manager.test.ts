import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../promql/index.js';
import { EmbeddedStorage } from '../tsdb/embedded/embedded-storage.js';
import { ManualClock } from '../util/clock.js';
import { STALE_NAN, isStaleNaN } from '../util/stale-marker.js';
import { silentLogger } from '../util/logger.js';
import { GO_TEMPLATES } from './go-templates.js';
import { RuleManager, dependencyOrder } from './manager.js';
import { createRuleMetrics } from './rule-metrics.js';
import type { CompiledTemplate } from './template.js';

const STEP = 15_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);

// Alphabetically first, but reads what the recording group (b.yml) writes.
const ALERTS = `groups:
  - name: cpu
    rules:
      - alert: HighCPU
        expr: server:cpu:avg > 80
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.server }} at {{ $value }}%"
`;
const RECORDING = `groups:
  - name: cpu-recording
    rules:
      - record: server:cpu:avg
        expr: avg by (server) (cpu)
`;

interface Setup {
  dir: string;
  store: EmbeddedStorage;
  clock: ManualClock;
  registry: Registry;
  manager: RuleManager<CompiledTemplate>;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(
  files: Record<string, string>,
  store?: EmbeddedStorage,
  replayChunkSteps?: number,
): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'om-rules-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const s = store ?? (await EmbeddedStorage.open());
  const clock = new ManualClock(T0);
  const registry = new Registry();
  const manager = new RuleManager(
    {
      ruleFiles: ['*.yml'],
      cwd: dir,
      evaluationIntervalMs: STEP,
      externalLabels: {},
      externalURL: () => 'http://exporter.test',
      watch: false,
      ...(replayChunkSteps !== undefined && { replayChunkSteps }),
    },
    {
      engine: new Engine(),
      storage: s,
      clock,
      logger: silentLogger(),
      metrics: createRuleMetrics(registry),
      templates: GO_TEMPLATES,
    },
  );
  return { dir, store: s, clock, registry, manager };
}

/** load appends `cpu{server}` = `value(t)` every step in [from, to]. */
async function load(
  store: EmbeddedStorage,
  from: number,
  to: number,
  value: (t: number) => number,
): Promise<void> {
  const app = store.appender();
  for (let t = from; t <= to; t += STEP) app.append(0, { __name__: 'cpu', server: 'a' }, t, value(t));
  await app.commit();
}

describe('RuleManager', () => {
  it('replays history with recording groups first, so alerts on recorded series fire as live', async () => {
    const s = await setup({ 'a.yml': ALERTS, 'b.yml': RECORDING });
    expect(await s.manager.reload()).toMatchObject({ ok: true, groups: 2, rules: 2 });
    expect(dependencyOrder(s.manager.loadedGroups()).map((g) => g.spec.name)).toEqual([
      'cpu-recording',
      'cpu',
    ]);
    await load(s.store, T0, T0 + 30 * MIN, () => 90);
    await s.manager.replay(T0, T0 + 30 * MIN);
    const [alert] = s.manager.alerts();
    expect(alert?.alert).toMatchObject({
      state: 'firing',
      // The recording exists from the first step on, so the alert is active from the first step after T0.
      activeAt: T0 + STEP,
      firedAt: T0 + STEP + 5 * MIN,
      annotations: { summary: 'a at 90%' },
    });
    const q = await s.store.querier(T0, T0 + 30 * MIN);
    const firing = await q.select([
      { type: '=', name: '__name__', value: 'ALERTS' },
      { type: '=', name: 'alertstate', value: 'firing' },
    ]);
    expect(firing[0]?.timestamps[0]).toBe(T0 + STEP + 5 * MIN);
  });

  it('replays the same series and alert states whatever the size of its range queries', async () => {
    // CPU crosses 80 back and forth, so the alert goes pending, fires and resolves inside chunks and across
    // their edges; 7 steps a chunk puts an edge every 105 s, the default one chunk for the whole half hour.
    const cpu = (t: number): number => 70 + 20 * Math.sin((t - T0) / (4 * MIN));
    const stored = async (replayChunkSteps?: number): Promise<unknown> => {
      const s = await setup({ 'a.yml': ALERTS, 'b.yml': RECORDING }, undefined, replayChunkSteps);
      await s.manager.reload();
      await load(s.store, T0 - 10 * MIN, T0 + 60 * MIN, cpu);
      await s.manager.replay(T0, T0 + 60 * MIN);
      const q = await s.store.querier(T0, T0 + 60 * MIN);
      const series = await q.select([{ type: '=~', name: '__name__', value: 'ALERTS.*|server:cpu:avg' }]);
      return {
        series: series.map((x) => ({ labels: x.labels, ts: [...x.timestamps], vs: [...x.values] })),
        alerts: s.manager.alerts().map((a) => a.alert),
      };
    };
    const whole = await stored();
    expect(JSON.stringify(whole)).toContain('"alertstate":"firing"');
    expect(await stored(7)).toEqual(whole);
  });

  it('replays in the background while frames arrive, evaluating every slot once, in order, then goes live', async () => {
    const s = await setup({ 'b.yml': RECORDING });
    await s.manager.reload();
    await load(s.store, T0, T0 + 30 * MIN, () => 50);
    let storedUpTo = T0 + 30 * MIN;
    const caughtUp = s.manager.replayInBackground(T0, () => storedUpTo);
    // Frames stored while the first round runs: their live ticks are left to the replay.
    await load(s.store, T0 + 30 * MIN + STEP, T0 + 35 * MIN, () => 60);
    storedUpTo = T0 + 35 * MIN;
    await s.manager.tick(T0 + 35 * MIN);
    await caughtUp;
    await load(s.store, T0 + 35 * MIN + STEP, T0 + 35 * MIN + STEP, () => 70);
    await s.manager.tick(T0 + 35 * MIN + STEP);

    const q = await s.store.querier(T0, T0 + 40 * MIN);
    const [rec] = await q.select([{ type: '=', name: '__name__', value: 'server:cpu:avg' }]);
    const expected = Array.from({ length: (35 * MIN) / STEP + 1 }, (_, i) => T0 + (i + 1) * STEP);
    expect([...(rec?.timestamps ?? [])]).toEqual(expected);
    expect(rec?.values.at(-1)).toBe(70);
    expect(rec?.values.at(-2)).toBe(60);
  });

  it("live ticks: a group reading what another group records sees this slot's recording, as replay does", async () => {
    const s = await setup({ 'a.yml': ALERTS, 'b.yml': RECORDING });
    await s.manager.reload();
    // A different value at every step, so the alert's $value says which slot's recording it read.
    const value = (t: number): number => 81 + (t - T0) / STEP;
    await load(s.store, T0, T0 + 20 * STEP, value);
    const read: string[] = [];
    const want: string[] = [];
    for (let t = T0; t <= T0 + 20 * STEP; t += STEP) {
      await s.manager.tick(t);
      read.push(s.manager.alerts()[0]?.alert.annotations.summary ?? 'no alert');
      want.push(`a at ${value(t)}%`);
    }
    expect(read).toEqual(want);
    expect(s.manager.alerts()[0]?.alert).toMatchObject({ activeAt: T0, firedAt: T0 + 5 * MIN });
  });

  it("live ticks: a template's query answers from each slot's samples, as a fresh query does", async () => {
    // The query string is parsed once and its windows kept from one evaluation to the next: an answer left
    // over from an earlier slot, or another alert's string, would differ from a fresh engine's.
    const files = {
      'a.yml': `groups:
  - name: cpu
    rules:
      - alert: Busy
        expr: cpu >= 0
        annotations:
          median: '{{ with printf "quantile_over_time(0.5, cpu{server=%q}[1h])" $labels.server | query }}{{ . | first | value }}{{ end }}'
`,
    };
    const s = await setup(files);
    await s.manager.reload();
    // A rising median with noise on top, so every slot's answer differs from the previous slot's.
    const value = (t: number, server: string): number => {
      const k = (t - T0) / STEP;
      return k + ((k * k) % 13) + (server === 'a' ? 0 : 1000);
    };
    const end = T0 + 2 * 60 * MIN;
    const app = s.store.appender();
    for (let t = T0; t <= end; t += STEP)
      for (const server of ['a', 'b']) app.append(0, { __name__: 'cpu', server }, t, value(t, server));
    await app.commit();
    const fresh = new Engine();
    for (let t = T0 + 60 * MIN; t <= end; t += STEP) {
      await s.manager.tick(t);
      for (const server of ['a', 'b']) {
        const got = s.manager.alerts().find((a) => a.alert.labels.server === server)?.alert.annotations;
        const res = await fresh.instantQuery(
          s.store,
          `quantile_over_time(0.5, cpu{server="${server}"}[1h])`,
          t,
          {},
        );
        const want = res.result.resultType === 'vector' ? res.result.result[0]?.v : undefined;
        expect(got?.median).toBe(String(want));
      }
    }
  });

  it('live ticks: two groups reading each other’s recordings both evaluate (no deadlock)', async () => {
    const s = await setup({
      'a.yml':
        'groups:\n  - name: a\n    rules:\n      - record: from_a\n        expr: vector(1) + sum(from_b)\n',
      'b.yml':
        'groups:\n  - name: b\n    rules:\n      - record: from_b\n        expr: vector(1) + sum(from_a)\n',
    });
    await s.manager.reload();
    for (let t = T0; t <= T0 + 3 * STEP; t += STEP) await s.manager.tick(t);
    expect(s.manager.loadedGroups().map((g) => [g.spec.name, g.lastEvaluation])).toEqual([
      ['a', T0 + 3 * STEP],
      ['b', T0 + 3 * STEP],
    ]);
  });

  it('restores for-state after a restart: an alert that fired fires again at once, a pending one keeps its time', async () => {
    const first = await setup({ 'a.yml': ALERTS, 'b.yml': RECORDING });
    await first.manager.reload();
    await load(first.store, T0, T0 + 20 * MIN, () => 90);
    await first.manager.replay(T0, T0 + 20 * MIN);
    expect(first.manager.alerts()[0]?.alert.state).toBe('firing');
    // A new manager over the same store (the process restarted): no history replayed, only the restore.
    const second = await setup({ 'a.yml': ALERTS, 'b.yml': RECORDING }, first.store);
    await second.manager.reload();
    await load(second.store, T0 + 20 * MIN + STEP, T0 + 22 * MIN, () => 90);
    await second.manager.restoreForState(T0 + 22 * MIN);
    second.clock.set(T0 + 22 * MIN + STEP);
    await second.manager.tick();
    expect(second.manager.alerts()[0]?.alert).toMatchObject({ state: 'firing', activeAt: T0 + STEP });
  });

  it('keeps the running rules when a reload finds a bad file, and says where and why', async () => {
    const s = await setup({ 'a.yml': ALERTS, 'b.yml': RECORDING });
    await s.manager.reload();
    writeFileSync(join(s.dir, 'a.yml'), ALERTS.replace('server:cpu:avg > 80', 'server:cpu:avg >'));
    const bad = await s.manager.reload();
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.errors[0]?.message).toMatch(
        /^a\.yml:5:15: group "cpu", rule 1, "HighCPU": could not parse expression/,
      );
    expect(s.manager.loadedGroups().map((g) => g.spec.name)).toEqual(['cpu', 'cpu-recording']);
    expect(await s.registry.metrics()).toMatch(/^openmanager_rules_last_reload_successful 0$/m);
    writeFileSync(join(s.dir, 'a.yml'), ALERTS);
    expect((await s.manager.reload()).ok).toBe(true);
    expect(await s.registry.metrics()).toMatch(/^openmanager_rules_last_reload_successful 1$/m);
  });

  it('isolates failures: an evaluation error marks its rule and leaves the others and the group running', async () => {
    const s = await setup({
      'a.yml': `groups:
  - name: g
    limit: 1
    rules:
      - record: too_many
        expr: cpu or label_replace(cpu, "server", "b", "", "")
      - record: fine
        expr: count(cpu)
`,
    });
    await s.manager.reload();
    await load(s.store, T0, T0 + MIN, () => 1);
    s.clock.set(T0 + MIN);
    await s.manager.tick();
    const [g] = s.manager.loadedGroups();
    expect(g?.rules.map((r) => [r.rule.name, r.status.health, r.status.lastError])).toEqual([
      ['too_many', 'err', 'exceeded limit of 1 with 2 series'],
      ['fine', 'ok', ''],
    ]);
    expect(await s.registry.metrics()).toMatch(
      /^prometheus_rule_evaluation_failures_total\{rule_group="a\.yml;g"\} 1$/m,
    );
  });

  it('live ticks: a recording follows its inputs round after round as series leave and come back', async () => {
    // Outputs and their series refs are kept from one round to the next: what is written must still be
    // each round's own result, a staleness marker when a series goes, and the same series when it returns.
    const s = await setup({ 'b.yml': RECORDING });
    await s.manager.reload();
    const present = (t: number, server: string): boolean =>
      server === 'a' || (t - T0) / STEP < 3 || (t - T0) / STEP > 6;
    const value = (t: number, server: string): number => (t - T0) / STEP + (server === 'a' ? 0 : 100);
    for (let t = T0; t <= T0 + 10 * STEP; t += STEP) {
      const app = s.store.appender();
      for (const server of ['a', 'b'])
        app.append(0, { __name__: 'cpu', server }, t, present(t, server) ? value(t, server) : STALE_NAN);
      await app.commit();
      await s.manager.tick(t);
    }
    const q = await s.store.querier(T0, T0 + 10 * STEP);
    const rec = await q.select([{ type: '=', name: '__name__', value: 'server:cpu:avg' }]);
    const got = rec.map((r) => ({
      server: r.labels.server,
      samples: [...r.timestamps].map((t, i) => {
        const v = r.values[i] as number;
        return [(t - T0) / STEP, isStaleNaN(v) ? 'stale' : v];
      }),
    }));
    const want = (server: string): (number | string)[][] => {
      const out: (number | string)[][] = [];
      for (let k = 0; k <= 10; k++) {
        const t = T0 + k * STEP;
        if (present(t, server)) out.push([k, value(t, server)]);
        else if (present(t - STEP, server)) out.push([k, 'stale']);
      }
      return out;
    };
    expect(got).toEqual([
      { server: 'a', samples: want('a') },
      { server: 'b', samples: want('b') },
    ]);
  });

  it('counts a slot missed while the process stalled', async () => {
    const s = await setup({ 'b.yml': RECORDING });
    await s.manager.reload();
    s.clock.set(T0);
    await s.manager.tick();
    s.clock.set(T0 + 4 * STEP);
    await s.manager.tick();
    expect(await s.registry.metrics()).toMatch(
      /^prometheus_rule_group_iterations_missed_total\{rule_group="b\.yml;cpu-recording"\} 3$/m,
    );
  });

  it('evaluates a group of 10,000 rules without holding the event loop; other groups are unaffected', async () => {
    const many = ['groups:', '  - name: many', '    rules:'];
    for (let i = 0; i < 10_000; i++) many.push(`      - record: r_${i}`, `        expr: vector(${i})`);
    const s = await setup({ 'many.yml': many.join('\n') + '\n', 'b.yml': RECORDING });
    expect(await s.manager.reload()).toMatchObject({ ok: true, rules: 10_001 });
    await load(s.store, T0, T0 + MIN, () => 90);
    s.clock.set(T0 + MIN);
    let turns = 0;
    const count = (): void => {
      turns++;
      if (turns < 1_000) setImmediate(count);
    };
    setImmediate(count);
    await s.manager.tick();
    // The loop ran in between (each turn re-queues itself once), and every rule of both groups ran.
    expect(turns).toBeGreaterThan(1);
    const groups = s.manager.loadedGroups();
    expect(groups.every((g) => g.rules.every((r) => r.status.health === 'ok'))).toBe(true);
    const q = await s.store.querier(T0, T0 + MIN);
    expect(await q.series([{ type: '=', name: '__name__', value: 'r_9999' }])).toHaveLength(1);
  }, 60_000);

  it.each([
    ['the group limit', 'limit: 1000', {}, 'exceeded limit of 1000 with 100000 series'],
    ['the query sample budget', '', { maxSamples: 50_000 }, 'query processing would load too many samples'],
  ])(
    'a rule producing 100,000 series hits %s, and the other groups go on',
    async (_name, limit, engineOptions, error) => {
      const s = await setup({
        'big.yml': `groups:\n  - name: big\n    ${limit}\n    rules:\n      - record: copy\n        expr: big\n`,
        'b.yml': RECORDING,
      });
      const manager = new RuleManager(s.manager.options, {
        engine: new Engine(engineOptions),
        storage: s.store,
        clock: s.clock,
        logger: silentLogger(),
        metrics: createRuleMetrics(new Registry()),
        templates: GO_TEMPLATES,
      });
      await manager.reload();
      const app = s.store.appender();
      for (let i = 0; i < 100_000; i++) app.append(0, { __name__: 'big', i: String(i) }, T0, 1);
      await app.commit();
      await load(s.store, T0, T0 + MIN, () => 90);
      s.clock.set(T0 + MIN);
      await manager.tick();
      const byName = new Map(manager.loadedGroups().map((g) => [g.spec.name, g]));
      const big = byName.get('big');
      const rec = byName.get('cpu-recording');
      expect(big?.rules[0]?.status.health).toBe('err');
      expect(big?.rules[0]?.status.lastError).toContain(error);
      expect(rec?.rules[0]?.status.health).toBe('ok');
    },
    60_000,
  );
});
