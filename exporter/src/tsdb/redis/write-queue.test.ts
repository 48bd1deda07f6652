/**
 * WriteQueue against a hand-driven link: each pipeline and each post-outage check is answered by the test,
 * and time moves only through the injected ManualClock/ManualTimer, so outages, refusals and retries are
 * replayed exactly, without Redis and without sleeping. The real-Redis outages are in redis-outage.test.ts.
 */
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ManualTimer } from '../../util/timer.js';
import { ManualClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { DEFAULT_CODEC } from '../codec.js';
import { Head } from '../head.js';
import { HeadAppender } from '../head-appender.js';
import { ChunkDirectory } from './chunk-list.js';
import { RedisKeys } from './keys.js';
import { PendingWrites } from './pending-writes.js';
import type { CommandArgs, PipelineReply } from './redis-client.js';
import { BULK_CHECKPOINT_INTERVAL_MS, WRITE_RETRY_MS, WriteQueue, type WriteLink } from './write-queue.js';
import type { WriteState } from './write-state.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const LABELS = { __name__: 'up', server: 'a' };

/** Answer is how the test answers a pipeline: acknowledged, refused by Redis, or lost with the link. */
type Answer = 'ok' | 'refused' | 'broken';

interface SentPipeline {
  readonly commands: readonly CommandArgs[];
  answer(a: Answer): void;
}

/** FakeLink records pipelines and post-outage checks; the test answers each by hand. */
class FakeLink implements WriteLink {
  linkReady = true;
  readonly pipelines: SentPipeline[] = [];
  readonly checks: ((found: boolean | Error) => void)[] = [];

  exec(commands: readonly CommandArgs[]): Promise<PipelineReply[]> {
    return new Promise((resolve, reject) => {
      this.pipelines.push({
        commands,
        answer: (a) => {
          if (a === 'broken') reject(new Error('Connection is closed.'));
          else if (a === 'refused') resolve(commands.map(() => [new Error('OOM command not allowed'), null]));
          else resolve(commands.map(() => [null, 'OK']));
        },
      });
    });
  }

  ready(): boolean {
    return this.linkReady;
  }

  storeFound(): Promise<boolean> {
    return new Promise((resolve, reject) =>
      this.checks.push((found) => (found instanceof Error ? reject(found) : resolve(found))),
    );
  }

  /** names lists the command names of pipeline `i`. */
  names(i: number): string[] {
    return (this.pipelines[i]?.commands ?? []).map((c) => String(c[0]));
  }
}

/**
 * settle lets every already-resolved promise callback run, and the commits waiting for the head's commit
 * lock start (each a turn of the event loop after the one before it); no time passes on any clock.
 */
const settle = async (): Promise<void> => {
  for (let turn = 0; turn < 4; turn++) await new Promise((resolve) => setImmediate(resolve));
};

function setup(opts: { initial?: WriteState; maxBufferedSamples?: number } = {}) {
  const clock = new ManualClock(T0);
  const timer = new ManualTimer(clock);
  const link = new FakeLink();
  const keys = new RedisKeys('t');
  const directory = new ChunkDirectory();
  // The head hands its cut chunks to PendingWrites, which needs the head: wired as RedisStorage does.
  const sinkTo: { pending?: PendingWrites } = {};
  const head = new Head({
    codec: DEFAULT_CODEC,
    maxSamplesPerChunk: 10,
    sink: {
      rawChunk: (ref, minT, maxT, chunk) => sinkTo.pending?.rawChunkCut(ref, minT, maxT, chunk),
      rollupChunk: (ref, chunk) => sinkTo.pending?.rollupChunkCut(ref, chunk),
    },
  });
  const pending = (sinkTo.pending = new PendingWrites(head, keys, directory));
  const dropped = new Counter({ name: 'dropped', help: 'dropped samples', registers: [] });
  const queue = new WriteQueue({
    link,
    pending,
    clock,
    timer,
    logger: silentLogger(),
    droppedSamples: dropped,
    maxBufferedSamples: opts.maxBufferedSamples ?? 1_000_000,
    initial: opts.initial ?? { kind: 'up' },
  });
  /** commit appends one sample per timestamp (seconds) in one commit; its promise is the acknowledgement. */
  const commit = (seconds: readonly number[], bulk = false): Promise<unknown> => {
    const app = new HeadAppender(head, (batch) => queue.commit(batch, bulk), undefined, { bulk });
    for (const s of seconds) app.append(0, LABELS, s * 1000, s);
    return app.commit();
  };
  const droppedCount = async (): Promise<number> => (await dropped.get()).values[0]?.value ?? 0;
  return { clock, timer, link, keys, queue, commit, droppedCount };
}

/** track reports whether a promise has settled yet. */
function track(p: Promise<unknown>): { readonly done: boolean } {
  const t = { done: false };
  void p.then(() => (t.done = true));
  return t;
}

describe('WriteQueue', () => {
  it('acknowledges a commit with its pipeline, and coalesces commits made meanwhile into the next', async () => {
    const { link, queue, commit } = setup();
    const first = track(commit([1]));
    await settle();
    expect(link.pipelines).toHaveLength(1);
    const second = track(commit([2]));
    const third = track(commit([3]));
    await settle();
    expect(link.pipelines).toHaveLength(1); // one pipeline in flight at a time
    expect([first.done, queue.bufferedSamples()]).toEqual([false, 3]);
    link.pipelines[0]!.answer('ok');
    await settle();
    expect([first.done, second.done, third.done]).toEqual([true, false, false]);
    expect(link.names(1)).toEqual(['setrange']); // samples 2 and 3, one log write
    link.pipelines[1]!.answer('ok');
    await settle();
    expect([second.done, third.done, queue.bufferedSamples()]).toEqual([true, true, 0]);
  });

  it('buffers while Redis is down, and writes nothing after a reconnect until the store is checked', async () => {
    const { clock, link, queue, commit } = setup();
    await settle();
    queue.onLink({ type: 'linkError', message: 'read ECONNRESET' });
    queue.onLink({ type: 'linkClosed' });
    expect(queue.state).toEqual({ kind: 'down', since: T0, reason: 'read ECONNRESET' });
    await commit([1, 2]); // resolves at once: buffered
    await queue.flushNow(); // returns at once while down
    expect([link.pipelines.length, queue.bufferedSamples()]).toEqual([0, 2]);

    clock.advance(5_000);
    queue.onLink({ type: 'linkError', message: 'connect ECONNREFUSED' });
    expect(queue.state).toEqual({ kind: 'down', since: T0, reason: 'connect ECONNREFUSED' });
    queue.onLink({ type: 'ready' });
    const flushed = track(queue.flushNow());
    const third = track(commit([3])); // connected again: waits for its pipeline
    await settle();
    expect(queue.state.kind).toBe('verifying');
    expect([link.pipelines.length, link.checks.length, flushed.done, third.done]).toEqual([
      0,
      1,
      false,
      false,
    ]);

    link.checks[0]!(true);
    await settle();
    expect(queue.state).toEqual({ kind: 'up' });
    expect(link.names(0)).toEqual(['hset', 'hset', 'setrange']); // registry, nextRef, samples 1-3
    link.pipelines[0]!.answer('ok');
    await settle();
    expect([flushed.done, third.done, queue.bufferedSamples()]).toEqual([true, true, 0]);
  });

  it('rewrites the store when Redis came back without it', async () => {
    const { clock, link, keys, queue, commit } = setup();
    const acked = commit([1]);
    await settle();
    link.pipelines[0]!.answer('ok');
    await acked;
    queue.onLink({ type: 'linkClosed' });
    clock.advance(60_000);
    queue.onLink({ type: 'ready' });
    link.checks[0]!(false);
    await settle();
    const commands = link.pipelines[1]!.commands;
    expect(commands).toContainEqual(['hset', keys.meta, 'version', '1', 'created', String(T0 + 60_000)]);
    expect(commands).toContainEqual(['hset', keys.series, '1', JSON.stringify(LABELS)]);
    expect(commands.map((c) => c[0])).toContain('set'); // the head state, checkpointed anew
  });

  it('ignores the answer to a check from an earlier reconnect', async () => {
    const { link, queue } = setup({ initial: { kind: 'down', since: T0, reason: 'x' } });
    queue.onLink({ type: 'ready' });
    queue.onLink({ type: 'linkClosed' });
    queue.onLink({ type: 'ready' });
    expect(link.checks).toHaveLength(2);
    link.checks[0]!(true);
    await settle();
    expect(queue.state.kind).toBe('verifying');
    link.checks[1]!(true);
    await settle();
    expect(queue.state.kind).toBe('up');
  });

  it('retries a refused pipeline, as is, WRITE_RETRY_MS later on the injected timer', async () => {
    const { timer, link, queue, commit } = setup();
    const acked = commit([1]);
    await settle();
    link.pipelines[0]!.answer('refused');
    await acked; // acknowledged as buffered
    expect(queue.state).toEqual({ kind: 'up', refusing: 'OOM command not allowed' });
    expect(queue.bufferedSamples()).toBe(1);
    timer.advance(WRITE_RETRY_MS - 1);
    await settle();
    expect(link.pipelines).toHaveLength(1);
    timer.advance(1);
    await settle();
    expect(link.pipelines).toHaveLength(2);
    expect(link.pipelines[1]!.commands).toBe(link.pipelines[0]!.commands);
    link.pipelines[1]!.answer('ok');
    await settle();
    expect([queue.state, queue.bufferedSamples(), timer.size]).toEqual([{ kind: 'up' }, 0, 0]);
  });

  it('goes down when a pipeline fails on a broken link, and keeps it for after the outage', async () => {
    const { link, queue, commit } = setup();
    const acked = commit([1]);
    await settle();
    link.linkReady = false;
    link.pipelines[0]!.answer('broken');
    await acked;
    expect(queue.state).toEqual({ kind: 'down', since: T0, reason: 'Connection is closed.' });
    link.linkReady = true;
    queue.onLink({ type: 'ready' });
    link.checks[0]!(true);
    await settle();
    expect(link.pipelines[1]!.commands).toBe(link.pipelines[0]!.commands);
  });

  it('writes the head states of bulk commits only every BULK_CHECKPOINT_INTERVAL_MS of the clock', async () => {
    const { clock, link, commit } = setup();
    await commit([1, 2], true); // a bulk commit does not wait for Redis
    await settle();
    expect(link.names(0)).toEqual(['hset', 'hset']); // the registry only
    link.pipelines[0]!.answer('ok');
    clock.advance(BULK_CHECKPOINT_INTERVAL_MS - 1);
    await commit([3], true);
    await settle();
    expect(link.pipelines).toHaveLength(1); // nothing but deferred state to write
    clock.advance(1);
    await commit([4], true);
    await settle();
    expect(link.names(1)).toEqual(['setrange']); // samples 1-4
  });

  it('drops the oldest whole raw chunks past maxBufferedSamples while down, counted', async () => {
    const { queue, commit, droppedCount } = setup({
      initial: { kind: 'down', since: T0, reason: 'x' },
      maxBufferedSamples: 25,
    });
    for (let s = 1; s <= 60; s++) await commit([s]);
    const dropped = await droppedCount();
    expect(dropped + queue.bufferedSamples()).toBe(60);
    expect(queue.bufferedSamples()).toBeLessThanOrEqual(25);
    expect(dropped % 10).toBe(0); // whole chunks of maxSamplesPerChunk
    expect(dropped).toBeGreaterThan(0);
  });

  it('cancels a pending retry on close', async () => {
    const { timer, link, queue, commit } = setup();
    const acked = commit([1]);
    await settle();
    link.pipelines[0]!.answer('refused');
    await acked;
    expect(timer.size).toBe(1);
    await queue.close();
    expect([queue.state, timer.size]).toEqual([{ kind: 'closed' }, 0]);
  });
});
