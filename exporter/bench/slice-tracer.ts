/**
 * Slice tracer, preloaded into the exporter by `bench/loop.bench.ts --slices` (bundled, `node --import`):
 * measures, per scheduler job, its synchronous slices — how long each stretch of the job's own callbacks held
 * the event loop without giving it back.
 *
 * Attribution: the scheduler starts every run in the `openmanager:scheduler:job-run` diagnostics channel's
 * `runStores` (src/scheduler/job-run-channel.ts); binding an AsyncLocalStorage to it tags every
 * callback that descends from a run (timers, immediates, I/O and promise continuations it created, the
 * hub's fan-out a broadcast started, the rules a tick's frame listener evaluated) with the job's name.
 *
 * Measurement: async_hooks' before/after bracket every callback the loop runs, promise continuations
 * included. Callbacks of one job that follow each other with no gap (microtasks drained in one go, the
 * continuation of an await that did not suspend) are one slice: the loop was not given back in between.
 * A callback of another job, or a gap of more than GAP_MS (the loop polled or idled), ends the slice.
 * The hooks slow promise-heavy code down (PromQL, commits), so slices read somewhat longer than untraced.
 *
 * On a shared machine the process is also preempted mid-slice; the process's CPU time over the slice (all its
 * threads, so at least the main thread's share) bounds the part that was its own work.
 *
 * On exit it writes `{ <job>: [start, ms, monoUs, cpuMs, …] }` (start: Unix ms; monoUs: the start on the
 * monotonic clock in µs, which CPU profiles' sample times use; cpuMs: min(ms, the process's CPU time over
 * the slice); slices of at least MIN_MS) to the file named by OPENMANAGER_SLICE_TRACE. Callbacks of no job (requests, the hub's sockets, startup work)
 * are reported as `(none)`.
 */
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { channel } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { JOB_RUN_CHANNEL } from '../src/scheduler/job-run-channel.js';

/** GAP_MS: a pause this long between two callbacks means the loop did something else (poll, idle). */
const GAP_MS = 0.05;
/** MIN_MS: shorter slices are not recorded (they cannot matter against a 50 ms budget). */
const MIN_MS = 1;

const out = process.env.OPENMANAGER_SLICE_TRACE;
// Worker threads inherit the preload: only the main thread's event loop is traced.
if (out && isMainThread) {
  const als = new AsyncLocalStorage<string>();
  /** started is a run that started inside the current callback. */
  let started: { job: string; at: number } | undefined;
  channel(JOB_RUN_CHANNEL).bindStore(als, (msg) => {
    const name = (msg as { job: string }).job;
    // A run starts synchronously inside the scheduler's callback: its first part is the run's, not the caller's.
    if (depth > 0) started ??= { job: name, at: performance.now() };
    return name;
  });

  /** slices holds per job its slices of at least MIN_MS as (start, ms, monoUs, cpuMs) quads. */
  const slices = new Map<string, number[]>();
  let depth = 0;
  let job = '';
  let sliceStart = 0;
  let cpuAtStart = process.cpuUsage();
  let lastEnd = -Infinity;
  let cbStart = 0;
  let cbJob = '';

  const close = (): void => {
    if (job === '') return;
    const ms = lastEnd - sliceStart;
    if (ms >= MIN_MS) {
      let list = slices.get(job);
      if (!list) slices.set(job, (list = []));
      // The start also on the monotonic clock in µs, the clock of a CPU profile's sample times.
      const monoUs = Number(process.hrtime.bigint() / 1000n) - (performance.now() - sliceStart) * 1000;
      const cpu = process.cpuUsage(cpuAtStart);
      list.push(
        performance.timeOrigin + sliceStart,
        ms,
        monoUs,
        Math.min(ms, (cpu.user + cpu.system) / 1000),
      );
    }
    job = '';
  };

  /** segment adds [start, end] of `name`'s work: it extends the open slice or starts a new one. */
  const segment = (name: string, start: number, end: number): void => {
    if (name !== job || start - lastEnd > GAP_MS) {
      close();
      job = name;
      sliceStart = start;
      cpuAtStart = process.cpuUsage();
    }
    lastEnd = end;
  };

  createHook({
    before() {
      if (depth++ > 0) return;
      cbStart = performance.now();
      cbJob = als.getStore() ?? '(none)';
    },
    after() {
      if (--depth > 0) return;
      if (depth < 0) depth = 0;
      const end = performance.now();
      if (started) {
        segment(cbJob, cbStart, started.at);
        segment(started.job, started.at, end);
        started = undefined;
      } else segment(cbJob, cbStart, end);
    },
  }).enable();

  process.on('exit', () => {
    close();
    writeFileSync(out, JSON.stringify(Object.fromEntries(slices)));
  });
}
