/**
 * The storage contract suite: one set of behaviours every backend must show, run by each backend's test
 * file (`runStorageContract({ name, create, reopen })`). It covers appends, out-of-order and duplicate
 * rejection, matchers (table-driven, empty-matching and anchoring included), select windows,
 * labelNames/labelValues/series with matchers and time range, select's sample budget and deadline, rollup
 * tier reads checked against values
 * computed from the raw samples, retention, bit-exact stale markers and reopening.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Labels } from '../src/util/labels.js';
import { STALE_NAN } from '../src/util/stale-marker.js';
import { rollupFromSamples } from '../src/tsdb/rollup.js';
import {
  TIER_WIDTH_MS,
  type Matcher,
  type RollupAggregate,
  type SeriesData,
  type Storage,
  type Tier,
} from '../src/tsdb/storage.js';

/** StorageContractFactory makes stores for the suite. */
export interface StorageContractFactory {
  readonly name: string;
  /** create opens a fresh, empty store. */
  create(): Promise<Storage>;
  /** reopen closes `s` and opens the same store again; omit when the backend cannot persist. */
  reopen?(s: Storage): Promise<Storage>;
}

const SCRATCH = new Float64Array(1);
const SCRATCH_BITS = new BigUint64Array(SCRATCH.buffer);

/**
 * bitsOf returns the IEEE-754 bits of `v`. Through a typed array: V8 canonicalises NaNs stored in plain
 * arrays (`[v]`), which would hide exactly the payload loss this suite looks for.
 */
export function bitsOf(v: number): bigint {
  SCRATCH[0] = v;
  return SCRATCH_BITS[0] ?? 0n;
}

/** fromBits builds float values from IEEE-754 bit patterns (NaN payloads intact). */
export function fromBits(bits: readonly bigint[]): Float64Array {
  return new Float64Array(BigUint64Array.from(bits).buffer);
}

const M = (name: string, type: Matcher['type'], value: string): Matcher => ({ name, type, value });
const T0 = Date.UTC(2026, 0, 5); // a Monday, aligned to every tier and chunk span
const STEP = 15_000;
const H = 3_600_000;

/** FIXTURE is the series set the matcher table runs on. */
const FIXTURE: Labels[] = [
  { __name__: 'cpu', server: 'web-1', mode: 'user' },
  { __name__: 'cpu', server: 'web-2', mode: 'system' },
  { __name__: 'cpu', server: 'db-1' },
  { __name__: 'mem', server: 'web-1' },
  { __name__: 'mem', server: 'db-10', env: 'prod' },
];

/** key renders a label set for comparisons. */
const key = (l: Labels) => `${l.__name__}{${l.server}}`;

/** runStorageContract registers the suite for one backend. */
export function runStorageContract(f: StorageContractFactory): void {
  describe(`storage contract: ${f.name}`, () => {
    const open: Storage[] = [];
    const create = async () => {
      const s = await f.create();
      open.push(s);
      return s;
    };
    const reopen = async (s: Storage) => {
      if (!f.reopen) throw new Error('no reopen');
      const r = await f.reopen(s);
      open.push(r);
      return r;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
    });

    async function loadFixture(s: Storage, n = 4): Promise<void> {
      const app = s.appender();
      FIXTURE.forEach((labels, k) => {
        for (let i = 0; i < n; i++) app.append(0, labels, T0 + i * STEP, k * 100 + i);
      });
      await app.commit();
    }

    async function selectAll(s: Storage, ms: Matcher[], mint = T0, maxt = T0 + H): Promise<SeriesData[]> {
      const q = await s.querier(mint, maxt);
      return q.select(ms, { start: mint, end: maxt });
    }

    it('appends, acknowledges and reads back samples in time order', async () => {
      const s = await create();
      expect(await s.lastTimestamp()).toBeUndefined();
      await loadFixture(s);
      const got = await selectAll(s, [M('__name__', '=', 'cpu'), M('server', '=', 'web-2')]);
      expect(got).toHaveLength(1);
      expect(got[0]?.labels).toEqual({ __name__: 'cpu', server: 'web-2', mode: 'system' });
      expect(Array.from(got[0]?.timestamps ?? [])).toEqual([0, 1, 2, 3].map((i) => T0 + i * STEP));
      expect(Array.from(got[0]?.values ?? [])).toEqual([100, 101, 102, 103]);
      expect(await s.lastTimestamp()).toBe(T0 + 3 * STEP);
      expect(s.health()).toMatchObject({ ok: true, series: 5 });
    });

    it('reuses the ref append returns and resolves ref 0 from labels', async () => {
      const s = await create();
      const app = s.appender();
      const ref = app.append(0, { __name__: 'x' }, T0, 1);
      expect(ref).toBeGreaterThan(0);
      expect(app.append(ref, { __name__: 'x' }, T0 + 1, 2)).toBe(ref);
      expect(app.append(0, { __name__: 'x' }, T0 + 2, 3)).toBe(ref);
      expect(await app.commit()).toEqual({ appended: 3, outOfOrder: 0, duplicate: 0 });
    });

    it('rejects out-of-order and duplicate samples, within a batch and across commits', async () => {
      const s = await create();
      const l = { __name__: 'x' };
      let app = s.appender();
      app.append(0, l, T0 + 2000, 1);
      app.append(0, l, T0 + 2000, 2); // duplicate in the same batch
      app.append(0, l, T0 + 1000, 3); // out of order in the same batch
      expect(await app.commit()).toEqual({ appended: 1, outOfOrder: 1, duplicate: 1 });
      app = s.appender();
      app.append(0, l, T0 + 2000, 4);
      app.append(0, l, T0 + 1500, 5);
      app.append(0, l, T0 + 3000, 6);
      expect(await app.commit()).toEqual({ appended: 1, outOfOrder: 1, duplicate: 1 });
      const got = await selectAll(s, [M('__name__', '=', 'x')]);
      expect(Array.from(got[0]?.values ?? [])).toEqual([1, 6]);
    });

    it('applies a large interleaved batch per series, rejecting within-series disorder', async () => {
      const s = await create();
      const app = s.appender();
      const n = 3000; // several thousand samples: large batches may be applied grouped by series
      for (let i = 0; i < n; i++) {
        for (const name of ['a', 'b', 'c']) {
          app.append(0, { __name__: name }, T0 + i * STEP, i);
          if (name === 'b' && i % 100 === 50) app.append(0, { __name__: name }, T0 + i * STEP, -1); // duplicate
          if (name === 'c' && i % 100 === 60) app.append(0, { __name__: name }, T0, -1); // out of order
        }
      }
      expect(await app.commit()).toEqual({ appended: 3 * n, outOfOrder: 30, duplicate: 30 });
      const got = await selectAll(s, [M('__name__', '=~', 'a|b|c')], T0, T0 + n * STEP);
      expect(got).toHaveLength(3);
      for (const d of got) {
        expect(d.values.length).toBe(n);
        expect(d.values.every((v, i) => v === i)).toBe(true);
      }
    });

    it('makes nothing visible after rollback', async () => {
      const s = await create();
      const app = s.appender();
      app.append(0, { __name__: 'x' }, T0, 1);
      app.rollback();
      expect(await selectAll(s, [M('__name__', '=', 'x')])).toEqual([]);
    });

    const matcherCases: { name: string; ms: Matcher[]; want: string[] }[] = [
      { name: '=', ms: [M('__name__', '=', 'mem')], want: ['mem{db-10}', 'mem{web-1}'] },
      {
        name: '!= is a set difference',
        ms: [M('__name__', '=', 'cpu'), M('mode', '!=', 'user')],
        want: ['cpu{db-1}', 'cpu{web-2}'],
      },
      {
        name: '="" selects series lacking the label',
        ms: [M('__name__', '=', 'cpu'), M('mode', '=', '')],
        want: ['cpu{db-1}'],
      },
      { name: '!="" selects series having it', ms: [M('env', '!=', '')], want: ['mem{db-10}'] },
      { name: '=~ is anchored', ms: [M('server', '=~', 'db-1')], want: ['cpu{db-1}'] },
      { name: '=~ prefix', ms: [M('server', '=~', 'db.*')], want: ['cpu{db-1}', 'mem{db-10}'] },
      { name: '=~ alternation', ms: [M('server', '=~', 'web-2|db-10')], want: ['cpu{web-2}', 'mem{db-10}'] },
      {
        name: '=~ matching "" keeps series lacking it',
        ms: [M('__name__', '=', 'cpu'), M('mode', '=~', 'user|')],
        want: ['cpu{db-1}', 'cpu{web-1}'],
      },
      {
        name: '!~ anchored',
        ms: [M('__name__', '=', 'cpu'), M('server', '!~', 'web')],
        want: ['cpu{db-1}', 'cpu{web-1}', 'cpu{web-2}'],
      },
      {
        name: '!~',
        ms: [M('__name__', '=~', '.+'), M('server', '!~', 'web-.*')],
        want: ['cpu{db-1}', 'mem{db-10}'],
      },
      { name: '!~ "" needs the label', ms: [M('mode', '!~', '')], want: ['cpu{web-1}', 'cpu{web-2}'] },
      { name: 'no match', ms: [M('__name__', '=', 'nope')], want: [] },
    ];
    it.each(matcherCases)('matcher: $name', async ({ ms, want }) => {
      const s = await create();
      await loadFixture(s);
      const got = (await selectAll(s, ms)).map((d) => key(d.labels)).sort();
      expect(got).toEqual(want);
      const q = await s.querier(T0, T0 + H);
      expect((await q.series(ms)).map(key).sort()).toEqual(want);
    });

    it('bounds select by the querier window and the hints, inclusively', async () => {
      const s = await create();
      await loadFixture(s, 10);
      const ms = [M('__name__', '=', 'mem'), M('server', '=', 'web-1')];
      const q = await s.querier(T0 + 2 * STEP, T0 + 7 * STEP);
      const a = await q.select(ms, { start: T0, end: T0 + 100 * STEP });
      expect(Array.from(a[0]?.values ?? [])).toEqual([302, 303, 304, 305, 306, 307]);
      const b = await q.select(ms, { start: T0 + 4 * STEP, end: T0 + 5 * STEP });
      expect(Array.from(b[0]?.values ?? [])).toEqual([304, 305]);
      expect(await q.select(ms, { start: T0 + 7 * STEP + 1, end: T0 + 9 * STEP })).toEqual([]);
    });

    it('streams through selectEach exactly what select returns', async () => {
      const s = await create();
      await loadFixture(s, 10);
      const q = await s.querier(T0 + 2 * STEP, T0 + 7 * STEP);
      if (!q.selectEach) return;
      for (const hints of [
        { start: T0, end: T0 + 100 * STEP },
        { start: T0 + 4 * STEP, end: T0 + 5 * STEP },
      ]) {
        const all = [M('__name__', '=~', '.+')];
        const streamed: { labels: Labels; timestamps: number[]; values: number[] }[] = [];
        await q.selectEach(all, hints, (labels, ts, vs, n) =>
          streamed.push({
            labels,
            timestamps: Array.from(ts.subarray(0, n)),
            values: Array.from(vs.subarray(0, n)),
          }),
        );
        const selected = (await q.select(all, hints)).map((d) => ({
          labels: d.labels,
          timestamps: Array.from(d.timestamps),
          values: Array.from(d.values),
        }));
        expect(streamed).toEqual(selected);
        expect(streamed.length).toBeGreaterThan(0);
      }
    });

    it('stops a select past its sample budget or deadline with a typed error', async () => {
      const s = await create();
      await loadFixture(s, 10);
      const q = await s.querier(T0, T0 + H);
      const all = [M('__name__', '=~', '.+')];
      const total = (await q.select(all, { start: T0, end: T0 + H })).reduce(
        (n, d) => n + d.values.length,
        0,
      );
      expect(total).toBeGreaterThan(10);
      expect((await q.select(all, { start: T0, end: T0 + H, maxSamples: total })).length).toBeGreaterThan(0);
      await expect(q.select(all, { start: T0, end: T0 + H, maxSamples: total - 1 })).rejects.toMatchObject({
        code: 'TSDB_TOO_MANY_SAMPLES',
      });
      await expect(
        q.select(all, { start: T0, end: T0 + H, deadline: performance.now() - 1 }),
      ).rejects.toMatchObject({ code: 'TSDB_ABORTED' });
    });

    it('lists label names, values and series with matchers and time range', async () => {
      const s = await create();
      await loadFixture(s);
      const app = s.appender();
      app.append(0, { __name__: 'late', server: 'web-9', zone: 'b' }, T0 + 10 * H, 1);
      await app.commit();
      const all = await s.querier(T0, T0 + 11 * H);
      expect(await all.labelNames()).toEqual(['__name__', 'env', 'mode', 'server', 'zone']);
      expect(await all.labelValues('server')).toEqual(['db-1', 'db-10', 'web-1', 'web-2', 'web-9']);
      expect(await all.labelNames([M('__name__', '=', 'mem')])).toEqual(['__name__', 'env', 'server']);
      expect(await all.labelValues('mode', [M('server', '=~', 'web.*')])).toEqual(['system', 'user']);
      const early = await s.querier(T0, T0 + H);
      expect(await early.labelNames()).toEqual(['__name__', 'env', 'mode', 'server']);
      expect(await early.labelValues('server', [M('__name__', '=~', 'late|mem')])).toEqual([
        'db-10',
        'web-1',
      ]);
      const late = await s.querier(T0 + 9 * H, T0 + 11 * H);
      expect((await late.series([M('server', '=~', '.+')])).map(key)).toEqual(['late{web-9}']);
    });

    it('stores stale markers and special floats bit-exactly', async () => {
      const s = await create();
      const valBits = [
        0x7ff0000000000002n, // stale marker
        0x7ff8000000000001n, // quiet NaN with payload
        0xfff0000000000001n, // negative signalling NaN
        0x8000000000000000n, // -0
        0x7ff0000000000000n, // +Inf
        0xfff0000000000000n, // -Inf
        0x0000000000000001n, // smallest subnormal
        0x3fb999999999999an, // 0.1
      ];
      const vals = fromBits(valBits);
      const app = s.appender();
      vals.forEach((v, i) => app.append(0, { __name__: 'special' }, T0 + i * STEP, v));
      await app.commit();
      // Enough more samples to push the first ones into a cut chunk.
      const app2 = s.appender();
      for (let i = vals.length; i < 1000; i++) app2.append(0, { __name__: 'special' }, T0 + i * STEP, i);
      await app2.commit();
      const got = await selectAll(s, [M('__name__', '=', 'special')], T0, T0 + 1000 * STEP);
      const v = got[0]?.values ?? new Float64Array();
      expect(v.length).toBe(1000);
      expect(Array.from(v.subarray(0, vals.length), bitsOf)).toEqual(valBits);
      expect(bitsOf(v[0] ?? 0)).toBe(0x7ff0000000000002n);
    });

    it('serves rollup tiers that agree with aggregates computed from the raw samples', async () => {
      const s = await create();
      const l = { __name__: 'requests_total', server: 'web-1' };
      const n = (7 * H) / STEP; // crosses several 1m/5m rollup chunk spans and two 1h buckets
      const ts: number[] = [];
      const vs: number[] = [];
      let c = 1000;
      const app = s.appender();
      for (let i = 0; i < n; i++) {
        c = i === 700 || i === 1300 ? 4 : c + ((i * 7919) % 13); // two counter resets
        const v = i % 97 === 96 ? STALE_NAN : c;
        ts.push(T0 + i * STEP + 1000);
        vs.push(v);
        app.append(0, l, T0 + i * STEP + 1000, v);
      }
      await app.commit();
      const raw = await selectAll(s, [M('__name__', '=', 'requests_total')], T0, T0 + 8 * H);
      expect(raw[0]?.values.length).toBe(n);
      for (const tier of ['1m', '5m', '1h'] as const) {
        const want = rollupFromSamples(ts, vs, TIER_WIDTH_MS[tier]);
        const q = await s.querier(T0, T0 + 8 * H);
        for (const agg of ['min', 'max', 'sum', 'count', 'last', 'increase'] as RollupAggregate[]) {
          const got = await q.select([M('__name__', '=', 'requests_total')], {
            start: T0,
            end: T0 + 8 * H,
            tier,
            aggregate: agg,
          });
          expect(Array.from(got[0]?.timestamps ?? []), `${tier} ${agg} stamps`).toEqual(
            want.map((b) => b.start),
          );
          const gotV = Array.from(got[0]?.values ?? []);
          want.forEach((b, i) => expect(gotV[i], `${tier} ${agg} bucket ${i}`).toBeCloseTo(b[agg], 6));
        }
        // Consecutive increases add up to the whole range's increase.
        const inc = await q.select([M('__name__', '=', 'requests_total')], {
          start: T0,
          end: T0 + 8 * H,
          tier,
          aggregate: 'increase',
        });
        const total = Array.from(inc[0]?.values ?? []).reduce((a, b) => a + b, 0);
        expect(total).toBeCloseTo(
          want.reduce((a, b) => a + b.increase, 0),
          6,
        );
      }
      const q = await s.querier(T0, T0 + 8 * H);
      await expect(
        q.select([M('__name__', '=', 'requests_total')], { start: T0, end: T0 + H, tier: '5m' }),
      ).rejects.toThrow(/aggregate/);
    });

    it('drops whole chunks past each tier retention', async () => {
      const s = await create();
      const l = { __name__: 'g' };
      const start = T0;
      const end = T0 + 9 * 24 * H; // nine days at 5 min steps
      const app = s.appender();
      for (let t = start; t <= end; t += 300_000) app.append(0, l, t, t / 1000);
      await app.commit();
      await s.applyRetention(end);
      const q = await s.querier(start, end);
      const raw = await q.select([M('__name__', '=', 'g')], { start, end });
      const ts = raw[0]?.timestamps ?? new Float64Array();
      const rawCutoff = end - 7 * 24 * H;
      // Whole chunks go: nothing older than one 2 h chunk span before the cutoff, everything after it stays.
      expect(ts[0]).toBeGreaterThanOrEqual(rawCutoff - 2 * H);
      expect(ts[0]).toBeLessThanOrEqual(rawCutoff);
      expect(ts[ts.length - 1]).toBe(end);
      // The 1m tier (30 d) still has the first day.
      const m1 = await q.select([M('__name__', '=', 'g')], { start, end, tier: '1m', aggregate: 'last' });
      expect(m1[0]?.timestamps[0]).toBe(start);
      // Retention 1 y later empties every tier and the series disappears.
      await s.applyRetention(end + 400 * 24 * H);
      const q2 = await s.querier(start, end);
      for (const tier of ['raw', '1m', '5m', '1h'] as Tier[]) {
        const got = await q2.select([M('__name__', '=', 'g')], { start, end, tier, aggregate: 'last' });
        expect(got.length, tier).toBeLessThanOrEqual(1);
        if (tier === 'raw') expect(got).toEqual([]);
      }
    });

    it('accepts bulk appends and makes them durable with flush', async () => {
      const s = await create();
      const app = s.appender({ bulk: true });
      for (let i = 0; i < 100; i++) app.append(0, { __name__: 'b' }, T0 + i * STEP, i);
      expect(await app.commit()).toEqual({ appended: 100, outOfOrder: 0, duplicate: 0 });
      await s.flush?.();
      const again = f.reopen ? await reopen(s) : s;
      const got = await selectAll(again, [M('__name__', '=', 'b')]);
      expect(got[0]?.values.length).toBe(100);
    });

    it('keeps every acknowledged sample, rollups and order state across reopen', async () => {
      if (!f.reopen) return;
      let s = await create();
      await loadFixture(s, 600); // 2.5 h: some cut chunks, an open head
      const app = s.appender();
      app.append(0, { __name__: 'special' }, T0, STALE_NAN);
      await app.commit();
      s = await reopen(s);
      expect(await s.lastTimestamp()).toBe(T0 + 599 * STEP);
      const got = await selectAll(s, [M('__name__', '=~', '.+')], T0, T0 + 3 * H);
      expect(got).toHaveLength(6);
      for (const d of got) if (d.labels.__name__ !== 'special') expect(d.values.length).toBe(600);
      expect(bitsOf(got.find((d) => d.labels.__name__ === 'special')?.values[0] ?? 0)).toBe(
        0x7ff0000000000002n,
      );
      const app2 = s.appender();
      app2.append(0, FIXTURE[0] ?? {}, T0 + 599 * STEP, 1);
      app2.append(0, FIXTURE[0] ?? {}, T0 + 600 * STEP, 1);
      expect(await app2.commit()).toEqual({ appended: 1, outOfOrder: 0, duplicate: 1 });
      const q = await s.querier(T0, T0 + 3 * H);
      const cnt = await q.select([M('server', '=', 'db-10')], {
        start: T0,
        end: T0 + 3 * H,
        tier: '1h',
        aggregate: 'count',
      });
      expect(Array.from(cnt[0]?.values ?? [])).toEqual([240, 240, 120]);
    });
  });
}
