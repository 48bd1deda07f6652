/**
 * WriteQueue moves PendingWrites to Redis, one pipeline at a time, and decides what a commit waits for. Its
 * one state (WriteState, transitions in write-state.ts) follows the connection; time comes from an injected
 * Clock and the retry of a refused pipeline from an injected Timer, so tests drive outages without sleeping.
 *
 * A commit resolves when the pipeline carrying it is acknowledged; commits that arrive while a pipeline is
 * in flight are coalesced into the next one. While Redis is unreachable, commits resolve at once and their
 * changes wait in memory; a pipeline that failed is kept and retried first. On reconnect the store is
 * checked (its keys may be gone) and everything is flushed in order. The wait is bounded by
 * maxBufferedSamples: past it the oldest cut raw chunks are dropped (counted and logged).
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Timer, TimerHandle } from '../../util/timer.js';
import type { Clock } from '../../util/clock.js';
import type { CommittedBatch } from '../head-appender.js';
import type { PendingWrites, WriteBatch } from './pending-writes.js';
import type { CommandArgs, PipelineReply } from './redis-client.js';
import {
  awaitsFlush,
  canWrite,
  transition,
  type WriteEffect,
  type WriteEvent,
  type WriteState,
} from './write-state.js';

/** WRITE_RETRY_MS is the pause before retrying a pipeline Redis refused while connected (e.g. OOM). */
export const WRITE_RETRY_MS = 1_000;

/**
 * BULK_CHECKPOINT_INTERVAL_MS is how often (clock time) a running backfill's head states are written;
 * between those, bulk commits persist only cut chunks (the same 30 s the embedded store snapshots a
 * backfill at).
 */
export const BULK_CHECKPOINT_INTERVAL_MS = 30_000;

/** BULK_BACKLOG_SAMPLES is how far a bulk writer may run ahead of Redis before its commit waits (memory bound). */
export const BULK_BACKLOG_SAMPLES = 2_000_000;

/** DROP_LOG_INTERVAL_MS rate-limits the "dropped buffered samples" log line to one per 10 s. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** WriteLink is what the write queue needs of the connection to Redis (a fake in unit tests). */
export interface WriteLink {
  /** exec runs commands as one pipeline and returns each command's outcome, in order. */
  exec(commands: readonly CommandArgs[]): Promise<PipelineReply[]>;
  /** ready says whether the connection is up: a pipeline failing on a ready link was refused by Redis. */
  ready(): boolean;
  /** storeFound says whether the store's keys survived an outage (its `:meta` hash still exists). */
  storeFound(): Promise<boolean>;
}

/** LinkEvent is what the connection reports to the queue (ioredis's ready, error and close). */
export type LinkEvent = Extract<WriteEvent, { type: 'ready' | 'linkError' | 'linkClosed' }>;

/** WriteQueueDeps are the queue's collaborators and limits. */
export interface WriteQueueDeps {
  readonly link: WriteLink;
  readonly pending: PendingWrites;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly logger: Logger;
  /** droppedSamples counts samples dropped because the outage buffer overflowed. */
  readonly droppedSamples: Counter;
  readonly maxBufferedSamples: number;
  /** initial is the state at open: up when the first connection is ready. */
  readonly initial: WriteState;
}

/** Inflight is a taken batch: kept until Redis acknowledges it, retried as is after a failure. */
interface Inflight {
  readonly batch: WriteBatch;
  /** waiters are the commits that resolve when Redis acknowledges the batch. */
  waiters: (() => void)[];
}

/** WriteQueue is the Redis backend's write path; see the file comment. */
export class WriteQueue {
  private current: WriteState;
  private inflight: Inflight | undefined;
  /** loop is the running flush loop, if any (at most one). */
  private loop: Promise<void> | undefined;
  /** waiters are commits waiting for the next batch to be taken and acknowledged. */
  private waiters: (() => void)[] = [];
  /** idleWaiters are flushNow calls waiting to re-check: woken when a flush loop ends or the state changes. */
  private idleWaiters: (() => void)[] = [];
  /** retry is the armed retry of a refused pipeline (undefined: none). */
  private retry: TimerHandle;
  /** verification numbers the checks after reconnects, so a late answer to an older one is ignored. */
  private verification = 0;
  private lastBulkCheckpoint: number;
  private lastDropLog = -Infinity;
  private droppedSinceLog = 0;

  constructor(private readonly deps: WriteQueueDeps) {
    this.current = deps.initial;
    this.lastBulkCheckpoint = deps.clock.now();
  }

  /** state is the queue's current WriteState. */
  get state(): WriteState {
    return this.current;
  }

  /** bufferedSamples is the number of accepted samples Redis has not acknowledged yet. */
  bufferedSamples(): number {
    return this.deps.pending.samples + (this.inflight?.batch.samples ?? 0);
  }

  /** onLink feeds a connection event into the state machine. */
  onLink(event: LinkEvent): void {
    this.dispatch(event);
  }

  /**
   * commit is the HeadAppender's persistence hook: note what changed, then flush or buffer it. A bulk
   * commit (backfill) resolves without waiting for Redis unless the backlog is large; its series' head
   * states are written every BULK_CHECKPOINT_INTERVAL_MS and by flushNow().
   */
  commit(batch: CommittedBatch, bulk: boolean): Promise<void> {
    this.deps.pending.committed(batch, bulk);
    if (this.current.kind === 'down' || this.current.kind === 'closed') {
      this.enforceBound();
      return Promise.resolve();
    }
    if (bulk && this.deps.clock.now() - this.lastBulkCheckpoint >= BULK_CHECKPOINT_INTERVAL_MS) {
      this.promoteDeferred();
    }
    if (bulk && this.bufferedSamples() < BULK_BACKLOG_SAMPLES) {
      this.kick();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.kick();
    });
  }

  /**
   * flushNow writes everything pending, deferred head states included, and resolves when Redis has it; it
   * returns early (data still buffered) while Redis is unreachable or refusing writes.
   */
  async flushNow(): Promise<void> {
    this.promoteDeferred();
    while (awaitsFlush(this.current) && this.hasPending()) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      this.kick();
      await idle;
    }
  }

  /** close flushes what Redis can take and stops the queue; what is still buffered then is lost (logged). */
  async close(): Promise<void> {
    if (this.current.kind === 'closed') return;
    if (this.current.kind === 'up' || this.current.kind === 'verifying') {
      try {
        await this.flushNow();
      } catch (err) {
        this.deps.logger.error({ err }, 'redis store: final flush failed');
      }
    }
    this.dispatch({ type: 'close' });
    const buffered = this.bufferedSamples();
    if (buffered > 0) {
      this.deps.logger.warn(
        { buffered },
        'redis store: closing with samples Redis never acknowledged; they are lost',
      );
    }
  }

  private dispatch(event: WriteEvent, cause?: Error): void {
    const prev = this.current;
    const { state, effects } = transition(prev, event, this.deps.clock.now());
    this.current = state;
    for (const effect of effects) this.run(effect, prev, cause);
  }

  private run(effect: WriteEffect, prev: WriteState, cause: Error | undefined): void {
    const { logger, timer, clock } = this.deps;
    const state = this.current;
    switch (effect) {
      case 'flush':
        return this.kick();
      case 'verify':
        return void this.verify(++this.verification);
      case 'recover': {
        const { series, lostChunks } = this.deps.pending.rewriteAll(clock.now());
        logger.error(
          { series, lostChunks },
          'redis store: Redis came back without this store (restarted without persistence?); rewriting what is in memory, older chunks are lost',
        );
        return;
      }
      case 'retryLater':
        timer.clear(this.retry);
        this.retry = timer.set(() => this.kick(), WRITE_RETRY_MS);
        return;
      case 'cancelRetry':
        timer.clear(this.retry);
        this.retry = undefined;
        return;
      case 'releaseIdle':
        return this.releaseIdle();
      case 'logDown':
        logger.warn(
          {
            reason: state.kind === 'down' ? state.reason : undefined,
            maxBufferedSamples: this.deps.maxBufferedSamples,
          },
          'redis store: Redis unreachable, buffering writes in memory',
        );
        return;
      case 'logReconnected':
        logger.info(
          {
            buffered: this.bufferedSamples(),
            downMs: prev.kind === 'down' ? clock.now() - prev.since : 0,
          },
          'redis store: Redis reachable again, flushing buffered writes',
        );
        return;
      case 'logRefusing':
        logger.error({ err: cause }, 'redis store: Redis refused a write pipeline; retrying');
        return;
      case 'logAccepted':
        logger.info('redis store: writes succeed again');
        return;
    }
  }

  /** verify checks the store survived the outage before anything is flushed into it. */
  private async verify(id: number): Promise<void> {
    let event: WriteEvent;
    try {
      event = { type: 'verified', storeFound: await this.deps.link.storeFound() };
    } catch (err) {
      event = { type: 'verifyFailed', message: (err as Error).message };
    }
    if (id === this.verification) this.dispatch(event);
  }

  private hasPending(): boolean {
    return this.loop !== undefined || this.inflight !== undefined || !this.deps.pending.empty;
  }

  private kick(): void {
    if (this.loop !== undefined || !canWrite(this.current)) return;
    this.loop = this.flushLoop().finally(() => {
      this.loop = undefined;
      this.releaseIdle();
    });
  }

  private async flushLoop(): Promise<void> {
    while (canWrite(this.current)) {
      let inflight: Inflight | undefined;
      try {
        inflight = this.inflight ??= this.takeBatch();
      } catch (err) {
        this.deps.logger.error({ err }, 'redis store: building a write pipeline failed');
        this.dispatch({ type: 'buildFailed', message: (err as Error).message });
        return;
      }
      if (!inflight) return;
      try {
        const results = await this.deps.link.exec(inflight.batch.commands);
        const failed = results.find(([err]) => err);
        if (failed?.[0]) throw failed[0];
        if (results.length !== inflight.batch.commands.length) throw new Error('pipeline reply incomplete');
      } catch (err) {
        this.onWriteFailure(inflight, err as Error);
        return;
      }
      this.deps.pending.acknowledged(inflight.batch);
      this.inflight = undefined;
      this.dispatch({ type: 'writeOk' });
      for (const w of inflight.waiters) w();
    }
  }

  private takeBatch(): Inflight | undefined {
    const batch = this.deps.pending.take();
    if (!batch) return undefined;
    const inflight = { batch, waiters: this.waiters };
    this.waiters = [];
    return inflight;
  }

  private onWriteFailure(inflight: Inflight, err: Error): void {
    // The samples are in memory and the batch is kept for a retry: the commits are acknowledged as buffered.
    const waiters = [...inflight.waiters, ...this.waiters];
    inflight.waiters = [];
    this.waiters = [];
    for (const w of waiters) w();
    this.dispatch({ type: 'writeFailed', message: err.message, linkReady: this.deps.link.ready() }, err);
  }

  private promoteDeferred(): void {
    this.deps.pending.promoteDeferred();
    this.lastBulkCheckpoint = this.deps.clock.now();
  }

  private releaseIdle(): void {
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of idle) w();
  }

  /** enforceBound drops the oldest buffered raw chunks while the buffer is over maxBufferedSamples. */
  private enforceBound(): void {
    const max = this.deps.maxBufferedSamples;
    if (this.deps.pending.samples <= max) return;
    const dropped = this.deps.pending.dropOldest(max);
    if (dropped > 0) {
      this.deps.droppedSamples.inc(dropped);
      this.droppedSinceLog += dropped;
    }
    const now = this.deps.clock.now();
    if (this.droppedSinceLog > 0 && now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.deps.logger.warn(
        { dropped: this.droppedSinceLog, buffered: this.bufferedSamples(), max },
        'redis store: outage buffer full, dropped the oldest buffered samples',
      );
      this.droppedSinceLog = 0;
      this.lastDropLog = now;
    }
  }
}
