/**
 * Benchmark of event-loop blocking by the exporter's periodic jobs: `npm run bench:loop -w exporter`.
 *
 * The real exporter (`npm start`'s bundle and node flags, through test/exporter-process.ts) runs at 20 servers
 * with a temporary data dir and a day of backfilled history (the hour is measured once the rules have been
 * replayed over it: startup work, not a periodic job), under `--speed 30 --job-clock simulated`: every
 * periodic job (generation, broadcast, system-status, health, cleanup, snapshot) runs 30× as often, so an hour
 * of the exporter's life passes in two minutes. 1,000 WebSocket clients (the ws package, in this process)
 * subscribe as the plugin's Fleet page does (`server-metrics` and `alerts`, no server filter). Deflate is not
 * negotiated: ws inflates each message on a shared async queue, which at 1,000 clients in one process would
 * measure this harness instead of the exporter (a browser inflates its own one message).
 *
 * Broadcast lateness: a broadcast is due when the simulated clock reaches its slot (a multiple of the 5 s
 * broadcast period); its wall time comes from the simulated clock, read through the PromQL API (`time()`)
 * before the clients connect. For every client and slot of the hour, lateness is the time from the slot's
 * wall time to the first server-metrics message the client received after it: a slot the scheduler skipped
 * because the loop was blocked past it is late until the next broadcast arrives. It includes writing to
 * 1,000 sockets and this process reading them. Frame age (receipt − the wall time of the 15 s tick whose
 * frame the message carries; up to two broadcast periods when all is well) shows ticks that fell behind.
 *
 * At the end the exporter's /metrics give the event-loop lag histogram over the measured hour (difference of
 * two scrapes), the scheduler's per-job run durations and, per job, the longest block seen while it ran (lag
 * counted only as far as the exporter was on the CPU: on a shared machine other processes delay its timers
 * too, and the lag histogram shows that as well).
 * `--profile` also records a CPU profile of the exporter and prints its longest blocks with the functions
 * that held the loop. `--slices` preloads bench/slice-tracer.ts into the exporter and prints, per job, its
 * synchronous slices in the measured hour (how long the job held the loop at a stretch, exactly rather than
 * as lag seen while it was in flight; the tracer's hooks slow the exporter a little, so measure lateness
 * without it). Prints a table, then as the last line one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import { WebSocket } from 'ws';
import { LAG_BUCKETS_SECONDS } from '../src/metrics/event-loop-lag.js';
import { DEFAULT_OPTIONS } from '../src/options.js';
import type { ParsedFamily } from '../test/exposition-parser.js';
import { EXPORTER_DIR, ExporterProcess } from '../test/exporter-process.js';
import { framesIn, readProfile } from './profile-blocks.js';

const { values: flags } = parseArgs({
  options: {
    profile: { type: 'boolean', default: false },
    slices: { type: 'boolean', default: false },
    entry: { type: 'string', default: 'bundle' },
    backfill: { type: 'string', default: '1d' },
    speed: { type: 'string', default: '30' },
    clients: { type: 'string', default: '1000' },
    'sim-seconds': { type: 'string', default: '3600' },
  },
});

/** SERVERS is the seed's fleet size, the size the requirement names. */
const SERVERS = 20;
/** CLIENTS is the hub's default connection limit, the client count the requirement names. */
const CLIENTS = Number(flags.clients);
/** SIM_SECONDS is the simulated time measured: one hour, so every periodic job runs several times. */
const SIM_SECONDS = Number(flags['sim-seconds']);
/** SPEED runs the hour in 3600 / 30 = 120 s of wall time, inside the bench's 3-minute budget. */
const SPEED = Number(flags.speed);
/** TICK_MS and BROADCAST_MS are the defaults a user gets: a 15 s tick, a broadcast every 5 s. */
const TICK_MS = DEFAULT_OPTIONS.tickSeconds * 1000;
const BROADCAST_MS = DEFAULT_OPTIONS.broadcastSeconds * 1000;
/** CONNECT_CONCURRENCY bounds handshakes in flight (the hub's accept queue is not the subject here). */
const CONNECT_CONCURRENCY = 100;
/**
 * RULES_REPLAYED is what the exporter logs when the rules caught up with the backfilled history (compose.ts).
 * The replay runs in the background after the exporter is ready and is no periodic job: the measured hour
 * starts after it, so it measures the jobs in steady state, not the end of startup.
 */
const RULES_REPLAYED = 'rules replayed over history';
/** REPLAY_TIMEOUT_MS bounds the wait for the replay (a day of history takes seconds). */
const REPLAY_TIMEOUT_MS = 300_000;
/** SETTLE_MS lets the exporter absorb the connection burst before the measured hour starts. */
const SETTLE_MS = 2_000;
/** BUDGET_MS is the block the requirement allows any periodic job. */
const BUDGET_MS = 50;
/** CHANNELS are what the plugin's Fleet page subscribes to (plugin/src/hooks/useFleet.ts). */
const CHANNELS = ['server-metrics', 'alerts'];
const TIMESTAMP_KEY = '"timestamp":';
const SERVER_METRICS_HEAD = '{"type":"data","channel":"server-metrics"';

const now = (): number => performance.timeOrigin + performance.now();
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** quantile returns quantile q (0–1) of an ascending array. */
const quantile = (sorted: Float64Array, q: number): number =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);

/** SimClock maps the exporter's simulated time to this process's wall time (both Unix ms). */
interface SimClock {
  readonly simAt0: number;
  readonly wallAt0: number;
}

const wallOf = (c: SimClock, sim: number): number => c.wallAt0 + (sim - c.simAt0) / SPEED;
const simOf = (c: SimClock, wall: number): number => c.simAt0 + (wall - c.wallAt0) * SPEED;

/** readSimClock asks the exporter for `time()` a few times and keeps the reading with the shortest round trip. */
async function readSimClock(url: string): Promise<SimClock> {
  let best: (SimClock & { rtt: number }) | undefined;
  for (let i = 0; i < 7; i++) {
    const sent = now();
    const res = await fetch(`${url}/api/prometheus/api/v1/query?query=time()`);
    const got = now();
    const body = (await res.json()) as { data: { result: [number, string] } };
    const rtt = got - sent;
    if (best === undefined || rtt < best.rtt)
      best = { simAt0: Number(body.data.result[1]) * 1000, wallAt0: (sent + got) / 2, rtt };
  }
  if (best === undefined) throw new Error('no time() reading');
  return best;
}

/**
 * SLOT_TOLERANCE_MS absorbs the error of the simulated clock's mapping to wall time (a local round trip, 1 ms
 * clock resolution): a message is never sent before its slot, so one seen up to this early still serves it.
 */
const SLOT_TOLERANCE_MS = 5;

/** Lateness collects, for every client and broadcast slot of the hour, how late the client was served. */
class Lateness {
  /** perSlot holds, per broadcast slot (simulated ms), each client's lateness. */
  readonly perSlot = new Map<number, number[]>();
  readonly frameAge: number[] = [];
  constructor(
    private readonly clock: SimClock,
    readonly fromSim: number,
    readonly toSim: number,
  ) {}

  /**
   * serve records a message received at `at` carrying the frame of `frameT`: it serves every slot from
   * `nextSlot` whose wall time has come; returns the client's next unserved slot.
   */
  serve(nextSlot: number, at: number, frameT: number): number {
    let slot = nextSlot;
    for (; slot < this.toSim && wallOf(this.clock, slot) <= at + SLOT_TOLERANCE_MS; slot += BROADCAST_MS) {
      let list = this.perSlot.get(slot);
      if (list === undefined) this.perSlot.set(slot, (list = []));
      list.push(Math.max(0, at - wallOf(this.clock, slot)));
    }
    if (slot > nextSlot && nextSlot < this.toSim) this.frameAge.push(at - wallOf(this.clock, frameT));
    return slot;
  }

  /** perMessage is every client's lateness for every slot served. */
  perMessage(): Float64Array {
    return Float64Array.from([...this.perSlot.values()].flat()).sort();
  }
}

/** Client is one hub connection subscribed as the Fleet page is; it reports its server-metrics messages. */
class Client {
  private nextSlot: number | undefined;
  readonly closers: (() => void)[] = [];
  constructor(private readonly sink: () => Lateness | undefined) {}

  open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      let ready = false;
      ws.on('error', (err) => {
        if (!ready) reject(err);
      });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channels: CHANNELS })));
      ws.on('message', (data: Buffer) => {
        const at = now();
        // The hub fixes the key order (type, channel, timestamp, data): read the timestamp without parsing.
        const head = data.subarray(0, 96).toString('latin1');
        if (!ready && head.startsWith('{"type":"subscriptions"')) {
          ready = true;
          this.closers.push(() => ws.terminate());
          resolve();
          return;
        }
        const lateness = this.sink();
        if (lateness === undefined || !head.startsWith(SERVER_METRICS_HEAD)) return;
        const i = head.indexOf(TIMESTAMP_KEY);
        const t = Number(head.slice(i + TIMESTAMP_KEY.length, head.indexOf(',', i)));
        this.nextSlot = lateness.serve(this.nextSlot ?? lateness.fromSim, at, t);
      });
    });
  }
}

type Families = Map<string, ParsedFamily>;

/** bucketsOf returns a histogram's cumulative bucket counts by upper bound (+Inf included). */
function bucketsOf(m: Families, family: string, labels: Record<string, string> = {}): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of m.get(family)?.samples ?? []) {
    if (!s.name.endsWith('_bucket')) continue;
    if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    out.set(Number(s.labels.le === '+Inf' ? Infinity : s.labels.le), s.value);
  }
  return out;
}

function sampleOf(m: Families, family: string, name: string, labels: Record<string, string> = {}): number {
  const s = m
    .get(family)
    ?.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value ?? 0;
}

/** histogramQuantile interpolates quantile q in cumulative buckets, as PromQL's histogram_quantile does. */
function histogramQuantile(q: number, buckets: Map<number, number>): number {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const b of bounds) {
    const c = buckets.get(b) ?? 0;
    if (c >= rank) {
      if (b === Infinity) return prevBound;
      return prevBound + ((b - prevBound) * (rank - prevCount)) / Math.max(1, c - prevCount);
    }
    prevBound = b;
    prevCount = c;
  }
  return prevBound;
}

/** delta subtracts two scrapes' cumulative buckets. */
function delta(a: Map<number, number>, b: Map<number, number>): Map<number, number> {
  return new Map([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)]));
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}

async function main(): Promise<void> {
  const build = spawnSync('npm', ['run', 'prestart'], { cwd: EXPORTER_DIR, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run prestart (the bundle) failed');
  const profileDir = flags.profile ? mkdtempSync(join(tmpdir(), 'om-loop-prof-')) : undefined;
  const sliceDir = flags.slices ? mkdtempSync(join(tmpdir(), 'om-loop-slices-')) : undefined;
  const sliceFile = sliceDir ? join(sliceDir, 'slices.json') : undefined;
  // The tracer is preloaded as JavaScript, not through tsx: worker threads inherit the exporter's node flags,
  // and the chunk encoder's worker, unable to load a .ts file, failed, so snapshots encoded in-thread.
  const tracer = sliceDir ? join(sliceDir, 'slice-tracer.mjs') : undefined;
  if (tracer) {
    buildSync({
      entryPoints: [fileURLToPath(new URL('./slice-tracer.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: tracer,
    });
  }
  const nodeFlags = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ...(tracer ? [`--import=${pathToFileURL(tracer).href}`] : []),
  ];
  const began = now();
  const exporter = await ExporterProcess.start({
    entry: flags.entry === 'tsx' ? 'tsx' : 'bundle',
    backfill: flags.backfill,
    tickSeconds: TICK_MS / 1000,
    args: ['--servers', String(SERVERS), '--speed', String(SPEED), '--job-clock', 'simulated'],
    startupTimeoutMs: 300_000,
    ...(nodeFlags.length > 0 ? { nodeFlags } : {}),
    ...(sliceFile ? { env: { OPENMANAGER_SLICE_TRACE: sliceFile } } : {}),
  });
  const readyMs = now() - began;
  // The log tail is a bounded buffer, so the line is looked for as it passes, not searched for at the end.
  while (flags.backfill !== '0' && !exporter.stdoutTail().includes(RULES_REPLAYED)) {
    if (now() - began > REPLAY_TIMEOUT_MS) throw new Error('the rules replay did not finish');
    await sleep(100);
  }
  const replayedMs = now() - began;
  const clients: Client[] = [];
  let lateness: Lateness | undefined;
  try {
    const clock = await readSimClock(exporter.url);
    const wsUrl = `${exporter.url.replace(/^http/, 'ws')}/ws`;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECT_CONCURRENCY }, async () => {
        while (next < CLIENTS) {
          next++;
          const c = new Client(() => lateness);
          clients.push(c);
          await c.open(wsUrl);
        }
      }),
    );
    await sleep(SETTLE_MS);
    // The measured hour starts at the next broadcast slot.
    const fromSim = Math.ceil(simOf(clock, now()) / BROADCAST_MS) * BROADCAST_MS;
    const toSim = fromSim + SIM_SECONDS * 1000;
    lateness = new Lateness(clock, fromSim, toSim);
    const before = await exporter.metrics();
    const load = loadavg();
    await sleep(Math.max(0, wallOf(clock, toSim) - now()));
    // Copies still in flight for the last slots arrive within this.
    await sleep(1_000);
    const after = await exporter.metrics();
    let result = report(lateness, before, after, { readyMs, replayedMs, fromSim, toSim, clock, load });
    for (const c of clients) for (const close of c.closers) close();
    await exporter.stop();
    const hourFrom = wallOf(clock, fromSim);
    const hourTo = wallOf(clock, toSim);
    if (sliceFile) result = printSlices(sliceFile, hourFrom, hourTo, result, profileDir);
    // The profile's clock starts with the process, just after `began`: keep the blocks of the measured hour.
    const hourMs = wallOf(clock, fromSim) - began;
    if (profileDir) printProfile(profileDir, hourMs, hourMs + (SIM_SECONDS * 1000) / SPEED);
    process.stdout.write(result + '\n');
  } finally {
    for (const c of clients) for (const close of c.closers) close();
    await exporter.stop();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    if (sliceDir) rmSync(sliceDir, { recursive: true, force: true });
  }
}

/**
 * printSlices prints each job's synchronous slices that started in [fromMs, toMs] (Unix ms) from the slice
 * tracer's file and returns the JSON line with `max_job_slice_ms` (the longest slice of any job) added.
 */
function printSlices(
  file: string,
  fromMs: number,
  toMs: number,
  json: string,
  profileDir: string | undefined,
): string {
  const byJob = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number[]>;
  const rows: string[][] = [
    [
      'job (slices ≥ 1 ms)',
      'slices',
      'p99 ms',
      'max ms',
      `> ${BUDGET_MS} ms`,
      'max on-CPU ms',
      `on-CPU > ${BUDGET_MS} ms`,
      'longest (ms @ s into the hour)',
    ],
  ];
  let maxJobSlice = 0;
  let maxJobSliceCpu = 0;
  const worst: { job: string; at: number; ms: number; monoUs: number }[] = [];
  for (const [job, pairs] of Object.entries(byJob).sort()) {
    const inHour: { at: number; ms: number; monoUs: number; cpuMs: number }[] = [];
    for (let i = 0; i + 3 < pairs.length; i += 4) {
      const at = pairs[i] ?? 0;
      if (at >= fromMs && at <= toMs)
        inHour.push({ at, ms: pairs[i + 1] ?? 0, monoUs: pairs[i + 2] ?? 0, cpuMs: pairs[i + 3] ?? 0 });
    }
    const cpu = Float64Array.from(inHour, (s) => s.cpuMs).sort();
    const maxCpu = cpu[cpu.length - 1] ?? 0;
    if (job !== '(none)') maxJobSliceCpu = Math.max(maxJobSliceCpu, maxCpu);
    for (const s of [...inHour].sort((a, b) => b.ms - a.ms).slice(0, 3)) worst.push({ job, ...s });
    const sorted = Float64Array.from(inHour, (s) => s.ms).sort();
    const longest = [...inHour].sort((a, b) => b.ms - a.ms).slice(0, 3);
    const max = sorted[sorted.length - 1] ?? 0;
    if (job !== '(none)') maxJobSlice = Math.max(maxJobSlice, max);
    rows.push([
      job,
      String(sorted.length),
      String(round(quantile(sorted, 0.99))),
      String(round(max)),
      String(sorted.filter((ms) => ms > BUDGET_MS).length),
      String(round(maxCpu)),
      String(cpu.filter((ms) => ms > BUDGET_MS).length),
      longest.map((s) => `${round(s.ms)} @ ${round((s.at - fromMs) / 1000)}`).join(', '),
    ]);
  }
  process.stdout.write(
    `${table(rows)}\n\nslice: a stretch of one job's callbacks (its promise continuations included) with no loop\n` +
      'turn in between (bench/slice-tracer.ts); (none) is work of no scheduler job: requests, sockets.\n' +
      "on-CPU: the slice's wall time capped by the process's CPU time meanwhile (a preempted process is not\n" +
      'its own work holding the loop).\n\n',
  );
  // With a profile: what each job did in its three longest slices.
  const profile = profileDir
    ? readdirSync(profileDir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    : undefined;
  if (profileDir && profile) {
    const frames = framesIn(
      join(profileDir, profile),
      worst.map((w) => ({ fromUs: w.monoUs, toUs: w.monoUs + w.ms * 1000 })),
    );
    worst.forEach((w, k) => {
      process.stdout.write(`\n  ${w.job}: ${round(w.ms)} ms slice at ${round((w.at - fromMs) / 1000)} s\n`);
      for (const s of frames[k]?.top ?? [])
        process.stdout.write(`    incl ${String(round(s.ms)).padStart(6)}  ${s.frame}\n`);
      for (const s of (frames[k]?.leaves ?? []).slice(0, 4))
        process.stdout.write(`    self ${String(round(s.ms)).padStart(6)}  ${s.frame}\n`);
    });
    process.stdout.write('\n');
  }
  const parsed = JSON.parse(json) as Record<string, unknown>;
  return JSON.stringify({
    ...parsed,
    max_job_slice_ms: round(maxJobSlice),
    max_job_slice_on_cpu_ms: round(maxJobSliceCpu),
  });
}

/** report prints the tables and returns the JSON line. */
function report(
  lateness: Lateness,
  before: Families,
  after: Families,
  run: {
    readyMs: number;
    replayedMs: number;
    fromSim: number;
    toSim: number;
    clock: SimClock;
    load: readonly number[];
  },
): string {
  const LAG = 'openmanager_exporter_event_loop_lag_seconds';
  const lag = delta(bucketsOf(before, LAG), bucketsOf(after, LAG));
  const lagCount = lag.get(Infinity) ?? 0;
  const maxBefore = sampleOf(
    before,
    `${LAG.replace('_seconds', '_max_seconds')}`,
    LAG.replace('_seconds', '_max_seconds'),
  );
  const maxAfter = sampleOf(
    after,
    `${LAG.replace('_seconds', '_max_seconds')}`,
    LAG.replace('_seconds', '_max_seconds'),
  );
  // The gauge is the largest lag since the exporter started: exact for the hour when it rose during it, else
  // the hour's largest lag is at most the upper bound of the highest bucket that grew.
  const bounds = [...LAG_BUCKETS_SECONDS, Infinity];
  let highest = 0;
  let prev = 0;
  for (const b of bounds) {
    const c = lag.get(b) ?? 0;
    if (c > prev) highest = b;
    prev = c;
  }
  const maxExact = maxAfter > maxBefore;
  const lagMaxMs = maxExact ? maxAfter * 1000 : Math.min(maxBefore, highest) * 1000;
  const lagRows: string[][] = [['event-loop lag ≤', 'samples', 'share']];
  prev = 0;
  for (const b of bounds) {
    const c = lag.get(b) ?? 0;
    lagRows.push([
      b === Infinity ? '+Inf' : `${b * 1000} ms`,
      String(c - prev),
      `${round((100 * (c - prev)) / Math.max(1, lagCount), 2)} %`,
    ]);
    prev = c;
  }

  const JOB = 'openmanager_exporter_scheduler_job_duration_seconds';
  const JOB_LAG = 'openmanager_exporter_scheduler_job_loop_block_max_seconds';
  const SKIPPED = 'openmanager_exporter_scheduler_job_skipped_total';
  const jobs = [...new Set((after.get(JOB)?.samples ?? []).map((s) => s.labels.job ?? ''))].sort();
  const jobRows: string[][] = [
    ['job', 'runs', 'mean run ms', 'p99 run ms', 'max block ms', 'skipped late', 'skipped overlap'],
  ];
  let maxJobBlock = 0;
  let blockBounded = false;
  for (const job of jobs) {
    const runs =
      sampleOf(after, JOB, `${JOB}_count`, { job }) - sampleOf(before, JOB, `${JOB}_count`, { job });
    const sum = sampleOf(after, JOB, `${JOB}_sum`, { job }) - sampleOf(before, JOB, `${JOB}_sum`, { job });
    const d = delta(bucketsOf(before, JOB, { job }), bucketsOf(after, JOB, { job }));
    // The gauge is the largest block since the scheduler started (startup, the rules replay included): the
    // hour's when it rose during the hour, else the hour's is at most the smaller of the earlier largest
    // and the hour's largest lag.
    const blockBefore = sampleOf(before, JOB_LAG, JOB_LAG, { job }) * 1000;
    const blockAfter = sampleOf(after, JOB_LAG, JOB_LAG, { job }) * 1000;
    const blockExact = blockAfter > blockBefore;
    const block = blockExact ? blockAfter : Math.min(blockBefore, lagMaxMs);
    if (!blockExact) blockBounded = true;
    const late =
      sampleOf(after, SKIPPED, SKIPPED, { job, reason: 'late' }) -
      sampleOf(before, SKIPPED, SKIPPED, { job, reason: 'late' });
    const overlap =
      sampleOf(after, SKIPPED, SKIPPED, { job, reason: 'overlap' }) -
      sampleOf(before, SKIPPED, SKIPPED, { job, reason: 'overlap' });
    maxJobBlock = Math.max(maxJobBlock, block);
    jobRows.push([
      job,
      String(runs),
      String(round((1000 * sum) / Math.max(1, runs))),
      String(round(1000 * histogramQuantile(0.99, d))),
      `${blockExact ? '' : '≤ '}${round(block)}`,
      String(late),
      String(overlap),
    ]);
  }

  const late = lateness.perMessage();
  const age = Float64Array.from(lateness.frameAge).sort();
  const slots = [...lateness.perSlot.values()].map((l) => Float64Array.from(l).sort());
  const slotMedians = Float64Array.from(slots.map((l) => quantile(l, 0.5))).sort();
  const expectedSlots = (run.toSim - run.fromSim) / BROADCAST_MS;
  const lateSlots = slotMedians.filter((m) => m > BUDGET_MS).length;
  const bcRows: string[][] = [
    ['broadcast lateness', 'ms'],
    ['per client message p50', String(round(quantile(late, 0.5)))],
    ['per client message p99', String(round(quantile(late, 0.99)))],
    ['per client message max', String(round(late[late.length - 1] ?? NaN))],
    ['per broadcast (median client) p50', String(round(quantile(slotMedians, 0.5)))],
    ['per broadcast (median client) max', String(round(slotMedians[slotMedians.length - 1] ?? NaN))],
    [`broadcasts whose median client was > ${BUDGET_MS} ms late`, `${lateSlots} of ${slots.length}`],
    ['client slots served / expected', `${late.length} / ${expectedSlots * CLIENTS}`],
    ['frame age at receipt p50 / p99 / max', [0.5, 0.99, 1].map((q) => round(quantile(age, q))).join(' / ')],
  ];
  const lagP50 = histogramQuantile(0.5, lag) * 1000;
  const lagP99 = histogramQuantile(0.99, lag) * 1000;
  const summary: string[][] = [
    ['run', ''],
    ['servers / clients', `${SERVERS} / ${CLIENTS}`],
    [
      'simulated time measured',
      `${SIM_SECONDS} s at --speed ${SPEED} --job-clock simulated (${round(SIM_SECONDS / SPEED)} s wall)`,
    ],
    [
      'backfill before the hour / ready after / rules replayed after',
      `${flags.backfill} / ${round(run.readyMs / 1000)} s / ${round(run.replayedMs / 1000)} s`,
    ],
    // Other processes on the machine delay the exporter's timers as much as its own work does.
    [
      'machine load average (1 min) at start / end',
      `${round(run.load[0] ?? NaN, 2)} / ${round(loadavg()[0] ?? NaN, 2)} on ${availableParallelism()} cores`,
    ],
    ['event-loop lag p50 / p99 (histogram)', `${round(lagP50)} / ${round(lagP99)} ms`],
    [
      'event-loop lag max in the hour',
      `${maxExact ? '' : '≤ '}${round(lagMaxMs)} ms (max since start ${round(maxAfter * 1000)} ms)`,
    ],
  ];
  process.stdout.write(
    [table(summary), table(lagRows), table(jobRows), table(bcRows)].join('\n\n') +
      '\n\nmax block ms: the longest event-loop lag seen while a run of the job was in flight in the hour (≤: a\n' +
      'bound, as the scheduler keeps the largest since it started), counted only as far as the exporter was on\n' +
      "the CPU meanwhile (lag while a busy host did not run it is not the job's); an upper bound of the job's\n" +
      'own block: other work in flight then counts too.\n\n',
  );
  return JSON.stringify({
    loop_lag_p50_ms: round(lagP50, 2),
    loop_lag_p99_ms: round(lagP99, 2),
    loop_lag_max_ms: round(lagMaxMs),
    loop_lag_max_exact: maxExact,
    broadcast_late_p50_ms: round(quantile(late, 0.5)),
    broadcast_late_p99_ms: round(quantile(late, 0.99)),
    broadcast_late_max_ms: round(late[late.length - 1] ?? NaN),
    broadcasts_late_over_50ms: lateSlots,
    broadcasts: slots.length,
    frame_age_p99_ms: round(quantile(age, 0.99)),
    max_job_block_ms: round(maxJobBlock),
    max_job_block_exact: !blockBounded,
    clients: CLIENTS,
    servers: SERVERS,
    sim_seconds: SIM_SECONDS,
    speed: SPEED,
  });
}

/** printProfile prints the exporter's longest loop blocks from its CPU profile and the functions behind them. */
function printProfile(dir: string, fromMs: number, toMs: number): void {
  // Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>: thread 0 is the main thread (the others
  // are the chunk encoder's workers).
  const files = readdirSync(dir).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  for (const f of files) {
    const summary = readProfile(join(dir, f), BUDGET_MS / 2, fromMs, toMs);
    process.stdout.write(
      `CPU profile ${f}: busy ${round(summary.busyMs / 1000)} s of ${round((toMs - fromMs) / 1000)} s; self time:\n`,
    );
    for (const s of summary.self.slice(0, 25))
      process.stdout.write(`  ${String(round(s.ms)).padStart(8)} ms  ${s.frame}\n`);
    const blocks = summary.blocks.slice(0, 12);
    process.stdout.write(
      `\nlongest busy stretches ≥ ${BUDGET_MS / 2} ms (the loop may have run several tasks in one):\n`,
    );
    for (const b of blocks) {
      process.stdout.write(`\n  ${round(b.ms)} ms at ${round(b.atMs / 1000)} s\n`);
      for (const s of b.top)
        process.stdout.write(`    incl ${String(round(s.ms)).padStart(6)}  ${s.frame}\n`);
      for (const s of b.leaves.slice(0, 4))
        process.stdout.write(`    self ${String(round(s.ms)).padStart(6)}  ${s.frame}\n`);
    }
    process.stdout.write('\n');
  }
}

await main();
