/**
 * The seed's central timer manager: one place that runs the exporter's periodic jobs (generation, broadcast,
 * cleanup, health) instead of one setInterval per feature.
 *
 * - Drift-free: a job's runs are pinned to its schedule, the multiples of its interval since the Unix epoch
 *   (so a 15 s job runs at :00, :15, :30, :45), never "interval after the previous run ended". Slots missed
 *   because the process stalled are skipped and counted, not run late in a burst.
 * - A job never overlaps itself: when its slot comes while its previous run is still going, the slot is
 *   skipped and counted.
 * - Priority orders jobs that fall due at the same instant (generation before broadcast, so the broadcast
 *   sees the new frame). Each of them starts in its own turn of the event loop, so the synchronous parts of
 *   jobs due together never add up to one long block: timers, I/O and requests run between them.
 * - A failing job is logged and counted; the others and its own next slot are unaffected.
 * - `stop()` disarms the timer and waits for the runs in flight.
 * - Fed the event-loop lag samples (`noteLoopLag`), it keeps per job the longest block seen while a run of it
 *   was in flight: an upper bound of how long the job held the loop (exact for a job running alone). A block
 *   counts only as far as the process was on the CPU meanwhile: a host that does not run the exporter is not
 *   a job's doing.
 */
import { channel } from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { systemTimer, type Timer, type TimerHandle } from '../util/timer.js';
import { JOB_RUN_CHANNEL } from './job-run-channel.js';

const jobRun = channel(JOB_RUN_CHANNEL);

/** JobPriority orders jobs due at the same instant: `high` first. */
export type JobPriority = 'high' | 'normal' | 'low';

const PRIORITY_RANK: Readonly<Record<JobPriority, number>> = { high: 0, normal: 1, low: 2 };

/** JobContext is what a run receives: the slot it runs for and a signal aborted by `stop()`. */
export interface JobContext {
  /** scheduledAt is the slot time (clock ms, a multiple of the interval), not the time the run started. */
  readonly scheduledAt: number;
  readonly signal: AbortSignal;
}

/** JobSpec describes one job. */
export interface JobSpec {
  readonly name: string;
  readonly intervalMs: number;
  readonly priority?: JobPriority;
  /** runAtStart runs the job for the current slot at `start()` instead of waiting for the next (default true). */
  readonly runAtStart?: boolean;
  run(ctx: JobContext): Promise<void> | void;
}

/** JobStats is a job's state, for system-status and tests. */
export interface JobStats {
  readonly name: string;
  readonly intervalMs: number;
  readonly priority: JobPriority;
  readonly runs: number;
  readonly failures: number;
  readonly skippedOverlap: number;
  readonly skippedLate: number;
  readonly running: boolean;
  readonly lastSuccess?: number;
  readonly lastError?: string;
  readonly nextAt?: number;
  /** maxLoopBlockMs is the longest event-loop block seen while a run of the job was in flight. */
  readonly maxLoopBlockMs: number;
}

interface Job {
  readonly spec: JobSpec;
  readonly priority: JobPriority;
  readonly order: number;
  nextAt: number;
  running: Promise<void> | undefined;
  runs: number;
  failures: number;
  skippedOverlap: number;
  skippedLate: number;
  lastSuccess: number | undefined;
  lastError: string | undefined;
  /** endedAt is when the last run ended (performance.now() ms), to blame lag on a run that just ended. */
  endedAt: number;
  maxLoopBlockMs: number;
}

/** SchedulerDeps are the scheduler's injected parts. */
export interface SchedulerDeps {
  readonly clock: Clock;
  readonly timer?: Timer;
  readonly logger: Logger;
  readonly registry: Registry;
}

/**
 * JOB_DURATION_BUCKETS span 1 ms (a cheap broadcast) to 10 s (a retention pass over a large store), in seconds.
 */
const JOB_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Scheduler runs named jobs on drift-free, non-overlapping schedules. */
export class Scheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly clock: Clock;
  private readonly timer: Timer;
  private readonly logger: Logger;
  private handle: TimerHandle;
  private armedFor: number | undefined;
  private started = false;
  private stopped = false;
  private readonly abort = new AbortController();
  /** launching holds the chains starting the rest of a slot's due jobs, one per loop turn. */
  private readonly launching = new Set<Promise<void>>();
  private readonly duration: Histogram<'job'>;
  private readonly failures: Counter<'job'>;
  private readonly skipped: Counter<'job' | 'reason'>;
  private readonly lastSuccess: Gauge<'job'>;
  private readonly loopBlockMax: Gauge<'job'>;

  constructor(deps: SchedulerDeps) {
    this.clock = deps.clock;
    this.timer = deps.timer ?? systemTimer;
    this.logger = deps.logger.child({ component: 'scheduler' });
    const registers = [deps.registry];
    this.duration = new Histogram({
      name: 'openmanager_exporter_scheduler_job_duration_seconds',
      help: 'Duration of scheduler job runs.',
      labelNames: ['job'],
      buckets: JOB_DURATION_BUCKETS,
      registers,
    });
    this.failures = new Counter({
      name: 'openmanager_exporter_scheduler_job_failures_total',
      help: 'Scheduler job runs that threw or rejected.',
      labelNames: ['job'],
      registers,
    });
    this.skipped = new Counter({
      name: 'openmanager_exporter_scheduler_job_skipped_total',
      help: 'Scheduler slots not run: reason="overlap" (previous run still going) or "late" (process stalled).',
      labelNames: ['job', 'reason'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'openmanager_exporter_scheduler_job_last_success_timestamp_seconds',
      help: 'Unix time of the end of the last successful run of each scheduler job.',
      labelNames: ['job'],
      registers,
    });
    this.loopBlockMax = new Gauge({
      name: 'openmanager_exporter_scheduler_job_loop_block_max_seconds',
      help: 'Longest event-loop block (lag while the process was on CPU) seen while a run of each job was in flight.',
      labelNames: ['job'],
      registers,
    });
  }

  /** register adds a job; after `start()` it is scheduled at once. Names are unique. */
  register(spec: JobSpec): void {
    if (this.jobs.has(spec.name)) throw new Error(`scheduler: job "${spec.name}" is already registered`);
    if (!(spec.intervalMs > 0)) throw new Error(`scheduler: job "${spec.name}" needs a positive interval`);
    const job: Job = {
      spec,
      priority: spec.priority ?? 'normal',
      order: this.jobs.size,
      nextAt: Number.POSITIVE_INFINITY,
      running: undefined,
      runs: 0,
      failures: 0,
      skippedOverlap: 0,
      skippedLate: 0,
      lastSuccess: undefined,
      lastError: undefined,
      endedAt: Number.NEGATIVE_INFINITY,
      maxLoopBlockMs: 0,
    };
    this.jobs.set(spec.name, job);
    // Zero-initialise the per-job series so dashboards see every job before its first failure or skip.
    this.failures.inc({ job: spec.name }, 0);
    this.skipped.inc({ job: spec.name, reason: 'overlap' }, 0);
    this.skipped.inc({ job: spec.name, reason: 'late' }, 0);
    this.loopBlockMax.set({ job: spec.name }, 0);
    if (this.started && !this.stopped) {
      this.schedule(job, this.clock.now());
      this.fire();
    }
  }

  /** start schedules every registered job (running those with runAtStart for the current slot). */
  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.clock.now();
    for (const job of this.byPriority([...this.jobs.values()])) this.schedule(job, now);
    this.fire();
  }

  /** stop disarms the timer, aborts the jobs' signal and resolves when every run in flight has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== undefined) this.timer.clear(this.handle);
    this.handle = undefined;
    this.abort.abort();
    await this.settled();
  }

  /** settled resolves when no run is in flight (tests use it after advancing a ManualTimer). */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.jobs.values()].flatMap((j) => (j.running ? [j.running] : []));
      if (running.length === 0 && this.launching.size === 0) return;
      await Promise.all([...running, ...this.launching]);
    }
  }

  /** runNow runs a job immediately for the current instant (unless it is running) and waits for it. */
  async runNow(name: string): Promise<void> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`scheduler: no job "${name}"`);
    this.launch(job, this.clock.now());
    await job.running;
  }

  /**
   * noteLoopLag takes one event-loop lag sample (EventLoopLag.onSample): the loop was blocked for `lagMs`
   * somewhere after `sinceMs` (performance.now() ms), of which the process's own work is at most `cpuMs`, so
   * every job in flight since then is a suspect for the smaller of the two.
   */
  noteLoopLag(lagMs: number, sinceMs: number, cpuMs = lagMs): void {
    const blockMs = Math.min(lagMs, cpuMs);
    for (const job of this.jobs.values()) {
      if (blockMs <= job.maxLoopBlockMs || (job.running === undefined && job.endedAt < sinceMs)) continue;
      job.maxLoopBlockMs = blockMs;
      this.loopBlockMax.set({ job: job.spec.name }, blockMs / 1000);
    }
  }

  /** stats reports every job's counters and state. */
  stats(): JobStats[] {
    return [...this.jobs.values()].map((j) => ({
      name: j.spec.name,
      intervalMs: j.spec.intervalMs,
      priority: j.priority,
      runs: j.runs,
      failures: j.failures,
      skippedOverlap: j.skippedOverlap,
      skippedLate: j.skippedLate,
      running: j.running !== undefined,
      ...(j.lastSuccess !== undefined ? { lastSuccess: j.lastSuccess } : {}),
      ...(j.lastError !== undefined ? { lastError: j.lastError } : {}),
      ...(Number.isFinite(j.nextAt) ? { nextAt: j.nextAt } : {}),
      maxLoopBlockMs: j.maxLoopBlockMs,
    }));
  }

  private byPriority(jobs: Job[]): Job[] {
    return jobs.sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.order - b.order);
  }

  /** schedule sets a new job's first slot: the current slot when it runs at start, else the next one. */
  private schedule(job: Job, now: number): void {
    const interval = job.spec.intervalMs;
    const current = Math.floor(now / interval) * interval;
    job.nextAt = job.spec.runAtStart === false ? current + interval : current;
  }

  /** fire runs every job whose slot has come, in priority order, then re-arms the timer for the earliest next. */
  private fire(): void {
    this.handle = undefined;
    this.armedFor = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    const due = this.byPriority([...this.jobs.values()].filter((j) => j.nextAt <= now));
    const runs: (readonly [Job, number])[] = [];
    for (const job of due) {
      const interval = job.spec.intervalMs;
      // The newest slot that has come; older ones the process slept through are counted, not replayed.
      const slot = job.nextAt + Math.floor((now - job.nextAt) / interval) * interval;
      const missed = Math.round((slot - job.nextAt) / interval);
      if (missed > 0) {
        job.skippedLate += missed;
        this.skipped.inc({ job: job.spec.name, reason: 'late' }, missed);
        this.logger.warn({ job: job.spec.name, missed }, 'scheduler: slots missed (process stalled)');
      }
      job.nextAt = slot + interval;
      runs.push([job, slot]);
    }
    this.launchInTurns(runs);
    this.arm();
  }

  /**
   * launchInTurns starts the first run now and each of the others in a later turn of the event loop
   * (setImmediate: after the pending timers and I/O), in order.
   */
  private launchInTurns(runs: readonly (readonly [Job, number])[]): void {
    const [first, ...rest] = runs;
    if (first) this.launch(...first);
    if (rest.length === 0) return;
    const chain = (async () => {
      for (const [job, slot] of rest) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopped) return;
        this.launch(job, slot);
      }
    })();
    this.launching.add(chain);
    void chain.finally(() => this.launching.delete(chain));
  }

  private arm(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const j of this.jobs.values()) earliest = Math.min(earliest, j.nextAt);
    if (!Number.isFinite(earliest) || this.stopped) return;
    if (this.handle !== undefined && this.armedFor === earliest) return;
    if (this.handle !== undefined) this.timer.clear(this.handle);
    this.armedFor = earliest;
    this.handle = this.timer.set(() => this.fire(), earliest - this.clock.now());
  }

  private launch(job: Job, scheduledAt: number): void {
    const name = job.spec.name;
    if (job.running) {
      job.skippedOverlap++;
      this.skipped.inc({ job: name, reason: 'overlap' });
      this.logger.warn({ job: name, scheduledAt }, 'scheduler: previous run still going, slot skipped');
      return;
    }
    const started = performance.now();
    let done = false;
    const run = async (): Promise<void> => {
      try {
        const ctx = { scheduledAt, signal: this.abort.signal };
        await jobRun.runStores({ job: name }, () => job.spec.run(ctx));
        job.lastSuccess = this.clock.now();
        job.lastError = undefined;
        this.lastSuccess.set({ job: name }, job.lastSuccess / 1000);
      } catch (err) {
        job.failures++;
        job.lastError = err instanceof Error ? err.message : String(err);
        this.failures.inc({ job: name });
        this.logger.error({ err, job: name, scheduledAt }, 'scheduler: job failed');
      } finally {
        job.runs++;
        job.endedAt = performance.now();
        this.duration.observe({ job: name }, (job.endedAt - started) / 1000);
        job.running = undefined;
        done = true;
      }
    };
    const running = run();
    // A job that finishes synchronously (e.g. throws before its first await) has already cleared `running`.
    if (!done) job.running = running;
  }
}
