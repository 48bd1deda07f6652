/**
 * bench:rules — how long one evaluation of the shipped rule groups (rules/*.yml: 8 files, 22 alerts, 17
 * recordings) takes in the exporter's rule manager, at 20 and 1,000 servers, against Debian's Prometheus 2.42
 * evaluating the same files over the same samples in the same run.
 *
 * Data: the simulated fleet (the shipped 20 servers, or generateFleet(1000)), only the series the rules read
 * (every name a rule selects, plus each server's up and info series), on the 15 s grid. Each series holds the
 * history its rules need and no more: its name's longest range window in the rules (rate over [5m], delta over
 * [10m], predict_linear over [1h]) or the 5 min lookback of an instant selector, plus a minute. The one
 * recording read over a window, the p99 latency under HighHTTPLatency's `quantile_over_time(…[1d])`, gets
 * RECORDED_HISTORY_MS (6 h) of history: each server's p99 as the rules compute it at the anchor, ±10 % of
 * deterministic noise. Samples run futureMsFor(size) past the anchor; each side takes them as they come due.
 *
 * Ours: an in-memory EmbeddedStorage (history bulk-loaded) and the RuleManager over the shipped files. Each
 * round appends the next 15 s slot's samples (not timed), then evaluates every group once at that slot, one
 * after the other in dependency order, as the exporter does live. A group's time is its own evaluation's
 * (`prometheus_rule_group_last_duration_seconds` of our rule metrics); a round's time is their sum.
 *
 * Prometheus: a fresh data directory fed through its remote-write receiver — every sample up to now, then
 * each one when the wall clock reaches it — and the same rule files loaded with a short evaluation interval
 * (promIntervalMs). Its /metrics is read until every group has been evaluated warmupFor(size) + counted times,
 * and each evaluation's `prometheus_rule_group_last_duration_seconds` is kept; a round's time is the sum over
 * groups of their k-th evaluations. Prometheus runs its groups concurrently (each at its own offset in the
 * interval): when a round takes longer than the interval, groups overlap and each one's wall time includes
 * waiting for the CPU the others use. The CPU row therefore also compares CPU time per round: ours (median),
 * Prometheus's process_cpu_seconds_total over the counted rounds (its remote-write intake included) / rounds.
 * The node process only polls meanwhile, and Prometheus is stopped before ours runs.
 *
 * Both sides: the first warmupFor(size) rounds are not counted; figures are medians over roundsFor(size). On a
 * shared machine wall times swing by 2× from run to run; the ratios, measured in one run, swing less.
 *
 * Options (environment): BENCH_RULES_SIZES (e.g. 1000), BENCH_RULES_ROUNDS, BENCH_RULES_RECORDED_HOURS,
 * BENCH_RULES_PROM_INTERVAL_MS, BENCH_RULES_PROMETHEUS=0 (ours only), BENCH_RULES_DEBUG (per-rule medians,
 * each Prometheus evaluation), BENCH_RULES_CPU_PROFILE=<prefix> (a CPU profile of our rounds).
 *
 * Output: per size and group, our and Prometheus's median milliseconds, then one JSON line: eval_ms_20,
 * eval_ms_1000 (our median round), ratio_vs_prometheus_1000 (ours / Prometheus's median round), the same
 * ratio at 20 servers, and cpu_ratio_vs_prometheus_1000 (CPU per round).
 */
import { Engine, type QueryResult } from '../src/promql/index.js';
import { withCpuProfile } from './cpu-profile.js';
import { RecordingRule } from '../src/rules/recording-rule.js';
import { dependencyOrder } from '../src/rules/manager.js';
import { Fleet, defaultFleet, generateFleet } from '../src/simulator/index.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import { ManualClock } from '../src/util/clock.js';
import { METRIC_NAME, seriesKey, type Labels } from '../src/util/labels.js';
import { appendAll, fleetSamples, type FleetSeries } from '../test/promql-peer.js';
import {
  openShippedRules,
  ruleInputs,
  startRulesPrometheus,
  type RuleInputs,
  type ShippedRules,
} from '../test/rules-peer.js';

const MIN = 60_000;
/** STEP_MS is the sample spacing and our evaluation interval (the exporter's tick). */
const STEP_MS = 15_000;
/** LOOKBACK_MS is an instant selector's reach (Prometheus's default 5 min lookback). */
const LOOKBACK_MS = 5 * MIN;
/** MARGIN_MS is history beyond the longest window, so the first rounds already see full windows. */
const MARGIN_MS = MIN;
/** SIZES are the fleet sizes benchmarked (BENCH_RULES_SIZES=1000 runs one). */
const SIZES = (process.env.BENCH_RULES_SIZES ?? '20,1000').split(',').map(Number);
/**
 * warmupFor is the rounds evaluated first and not counted, on both sides, at a fleet size: 40 at 20 servers,
 * 2 at 1,000 (BENCH_RULES_WARMUP sets both). The exporter evaluates its rules every 15 s for as long as it
 * runs, so the figure that matters is its steady state; V8 optimises a function only after it has run many
 * times, and a 20-server round calls each rule's code a few dozen times at most, so the first rounds run
 * partly unoptimised (measured ours only, 110 rounds: rounds 3–30 took 6–31 ms, rounds after 30 mostly
 * 5.5–10 ms). A 1,000-server round calls the same code for 50× the series, which warms it within a round or
 * two. Prometheus is compiled ahead of time; its warm-up covers its first selects and new series.
 */
function warmupFor(servers: number): number {
  return Number(process.env.BENCH_RULES_WARMUP ?? (servers <= 100 ? 40 : 2));
}
/**
 * roundsFor is the counted rounds per side at a fleet size: 60 at 20 servers, where a round takes
 * milliseconds and many meet a young-generation collection or a seal (a median of 20 moved by a millisecond
 * from run to run); 5 at 1,000, where Prometheus's rounds are 10 s apart. BENCH_RULES_ROUNDS sets both.
 */
function roundsFor(servers: number): number {
  return Number(process.env.BENCH_RULES_ROUNDS ?? (servers <= 100 ? 60 : 5));
}
/**
 * promIntervalMs is Prometheus's evaluation interval at a fleet size: short, so the rounds take seconds, and
 * long enough for a round of its groups (each started at its own offset in the interval) to fit, so that
 * they rarely run at the same time: 1 s at 20 servers (its rounds take ~30 ms), 10 s at 1,000
 * (BENCH_RULES_PROM_INTERVAL_MS sets both).
 */
function promIntervalMs(servers: number): number {
  const fixed = process.env.BENCH_RULES_PROM_INTERVAL_MS;
  if (fixed) return Number(fixed);
  return servers <= 100 ? 1_000 : 10_000;
}
/**
 * futureMsFor is how far past the anchor the samples run at a fleet size: our rounds reach (warm-up +
 * counted) × 15 s past it (15 min at 20 servers), Prometheus's the time it takes to receive the data plus its
 * rounds (about a minute at 1,000, two at 20); at least 10 min, plus two minutes of slack.
 * BENCH_RULES_FUTURE_MIN sets it.
 */
function futureMsFor(servers: number): number {
  const fixed = process.env.BENCH_RULES_FUTURE_MIN;
  if (fixed) return Number(fixed) * MIN;
  return Math.max(10 * MIN, (warmupFor(servers) + roundsFor(servers)) * STEP_MS + 2 * MIN);
}
/**
 * RECORDED_HISTORY_MS caps the history given to a recording read over a window: the p99 under
 * HighHTTPLatency's [1d] gets 6 h, as in the first hours after a start (a full day quadruples the samples
 * both engines load and keep, and the time to feed Prometheus, for one rule). BENCH_RULES_RECORDED_HOURS
 * changes it.
 */
const RECORDED_HISTORY_MS = Number(process.env.BENCH_RULES_RECORDED_HOURS ?? 6) * 60 * MIN;
/** NOISE is the relative spread of the synthetic history of a windowed recording (±10 %). */
const NOISE = 0.1;

const log = (m: string): void => console.error(`[bench:rules] ${m}`);

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
};

/** Rounds are per-group evaluation times (ms) of each counted round, groups by name. */
type Rounds = Map<string, number[]>;

/** SizeResult is one fleet size's figures. */
interface SizeResult {
  readonly servers: number;
  readonly series: number;
  readonly samples: number;
  readonly groupOrder: readonly string[];
  readonly ours: Rounds;
  readonly prometheus: Rounds;
  readonly oursAlerts: { pending: number; firing: number };
  readonly promAlerts: { pending: number; firing: number };
  readonly loadMs: { ours: number; prometheus: number };
  /** cpuMsPerRound is CPU time per counted round: ours (median), Prometheus's process (mean). */
  readonly cpuMsPerRound: { ours: number; prometheus: number };
}

/** roundTotals sums each round over the groups. */
function roundTotals(r: Rounds): number[] {
  const totals = new Array<number>(Math.max(0, ...[...r.values()].map((xs) => xs.length))).fill(0);
  for (const xs of r.values()) xs.forEach((x, k) => (totals[k] = (totals[k] ?? 0) + x));
  return totals;
}

/** historyMs is how far back a read series needs samples. */
function historyMs(inputs: RuleInputs, name: string): number {
  return Math.max(inputs.rangeMs.get(name) ?? 0, LOOKBACK_MS) + MARGIN_MS;
}

/** noise is a deterministic value in [-1, 1) for (key, t). */
function noise(key: string, t: number): number {
  let h = 2166136261 ^ Math.floor(t / STEP_MS);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h ^= h >>> 13;
  return ((h >>> 0) / 2 ** 32) * 2 - 1;
}

/** vectorOf returns an instant query's samples. */
function vectorOf(r: QueryResult): { labels: Labels; v: number }[] {
  return r.resultType === 'vector' ? r.result.map((s) => ({ labels: s.labels, v: s.v })) : [];
}

/**
 * windowedHistory builds the history of every recording the rules read over a window: the groups are
 * evaluated at `anchor` (the recordings that need no history are written, as a live round would; the
 * windowed ones only read), and each windowed series gets a sample every STEP_MS over its window before the
 * anchor, its anchor value ±NOISE.
 */
async function windowedHistory(
  rules: ShippedRules,
  engine: Engine,
  store: EmbeddedStorage,
  inputs: RuleInputs,
  anchor: number,
): Promise<FleetSeries[]> {
  const recorded = new Set(inputs.recordingRules.map((r) => r.name));
  const windowed = new Set([...recorded].filter((n) => (inputs.rangeMs.get(n) ?? 0) > 0));
  const out: FleetSeries[] = [];
  for (const g of dependencyOrder(rules.loadedGroups()))
    for (const r of g.rules) {
      if (!(r.rule instanceof RecordingRule)) continue;
      const res = await engine.instantQuery(store, r.rule.spec.expr, anchor);
      const samples = r.rule.record(
        vectorOf(res.result).map((s) => ({ labels: s.labels, value: s.v })),
        0,
      );
      if (!windowed.has(r.rule.name)) {
        const app = store.appender();
        for (const s of samples) app.append(0, s.labels, anchor, s.value);
        await app.commit();
        continue;
      }
      const span = Math.min(inputs.rangeMs.get(r.rule.name) ?? 0, RECORDED_HISTORY_MS);
      for (const s of samples) {
        const key = seriesKey(s.labels);
        const series: FleetSeries = { labels: s.labels, timestamps: [], values: [] };
        for (let t = anchor - span; t < anchor; t += STEP_MS) {
          series.timestamps.push(t);
          series.values.push(s.value * (1 + NOISE * noise(key, t)));
        }
        out.push(series);
      }
    }
  return out;
}

/**
 * profiled runs `fn` under V8's CPU profiler when BENCH_RULES_CPU_PROFILE names a file prefix, writing
 * `<prefix>-<tag>.cpuprofile`: our rounds only, without the data loading.
 */
function profiled<T>(tag: string, fn: () => Promise<T>): Promise<T> {
  const prefix = process.env.BENCH_RULES_CPU_PROFILE;
  return withCpuProfile(prefix ? `${prefix}-${tag}.cpuprofile` : undefined, fn);
}

/** splitAt cuts every series into its samples at or before `t` and those after. */
function splitAt(series: readonly FleetSeries[], t: number): [FleetSeries[], FleetSeries[]] {
  const before: FleetSeries[] = [];
  const after: FleetSeries[] = [];
  for (const s of series) {
    let i = 0;
    while (i < s.timestamps.length && (s.timestamps[i] ?? 0) <= t) i++;
    const part = (from: number, to: number): FleetSeries => ({
      labels: s.labels,
      timestamps: s.timestamps.slice(from, to),
      values: s.values.slice(from, to),
    });
    if (i > 0) before.push(part(0, i));
    if (i < s.timestamps.length) after.push(part(i, s.timestamps.length));
  }
  return [before, after];
}

/**
 * benchOurs runs `warmup` + `counted` rounds after `anchor` as the exporter runs live: the samples of the
 * next 15 s slot are appended and committed (not timed), then every group evaluates at that slot, one after
 * the other in dependency order.
 */
async function benchOurs(
  rules: ShippedRules,
  store: EmbeddedStorage,
  live: readonly FleetSeries[],
  anchor: number,
  counted: number,
  warmup: number,
): Promise<{ rounds: Rounds; cpuMsPerRound: number }> {
  const groups = dependencyOrder(rules.loadedGroups());
  const rounds: Rounds = new Map(groups.map((g) => [g.spec.name, []]));
  const perRule = new Map<string, number[]>();
  const cpuMs: number[] = [];
  const next = new Int32Array(live.length);
  // Each series' ref, kept from round to round as the exporter's ingest keeps them: looking every sample's
  // series up by its labels would make garbage the live exporter does not, collected during the timed part.
  const refs = new Float64Array(live.length);
  for (let k = 1; k <= warmup + counted; k++) {
    const t = anchor + k * STEP_MS;
    const app = store.appender();
    live.forEach((s, i) => {
      let j = next[i] ?? 0;
      for (; j < s.timestamps.length && (s.timestamps[j] ?? 0) <= t; j++)
        refs[i] = app.append(refs[i] ?? 0, s.labels, s.timestamps[j] ?? 0, s.values[j] ?? NaN);
      next[i] = j;
    });
    await app.commit();
    const cpu = process.cpuUsage();
    for (const g of groups) {
      await g.evaluate(t);
      for (const r of g.rules)
        if (r.status.health === 'err') throw new Error(`${r.rule.name} failed: ${r.status.lastError}`);
      if (k <= warmup) continue;
      rounds.get(g.spec.name)?.push(g.evaluationMs);
      for (const r of g.rules) {
        const xs = perRule.get(r.rule.name) ?? [];
        perRule.set(r.rule.name, [...xs, r.status.evaluationMs]);
      }
    }
    const used = process.cpuUsage(cpu);
    if (k > warmup) cpuMs.push((used.user + used.system) / 1000);
    if (process.env.BENCH_RULES_DEBUG && k > warmup) {
      // One line per round: its total and its slowest rules, to tell a uniformly slow round from one
      // slowed by a few rules (a collection, a seal at a minute boundary).
      const slowest = groups
        .flatMap((g) => g.rules.map((r) => ({ name: r.rule.name, ms: r.status.evaluationMs })))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 4);
      const total = groups.reduce((n, g) => n + g.evaluationMs, 0);
      log(
        `round ${k} (t mod 60 s = ${(t % MIN) / 1000} s): ${total.toFixed(2)} ms; slowest ` +
          slowest.map((r) => `${r.name} ${r.ms.toFixed(2)}`).join(', '),
      );
    }
  }
  if (process.env.BENCH_RULES_DEBUG)
    for (const [name, xs] of perRule) log(`ours ${name}: ${median(xs).toFixed(2)} ms`);
  return { rounds, cpuMsPerRound: median(cpuMs) };
}

/** PrometheusRun is what the Prometheus side measured. */
interface PrometheusRun {
  readonly rounds: Rounds;
  readonly alerts: { pending: number; firing: number };
  readonly loadMs: number;
  /** cpuMsPerRound is the process's CPU time over the counted rounds (remote-write intake included) / the number of counted rounds. */
  readonly cpuMsPerRound: number;
}

/**
 * benchPrometheus starts a fresh Prometheus and feeds it `series` as a live remote-write sender would: every
 * sample up to now at once (history), then each sample once the wall clock reaches it. It then loads the
 * rules and collects each group's durations of `warmup` + `counted` evaluations (the first `warmup`
 * dropped), reading its /metrics.
 */
async function benchPrometheus(
  series: readonly FleetSeries[],
  groupNames: readonly string[],
  counted: number,
  warmup: number,
  dataEnd: number,
  intervalMs: number,
): Promise<PrometheusRun> {
  let first = Infinity;
  for (const s of series) first = Math.min(first, s.timestamps[0] ?? Infinity);
  const prom = await startRulesPrometheus(dataEnd - first);
  let feeding = true;
  let feeder: Promise<void> = Promise.resolve();
  try {
    const began = performance.now();
    let [due, later] = splitAt(series, Date.now());
    let sent = await prom.remoteWrite(due);
    const loadMs = performance.now() - began;
    log(`prometheus: ${sent} samples written in ${(loadMs / 1000).toFixed(1)} s`);
    // The rest arrives as the clock reaches it, so every evaluation sees the newest sample of each series.
    feeder = (async () => {
      while (feeding && later.length > 0) {
        await new Promise((r) => setTimeout(r, 1000));
        const now = Date.now();
        if (now > dataEnd) throw new Error('Prometheus outlived its samples: raise BENCH_RULES_FUTURE_MIN');
        let next = Infinity;
        for (const l of later) next = Math.min(next, l.timestamps[0] ?? Infinity);
        if (next > now) continue;
        [due, later] = splitAt(later, now);
        sent += await prom.remoteWrite(due);
      }
    })();
    await prom.loadRules(intervalMs);
    const seen = new Map<string, number>();
    const all = new Map<string, number[]>(groupNames.map((g) => [g, []]));
    const wanted = warmup + counted;
    const deadline = Date.now() + (wanted + 10) * intervalMs;
    let failed: Error | undefined;
    feeder.catch((err: unknown) => (failed = err instanceof Error ? err : new Error(String(err))));
    // Prometheus's CPU seconds when every group has done its warm-up rounds, and when all are counted.
    let cpuFrom = NaN;
    let cpuTo = NaN;
    for (;;) {
      if (failed) throw failed;
      const { groups, cpuSeconds } = await prom.ruleGroups();
      for (const s of groups) {
        const name = s.group.slice(s.group.lastIndexOf(';') + 1);
        const xs = all.get(name);
        if (!xs || s.lastEvaluationS <= 0 || seen.get(name) === s.lastEvaluationS) continue;
        seen.set(name, s.lastEvaluationS);
        xs.push(s.lastDurationS * 1000);
        if (process.env.BENCH_RULES_DEBUG)
          log(`prometheus ${name}: ${(s.lastDurationS * 1000).toFixed(1)} ms`);
      }
      if (Number.isNaN(cpuFrom) && [...all.values()].every((xs) => xs.length >= warmup)) cpuFrom = cpuSeconds;
      if ([...all.values()].every((xs) => xs.length >= wanted)) {
        cpuTo = cpuSeconds;
        break;
      }
      if (Date.now() > deadline)
        throw new Error(`Prometheus evaluated too few rounds: ${JSON.stringify(Object.fromEntries(all))}`);
      await new Promise((r) => setTimeout(r, intervalMs / 6));
    }
    const alerts = await prom.alerts();
    const rounds: Rounds = new Map([...all].map(([g, xs]) => [g, xs.slice(warmup, warmup + counted)]));
    return { rounds, alerts, loadMs, cpuMsPerRound: ((cpuTo - cpuFrom) * 1000) / counted };
  } finally {
    feeding = false;
    await feeder.catch(() => undefined);
    await prom.stop();
  }
}

/** benchSize runs both sides at one fleet size. */
async function benchSize(servers: number): Promise<SizeResult> {
  const anchor = Math.floor(Date.now() / STEP_MS) * STEP_MS;
  const dataEnd = anchor + futureMsFor(servers);
  const store = await EmbeddedStorage.open();
  const engine = new Engine();
  const rules = await openShippedRules(store, new ManualClock(anchor), STEP_MS, engine);
  try {
    const inputs = ruleInputs(rules.loadedGroups());
    const read = new Set([...inputs.readNames]);
    let longest = 0;
    for (const n of read) longest = Math.max(longest, historyMs(inputs, n));
    const fleet = new Fleet({
      servers: servers === 20 ? defaultFleet() : generateFleet(servers, 1),
      seed: 1,
      epoch: anchor - longest - 3_600_000,
    });
    let began = performance.now();
    const series = fleetSamples(anchor - longest, dataEnd, STEP_MS, (l) => read.has(l[METRIC_NAME] ?? ''), {
      fleet,
      since: (l) => anchor - historyMs(inputs, l[METRIC_NAME] ?? ''),
      meta: true,
    });
    log(
      `${servers} servers: ${series.length} series simulated in ${((performance.now() - began) / 1000).toFixed(1)} s`,
    );
    began = performance.now();
    const [past, live] = splitAt(series, anchor);
    await appendAll(() => store.appender({ bulk: true }), past);
    const history = await windowedHistory(rules, engine, store, inputs, anchor);
    await appendAll(() => store.appender({ bulk: true }), history);
    const oursLoadMs = performance.now() - began;
    const all = [...series, ...history];
    const samples = all.reduce((n, s) => n + s.timestamps.length, 0);
    log(`${servers} servers: ${samples} samples stored in ${(oursLoadMs / 1000).toFixed(1)} s`);

    const prom =
      process.env.BENCH_RULES_PROMETHEUS === '0'
        ? {
            rounds: new Map<string, number[]>(),
            alerts: { pending: NaN, firing: NaN },
            loadMs: NaN,
            cpuMsPerRound: NaN,
          }
        : await benchPrometheus(
            all,
            inputs.groupOrder,
            roundsFor(servers),
            warmupFor(servers),
            dataEnd,
            promIntervalMs(servers),
          );
    log(`${servers} servers: prometheus done`);
    const ours = await profiled(`${servers}`, () =>
      benchOurs(rules, store, live, anchor, roundsFor(servers), warmupFor(servers)),
    );
    log(`${servers} servers: ours done`);
    if (process.env.BENCH_RULES_DEBUG) {
      // A digest of every recording written during the rounds, bit for bit: two builds must print the same.
      const end = anchor + (warmupFor(servers) + roundsFor(servers)) * STEP_MS;
      const q = await store.querier(anchor + 1, end);
      const bits = new DataView(new ArrayBuffer(8));
      for (const r of ruleInputs(rules.loadedGroups()).recordingRules) {
        let h = 2166136261;
        let n = 0;
        const mix = (x: number): void => {
          h = Math.imul(h ^ x, 16777619);
        };
        for (const s of await q.select([{ type: '=', name: METRIC_NAME, value: r.name }])) {
          for (const ch of seriesKey(s.labels)) mix(ch.charCodeAt(0));
          s.values.forEach((v, i) => {
            bits.setFloat64(0, v);
            mix(bits.getUint32(0));
            mix(bits.getUint32(4));
            mix(s.timestamps[i] ?? 0);
            n++;
          });
        }
        log(`ours recorded ${r.name}: ${n} samples, digest ${(h >>> 0).toString(16)}`);
      }
    }
    const oursAlerts = { pending: 0, firing: 0 };
    for (const a of rules.alerts()) {
      if (a.alert.state === 'pending') oursAlerts.pending++;
      if (a.alert.state === 'firing') oursAlerts.firing++;
      if (process.env.BENCH_RULES_DEBUG)
        log(`ours alert ${a.rule.name} ${JSON.stringify(a.alert.labels)} ${a.alert.state} ${a.alert.value}`);
    }
    return {
      servers,
      series: all.length,
      samples,
      groupOrder: inputs.groupOrder,
      ours: ours.rounds,
      prometheus: prom.rounds,
      cpuMsPerRound: { ours: ours.cpuMsPerRound, prometheus: prom.cpuMsPerRound },
      oursAlerts,
      promAlerts: prom.alerts,
      loadMs: { ours: oursLoadMs, prometheus: prom.loadMs },
    };
  } finally {
    await rules.close();
    await store.close();
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function report(results: readonly SizeResult[]): void {
  console.log(
    `rule groups: shipped rules/*.yml; counted rounds ${results.map((r) => `${roundsFor(r.servers)} at ${r.servers} (after ${warmupFor(r.servers)} warm-up)`).join(', ')}; ` +
      `ours every ${STEP_MS / 1000} s (groups in sequence), Prometheus 2.42 every ` +
      results.map((r) => `${promIntervalMs(r.servers) / 1000} s at ${r.servers}`).join(', '),
  );
  for (const r of results)
    console.log(
      `${r.servers} servers: ${r.series} series, ${r.samples} samples; loaded in ${(r.loadMs.ours / 1000).toFixed(1)} s ` +
        `(ours), ${(r.loadMs.prometheus / 1000).toFixed(1)} s (Prometheus remote write); alerts pending/firing ` +
        `after the rounds: ours ${r.oursAlerts.pending}/${r.oursAlerts.firing}, ` +
        `Prometheus ${r.promAlerts.pending}/${r.promAlerts.firing}`,
    );
  console.log('');
  console.log('servers  group                           ours ms  prometheus ms   ratio');
  const row = (servers: number, name: string, ours: number, prom: number): void =>
    console.log(
      `${String(servers).padStart(7)}  ${name.padEnd(30)} ${ours.toFixed(2).padStart(8)} ${prom
        .toFixed(2)
        .padStart(14)} ${(ours / prom).toFixed(2).padStart(7)}`,
    );
  for (const r of results) {
    for (const g of r.groupOrder)
      row(r.servers, g, median(r.ours.get(g) ?? []), median(r.prometheus.get(g) ?? []));
    row(r.servers, 'round (median of sums)', median(roundTotals(r.ours)), median(roundTotals(r.prometheus)));
    row(r.servers, 'CPU per round (see header)', r.cpuMsPerRound.ours, r.cpuMsPerRound.prometheus);
  }
  const at = (n: number): SizeResult | undefined => results.find((r) => r.servers === n);
  const total = (r: SizeResult | undefined, side: 'ours' | 'prometheus'): number =>
    r ? median(roundTotals(r[side])) : NaN;
  console.log(
    JSON.stringify({
      eval_ms_20: round3(total(at(20), 'ours')),
      eval_ms_1000: round3(total(at(1000), 'ours')),
      ratio_vs_prometheus_1000: round3(total(at(1000), 'ours') / total(at(1000), 'prometheus')),
      ratio_vs_prometheus_20: round3(total(at(20), 'ours') / total(at(20), 'prometheus')),
      cpu_ratio_vs_prometheus_1000: round3(
        (at(1000)?.cpuMsPerRound.ours ?? NaN) / (at(1000)?.cpuMsPerRound.prometheus ?? NaN),
      ),
    }),
  );
}

async function main(): Promise<void> {
  const results: SizeResult[] = [];
  for (const n of SIZES) results.push(await benchSize(n));
  report(results);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
