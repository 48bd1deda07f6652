import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Chunk } from './chunkenc/chunk.js';
import { DEFAULT_CODEC } from './codec.js';
import { encodeBatch, type EncodeRequest, type EncodeResponse } from './encode-batch.js';
import type { BatchEncoder } from './encode-pool.js';
import { AppendStatus, Head, MAX_SAMPLE_TIME_MS, MIN_SAMPLE_TIME_MS, type HeadSink } from './head.js';
import { EmbeddedStorage } from './embedded/embedded-storage.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { ACC_BASE } from './mem-series.js';
import { TsdbMetrics } from './metrics.js';
import { AGG_INDEX, rollupFromSamples, type RollupChunk } from './rollup.js';
import { SampleBuffer } from './sample-buffer.js';
import { readChunkInto } from './querier.js';
import { Pacer } from '../util/pacer.js';

class RecordingSink implements HeadSink {
  raw: { ref: number; minT: number; maxT: number; chunk: Chunk }[] = [];
  rollups: { ref: number; chunk: RollupChunk }[] = [];
  rawChunk(ref: number, minT: number, maxT: number, chunk: Chunk): void {
    this.raw.push({ ref, minT, maxT, chunk });
  }
  rollupChunk(ref: number, chunk: RollupChunk): void {
    this.rollups.push({ ref, chunk });
  }
}

const H = 3_600_000;

function newHead(opts: { maxSamplesPerChunk?: number; rollups?: boolean } = {}) {
  const sink = new RecordingSink();
  const registry = new Registry();
  const head = new Head({ codec: DEFAULT_CODEC, sink, metrics: new TsdbMetrics(registry), ...opts });
  return { head, sink, registry };
}

describe('Head', () => {
  it('rejects out-of-order and duplicate samples and counts them', async () => {
    const { head, registry } = newHead();
    const ref = head.getOrCreate({ __name__: 'x' });
    expect(head.append(ref, 1000, 1)).toBe(AppendStatus.Ok);
    expect(head.append(ref, 1000, 2)).toBe(AppendStatus.Duplicate);
    expect(head.append(ref, 999, 2)).toBe(AppendStatus.OutOfOrder);
    expect(head.append(ref, 1001, 2)).toBe(AppendStatus.Ok);
    expect(head.append(99, 1, 1)).toBe(AppendStatus.UnknownSeries);
    const text = await registry.metrics();
    expect(text).toContain('openmanager_exporter_tsdb_out_of_order_samples_total 1');
    expect(text).toContain('openmanager_exporter_tsdb_duplicate_samples_total 1');
  });

  it('cuts chunks at the 2 h boundary and by sample count', () => {
    const { head, sink } = newHead({ maxSamplesPerChunk: 100 });
    const ref = head.getOrCreate({ __name__: 'x' });
    // 15 s ticks from 1h30 to 4h30: boundary at 2h, 100-sample cuts inside the 2h–4h span.
    for (let t = 1.5 * H; t < 4.5 * H; t += 15_000) head.append(ref, t, t / 1000);
    expect(sink.raw.map((c) => c.chunk.numSamples())).toEqual([100, 20, 100, 100, 100, 100, 80, 100]);
    expect(sink.raw[1]!.maxT).toBe(2 * H - 15_000);
    expect(sink.raw.every((c) => Math.floor(c.minT / (2 * H)) === Math.floor(c.maxT / (2 * H)))).toBe(true);
    // Everything cut plus the open chunk is every sample, in order, bit-exact.
    const buf = new SampleBuffer();
    for (const c of sink.raw) readChunkInto(c.chunk, -Infinity, Infinity, buf);
    head.readRaw(ref, -Infinity, Infinity, buf);
    expect(buf.n).toBe((3 * H) / 15_000);
    expect(buf.vs[buf.n - 1]).toBe((4.5 * H - 15_000) / 1000);
  });

  it('flush cuts chunks whose span has ended (a series that stopped)', () => {
    const { head, sink } = newHead();
    const ref = head.getOrCreate({ __name__: 'x' });
    head.append(ref, 10, 1);
    head.flush(2 * H - 1);
    expect(sink.raw).toHaveLength(0);
    head.flush(2 * H);
    expect(sink.raw).toHaveLength(1);
  });

  it('flushPaced, yielding between series, cuts what flush cuts, in the same order', async () => {
    const cuts = async (paced: boolean) => {
      const { head, sink } = newHead();
      for (let i = 0; i < 20; i++) {
        const ref = head.getOrCreate({ __name__: 'x', i: String(i) });
        // Series that stopped at different times, so the flush cuts raw chunks and rollup pages of some.
        for (let t = H; t < H + (i + 1) * 6 * 60_000; t += 15_000) head.append(ref, t, i + t / 1e5);
      }
      const pacer = new Pacer(0);
      if (paced) await head.flushPaced(2 * H + 30 * 60_000, false, pacer);
      else head.flush(2 * H + 30 * 60_000);
      return {
        yields: pacer.yields,
        raw: sink.raw.map((c) => [c.ref, c.minT, c.maxT, Buffer.from(c.chunk.bytes()).toString('hex')]),
        rollups: sink.rollups.map((c) => [c.ref, c.chunk.tier, c.chunk.minT, c.chunk.maxT]),
      };
    };
    const once = await cuts(false);
    const paced = await cuts(true);
    expect(paced.yields).toBeGreaterThanOrEqual(20);
    expect(once.raw.length).toBeGreaterThan(0);
    expect(once.rollups.length).toBeGreaterThan(0);
    expect(paced.raw).toEqual(once.raw);
    expect(paced.rollups).toEqual(once.rollups);
  });

  it('feeds rollups that agree with rollups computed from raw samples', () => {
    const { head, sink } = newHead();
    const ref = head.getOrCreate({ __name__: 'c_total' });
    const ts: number[] = [];
    const vs: number[] = [];
    let v = 0;
    for (let i = 0, t = 0; i < 5000; i++, t += 15_000) {
      v = i % 1700 === 999 ? 3 : v + (i % 7); // counter with resets
      const val = i % 50 === 49 ? NaN : v; // some stale markers
      head.append(ref, t, val);
      ts.push(t);
      vs.push(val);
    }
    const want = rollupFromSamples(ts, vs, 300_000);
    const got = new SampleBuffer();
    for (const r of sink.rollups.filter((r) => r.chunk.tier === '5m')) {
      readChunkInto(r.chunk.chunks[AGG_INDEX.increase]!, -Infinity, Infinity, got);
    }
    head.readRollup(ref, '5m', AGG_INDEX.increase, -Infinity, Infinity, got);
    expect(Array.from(got.ts.subarray(0, got.n))).toEqual(want.map((b) => b.start));
    expect(Array.from(got.vs.subarray(0, got.n))).toEqual(want.map((b) => b.increase));
    const total = want.reduce((a, b) => a + b.increase, 0);
    let expected = 0;
    let prev = NaN;
    for (const x of vs) {
      if (Number.isNaN(x)) continue;
      if (!Number.isNaN(prev)) expected += x >= prev ? x - prev : x;
      prev = x;
    }
    expect(total).toBe(expected);
  });

  it('reads the state layout whose sealed prefixes were one segment without its header', () => {
    const { head } = newHead({ rollups: false });
    const ref = head.getOrCreate({ __name__: 'x' });
    const want: number[] = [];
    // 70 samples: one seal of the open run (its tail grows to 64 rows and keeps 24), so one segment.
    for (let i = 0; i < 70; i++) {
      head.append(ref, H + i * 15_000, i / 8);
      want.push(i / 8);
    }
    const w = new ByteWriter();
    head.writeSeriesState(ref, w);
    const now = w.finish();
    // The earlier layout: its mark, and the open run's prefix without the segment header (5 bytes).
    const run = 8 + 8 * ACC_BASE;
    const lenAt = run + 4 + 16;
    const view = new DataView(now.buffer, now.byteOffset, now.byteLength);
    expect(view.getUint32(0, true)).toBe(0xfffffffe);
    expect(view.getUint32(run, true)).toBe(40);
    expect(view.getUint32(lenAt + 4, true)).toBe(40);
    const old = new Uint8Array(now.length - 5);
    old.set(now.subarray(0, lenAt + 4));
    old.set(now.subarray(lenAt + 4 + 5), lenAt + 4);
    const oldView = new DataView(old.buffer);
    oldView.setUint32(0, 0xffffffff, true);
    oldView.setUint32(lenAt, view.getUint32(lenAt, true) - 5, true);
    const { head: h2 } = newHead({ rollups: false });
    h2.restoreSeries(ref, { __name__: 'x' });
    h2.readSeriesState(new ByteReader(old));
    const raw = new SampleBuffer();
    h2.readRaw(ref, 0, 3 * H, raw);
    expect(Array.from(raw.vs.subarray(0, raw.n))).toEqual(want);
  });

  it('reads the earlier state layout, whose runs are raw rows', () => {
    // That layout: ref, [lastT, prev, chunkEnd], open run as n + columns, tiers, per tier the open bucket,
    // pendingSpanEnd and the pending run as n + 7 columns.
    const w = new ByteWriter();
    const ref = 1;
    const open = Array.from({ length: 40 }, (_, i) => [H + i * 15_000, i / 4]);
    w.u32(ref);
    w.f64s(Float64Array.of(open[39]![0]!, open[39]![1]!, 2 * H), 0, 3);
    w.u32(open.length);
    w.f64s(Float64Array.from(open.map((r) => r[0]!)), 0, open.length);
    w.f64s(Float64Array.from(open.map((r) => r[1]!)), 0, open.length);
    w.u8(3);
    for (let tier = 0; tier < 3; tier++) {
      const pending = tier === 0 ? 5 : 0;
      w.f64(tier === 0 ? H + 9 * 60_000 : NaN);
      for (let agg = 0; agg < 6; agg++) w.f64(agg + 1);
      w.f64(pending > 0 ? 2 * H : NaN);
      w.u32(pending);
      for (let c = 0; c < 7; c++)
        for (let i = 0; i < pending; i++) w.f64(c === 0 ? H + (4 + i) * 60_000 : 10 * c + i);
    }
    const { head } = newHead();
    head.restoreSeries(ref, { __name__: 'x' });
    head.readSeriesState(new ByteReader(w.finish()));
    const raw = new SampleBuffer();
    head.readRaw(ref, 0, 3 * H, raw);
    expect(Array.from(raw.ts.subarray(0, raw.n))).toEqual(open.map((r) => r[0]));
    expect(Array.from(raw.vs.subarray(0, raw.n))).toEqual(open.map((r) => r[1]));
    const sums = new SampleBuffer();
    head.readRollup(ref, '1m', AGG_INDEX.sum, 0, 3 * H, sums);
    expect(Array.from(sums.vs.subarray(0, sums.n))).toEqual([30, 31, 32, 33, 34, 3]);
    // Written again, it is the compact layout, and reads back the same.
    const again = new ByteWriter();
    head.writeSeriesState(ref, again);
    const { head: h2 } = newHead();
    h2.restoreSeries(ref, { __name__: 'x' });
    h2.readSeriesState(new ByteReader(again.finish()));
    const raw2 = new SampleBuffer();
    h2.readRaw(ref, 0, 3 * H, raw2);
    expect(Array.from(raw2.vs.subarray(0, raw2.n))).toEqual(open.map((r) => r[1]));
    expect(again.length).toBeLessThan(w.length);
  });

  it('round-trips series state bit-exactly, stale marker included', () => {
    const { head } = newHead();
    const ref = head.getOrCreate({ __name__: 'x' });
    const stale = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;
    head.append(ref, 1000, 1.5);
    head.append(ref, 2000, stale);
    const w = new ByteWriter();
    head.writeSeriesState(ref, w);
    const { head: h2 } = newHead();
    h2.restoreSeries(ref, { __name__: 'x' });
    h2.readSeriesState(new ByteReader(w.finish()));
    const buf = new SampleBuffer();
    h2.readRaw(ref, 0, 5000, buf);
    expect(new BigUint64Array(buf.vs.buffer, 0, 2)[1]).toBe(0x7ff0000000000002n);
    expect(h2.maxTime).toBe(2000);
    expect(h2.append(ref, 2000, 1)).toBe(AppendStatus.Duplicate);
    const r = new SampleBuffer();
    h2.readRollup(ref, '1m', AGG_INDEX.count, 0, 5000, r);
    expect(Array.from(r.vs.subarray(0, r.n))).toEqual([1]);
  });

  it('seals what it has not cut: the same chunks as a bulk ingest, every row readable and restorable', async () => {
    // 30 h of a noisy counter and gauge at 15 s: raw chunks, 1m/5m pages cut, and a 1h page still pending.
    const samples: [number, number, number][] = [];
    let c = 0;
    for (let t = 0.25 * H; t < 30.25 * H; t += 15_000) {
      c += Math.round(Math.abs(Math.sin(t / 7e5)) * 1000) / 100;
      samples.push([t, c, Math.round(500 + 400 * Math.sin(t / 3e6)) / 10]);
    }
    const feed = (head: Head, bulk: boolean) => {
      const refs = [head.getOrCreate({ __name__: 'c_total' }), head.getOrCreate({ __name__: 'g' })];
      if (bulk) head.beginBulk();
      for (const [t, cv, gv] of samples) {
        head.append(refs[0]!, t, cv);
        head.append(refs[1]!, t, gv);
      }
      if (bulk) head.endBulk();
      return refs;
    };
    const live = newHead();
    const bulk = newHead();
    const refs = feed(live.head, false);
    feed(bulk.head, true);
    // A zero-length slice: compaction gives the loop a turn after every series, and ends the same.
    await bulk.head.compactPaced(new Pacer(0));
    const bytes = (s: RecordingSink) => [
      ...s.raw.map((x) => [x.ref, x.minT, x.maxT, Array.from(x.chunk.bytes())]),
      ...s.rollups.map((x) => [x.ref, x.chunk.tier, x.chunk.minT, x.chunk.chunks.map((k) => k.bytes())]),
    ];
    expect(live.sink.rollups.some((x) => x.chunk.tier === '5m')).toBe(true);
    expect(bytes(live.sink)).toEqual(bytes(bulk.sink));

    const w = new ByteWriter();
    for (const ref of refs) live.head.writeSeriesState(ref, w);
    const restored = newHead();
    refs.forEach((ref, i) => restored.head.restoreSeries(ref, { __name__: i === 0 ? 'c_total' : 'g' }));
    const reader = new ByteReader(w.finish());
    for (let i = 0; i < refs.length; i++) restored.head.readSeriesState(reader);
    for (const head of [live.head, bulk.head, restored.head]) {
      for (const [i, ref] of refs.entries()) {
        // Raw: stored chunks plus the head's open samples are every sample, in order.
        const raw = new SampleBuffer();
        for (const x of live.sink.raw) if (x.ref === ref) readChunkInto(x.chunk, -Infinity, Infinity, raw);
        head.readRaw(ref, -Infinity, Infinity, raw);
        expect(Array.from(raw.vs.subarray(0, raw.n))).toEqual(samples.map((s) => s[1 + i]));
        // A read of the last minutes only (served from the raw tail) sees the newest samples.
        const recent = new SampleBuffer();
        head.readRaw(ref, samples[samples.length - 3]![0], Infinity, recent);
        expect(Array.from(recent.ts.subarray(0, recent.n))).toEqual(samples.slice(-3).map((s) => s[0]));
        // 1h buckets: all still in the head (the 7 d span has not ended), equal to the reference.
        const h1 = new SampleBuffer();
        head.readRollup(ref, '1h', AGG_INDEX.max, -Infinity, Infinity, h1);
        const ref1h = rollupFromSamples(
          samples.map((s) => s[0]),
          samples.map((s) => s[1 + i]!),
          H,
        );
        expect(Array.from(h1.vs.subarray(0, h1.n))).toEqual(ref1h.map((b) => b.max));
      }
    }
  });
});

/** HeldEncoder encodes in-thread but only when released, so a test sees cuts while they are in flight. */
class HeldEncoder implements BatchEncoder {
  held: { req: EncodeRequest; resolve: (r: EncodeResponse) => void }[] = [];
  encode(req: EncodeRequest): Promise<EncodeResponse> {
    return new Promise((resolve) => this.held.push({ req, resolve }));
  }
  release(): void {
    for (const h of this.held.splice(0)) h.resolve(encodeBatch(h.req));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('Head with deferred encoding', () => {
  it('hands the sink the same chunks in the same order, and reads see cuts while they encode', async () => {
    const plain = newHead();
    const encoder = new HeldEncoder();
    const sink = new RecordingSink();
    const head = new Head({ codec: DEFAULT_CODEC, sink, encoder });
    const refs = [0, 1, 2].map((i) => [
      plain.head.getOrCreate({ i: `${i}` }),
      head.getOrCreate({ i: `${i}` }),
    ]);
    const value = (i: number, t: number) => (i === 2 ? Math.sin(t) : Math.round(t / 1000 + i * 7) / 100);
    let t = 1.5 * H;
    // Each round is one deferred apply (a bulk commit) of 30 min; cuts happen at the 2 h boundaries.
    for (let round = 0; round < 12; round++) {
      head.beginDeferred();
      for (const end = t + 0.5 * H; t < end; t += 15_000) {
        refs.forEach(([a, b], i) => {
          plain.head.append(a!, t, value(i, t));
          head.append(b!, t, value(i, t));
        });
      }
      head.endDeferred();
      if (round === 5) {
        // In flight: nothing stored yet, yet every sample and bucket reads back.
        expect(head.pendingCuts).toBeGreaterThan(0);
        expect(sink.raw.length).toBeGreaterThan(0);
        expect(sink.raw.length).toBeLessThan(plain.sink.raw.length);
        for (const [a, b] of refs) {
          const want = new SampleBuffer();
          for (const c of plain.sink.raw.filter((c) => c.ref === a)) readChunkInto(c.chunk, 0, t, want);
          plain.head.readRaw(a!, 0, t, want);
          const got = new SampleBuffer();
          for (const c of sink.raw.filter((c) => c.ref === b)) readChunkInto(c.chunk, 0, t, got);
          head.readRaw(b!, 0, t, got);
          expect(got.toSeriesData({}).values).toEqual(want.toSeriesData({}).values);
          const oldest = (h: Head, k: RecordingSink, ref: number) =>
            Math.min(h.openMinTime(ref), ...k.raw.filter((c) => c.ref === ref).map((c) => c.minT));
          expect(oldest(head, sink, b!)).toBe(oldest(plain.head, plain.sink, a!));
          const wantR = new SampleBuffer();
          for (const c of plain.sink.rollups.filter((c) => c.ref === a && c.chunk.tier === '1m'))
            readChunkInto(c.chunk.chunks[AGG_INDEX.max]!, 0, t, wantR);
          plain.head.readRollup(a!, '1m', AGG_INDEX.max, 0, t, wantR);
          const gotR = new SampleBuffer();
          for (const c of sink.rollups.filter((c) => c.ref === b && c.chunk.tier === '1m'))
            readChunkInto(c.chunk.chunks[AGG_INDEX.max]!, 0, t, gotR);
          head.readRollup(b!, '1m', AGG_INDEX.max, 0, t, gotR);
          expect(gotR.toSeriesData({}).values).toEqual(wantR.toSeriesData({}).values);
        }
      }
      if (round % 4 === 3) {
        encoder.release();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    // A cut made without deferring while others are in flight waits for them (order is kept).
    head.flush(t + 4 * H);
    plain.head.flush(t + 4 * H);
    const settled = head.settle();
    encoder.release();
    await settled;
    expect(head.pendingCuts).toBe(0);
    const bytes = (s: RecordingSink) => [
      ...s.raw.map((c) => [c.ref, c.minT, c.maxT, Array.from(c.chunk.bytes())]),
      ...s.rollups.map((c) => [c.ref, c.chunk.tier, c.chunk.minT, c.chunk.chunks.map((x) => [...x.bytes()])]),
    ];
    expect(bytes(sink)).toEqual(bytes(plain.sink));
    expect(sink.raw.map((c) => c.chunk.numSamples())).toEqual(
      plain.sink.raw.map((c) => c.chunk.numSamples()),
    );
  });
});

describe('Head.settle with an encoder', () => {
  it('waits for the encoder to deliver, then has nothing pending', async () => {
    const encoder = new HeldEncoder();
    const head = new Head({ codec: DEFAULT_CODEC, sink: new RecordingSink(), encoder });
    const ref = head.getOrCreate({ i: '0' });
    head.beginDeferred();
    for (let t = 1.5 * H; t < 4.5 * H; t += 15_000) head.append(ref, t, t / 1e5);
    head.endDeferred();
    expect(head.pendingCuts).toBeGreaterThan(0);
    let settled = false;
    const settling = head.settle().then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    encoder.release();
    await settling;
    expect(head.pendingCuts).toBe(0);
  });
});

describe('Head with a failing encoder', () => {
  it('encodes the batch in-thread, delivers it in order and reports the failure once at settle', async () => {
    const failing: BatchEncoder = {
      encode: () => Promise.reject(new Error('worker gone')),
      close: () => Promise.resolve(),
    };
    const plain = newHead();
    const sink = new RecordingSink();
    const head = new Head({ codec: DEFAULT_CODEC, sink, encoder: failing });
    const a = plain.head.getOrCreate({ i: '0' });
    const b = head.getOrCreate({ i: '0' });
    head.beginDeferred();
    for (let t = 1.5 * H; t < 4.5 * H; t += 15_000) {
      plain.head.append(a, t, t / 1e5);
      head.append(b, t, t / 1e5);
    }
    head.endDeferred();
    await expect(head.settle()).rejects.toThrow('worker gone');
    await head.settle();
    expect(head.pendingCuts).toBe(0);
    expect(sink.raw.map((c) => [...c.chunk.bytes()])).toEqual(
      plain.sink.raw.map((c) => [...c.chunk.bytes()]),
    );
    expect(sink.rollups.length).toBe(plain.sink.rollups.length);
  });
});

describe('Head: sample time bounds', () => {
  it('refuses samples outside JS Date range as out of bounds, and the series goes on', async () => {
    const store = await EmbeddedStorage.open();
    const labels = { __name__: 'm', job: 'edge' };
    const app = store.appender();
    // Within ±2^53 ms, but its hourly rollup bucket would start below -2^53: it used to fail the commit.
    app.append(0, labels, MIN_SAMPLE_TIME_MS - 1, 1);
    app.append(0, labels, 1_000.5, 2);
    app.append(0, labels, 1_000, 3);
    app.append(0, labels, MAX_SAMPLE_TIME_MS + 1, 4);
    expect(await app.commit()).toEqual({ appended: 1, outOfOrder: 3, duplicate: 0 });
    const more = store.appender();
    // Past the hour: the first hour's rollup buckets close and are encoded.
    for (let t = 2 * 3_600_000; t <= 3 * 3_600_000; t += 60_000) more.append(0, labels, t, 5);
    expect((await more.commit()).appended).toBe(61);
    const q = await store.querier(0, 3 * 3_600_000);
    const [s] = await q.select([{ type: '=', name: 'job', value: 'edge' }]);
    expect(s?.timestamps[0]).toBe(1_000);
    expect(s?.values[0]).toBe(3);
    expect(s?.timestamps.length).toBe(62);
    await store.close();
  });
});
