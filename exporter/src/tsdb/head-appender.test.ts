import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Chunk } from './chunkenc/chunk.js';
import { DEFAULT_CODEC } from './codec.js';
import { HeadAppender, type CommittedBatch } from './head-appender.js';
import { Head, type HeadSink } from './head.js';
import type { RollupChunk } from './rollup.js';
import { SampleBuffer } from './sample-buffer.js';
import { EXPIRE_MS } from './decoded-chunks.js';
import { readChunkInto } from './querier.js';

const H = 3_600_000;
const SERIES = 20;

/** BytesSink keeps every chunk the head completes as bytes, in order. */
class BytesSink implements HeadSink {
  readonly out: string[] = [];
  readonly raw = new Map<number, Chunk[]>();
  rawChunk(ref: number, minT: number, maxT: number, chunk: Chunk): void {
    this.out.push(`raw ${ref} ${minT} ${maxT} ${Buffer.from(chunk.bytes()).toString('base64')}`);
    const list = this.raw.get(ref) ?? [];
    list.push(chunk);
    this.raw.set(ref, list);
  }
  rollupChunk(ref: number, c: RollupChunk): void {
    const bytes = c.chunks.map((x) => Buffer.from(x.bytes()).toString('base64')).join(',');
    this.out.push(`${c.tier} ${ref} ${c.minT} ${c.maxT} ${bytes}`);
  }
}

/** frames commits 15 s frames of SERIES series over [from, to) through one appender each. */
async function ingest(head: Head, sliceMs: number, from: number, to: number): Promise<CommittedBatch[]> {
  const logged: CommittedBatch[] = [];
  const app = new HeadAppender(
    head,
    (b) => {
      logged.push({ ...b, refs: b.refs.slice(0, b.n), ts: b.ts.slice(0, b.n), vs: b.vs.slice(0, b.n) });
      return Promise.resolve();
    },
    undefined,
    { sliceMs },
  );
  for (let t = from; t < to; t += 15_000) {
    for (let i = 0; i < SERIES; i++)
      app.append(0, { __name__: 'm', i: String(i) }, t, Math.sin(t / 1e6 + i) * 100);
    await app.commit();
  }
  return logged;
}

function rawSamples(head: Head, sink: BytesSink, ref: number): number[] {
  const buf = new SampleBuffer();
  for (const c of sink.raw.get(ref) ?? []) readChunkInto(c, -Infinity, Infinity, buf);
  head.readRaw(ref, -Infinity, Infinity, buf);
  const d = buf.toSeriesData({});
  return [...d.timestamps, ...d.values];
}

describe('HeadAppender', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a commit drops the decoded stored chunks no read has wanted for EXPIRE_MS', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const head = new Head({ codec: DEFAULT_CODEC, sink: new BytesSink() });
    const ts = Float64Array.from({ length: 8 }, (_, i) => i * 15_000);
    const chunk = DEFAULT_CODEC.encode?.(ts, ts, 0, ts.length) ?? DEFAULT_CODEC.newBuilder().finish();
    // A one-off read of history (as the rules' replay over the backfill makes) leaves its chunk decoded.
    head.decodedChunks.read(1, { minT: 0, maxT: 105_000, chunk }, 0, Infinity);
    await ingest(head, Number.POSITIVE_INFINITY, 2 * H, 2 * H + 15_000);
    expect(head.decodedChunks.entryCount).toBe(1);
    // Nothing reads stored chunks any more; the next tick's commit is what looks.
    vi.advanceTimersByTime(EXPIRE_MS);
    await ingest(head, Number.POSITIVE_INFINITY, 2 * H + 15_000, 2 * H + 30_000);
    expect(head.decodedChunks.entryCount).toBe(0);
  });

  it('a commit applied in slices leaves the head, the sink and the log as one applied at once', async () => {
    const run = async (sliceMs: number) => {
      const sink = new BytesSink();
      const head = new Head({ codec: DEFAULT_CODEC, sink });
      // 1h30 → 2h30 crosses the 2 h raw chunk and 1m page boundary, with raw and rollup seals on both sides.
      const logged = await ingest(head, sliceMs, 1.5 * H, 2.5 * H);
      return { head, sink, logged };
    };
    const whole = await run(Number.POSITIVE_INFINITY);
    const sliced = await run(0);
    expect(sliced.sink.out).toEqual(whole.sink.out);
    expect(sliced.logged).toEqual(whole.logged);
    for (let ref = 1; ref <= SERIES; ref++) {
      expect(rawSamples(sliced.head, sliced.sink, ref)).toEqual(rawSamples(whole.head, whole.sink, ref));
    }
  });

  it('commits apply one at a time: a commit started while another yields is logged after it', async () => {
    const head = new Head({ codec: DEFAULT_CODEC, sink: new BytesSink() });
    const order: string[] = [];
    const appender = (name: string, sliceMs: number) =>
      new HeadAppender(
        head,
        () => {
          order.push(name);
          return Promise.resolve();
        },
        undefined,
        { sliceMs },
      );
    const big = appender('big', 0);
    for (let i = 0; i < 1_000; i++) big.append(0, { __name__: 'x', i: String(i) }, 1_000, i);
    const small = appender('small', Number.POSITIVE_INFINITY);
    // The same series at a later time: logged before `big`, replay would reject big's sample as out of order.
    small.append(0, { __name__: 'x', i: '999' }, 2_000, 1);
    const committing = big.commit();
    await new Promise((r) => setImmediate(r)); // big is mid-apply, yielding
    const results = await Promise.all([committing, small.commit()]);
    expect(order).toEqual(['big', 'small']);
    expect(results.map((r) => r.appended)).toEqual([1_000, 1]);
  });
});
