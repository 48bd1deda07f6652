/**
 * Differential test of the exporter's rule manager against Prometheus 2.42's rule engine: the shipped
 * rules/*.yml, evaluated by both over the same samples, must produce the same alerts (labels, annotations,
 * pending and firing states, when each became active) at the same evaluation timestamps, and the same
 * recording-rule values (bit for bit wherever Prometheus's own result is reproducible, see below).
 *
 * Prometheus evaluates rules only in real time, but `promtool test rules` runs Prometheus's own `rules`
 * package deterministically over `input_series` at chosen times, so it is the oracle:
 *
 * 1. A scripted timeline (EPISODES: a CPU spike, a memory leak, a disk fill, a server down and a flapping
 *    service, on eight servers of the default fleet, SERVERS) is simulated tick by tick. Every frame goes into
 *    an in-memory EmbeddedStorage through the Ingestor (stale markers for the down server included), and the
 *    RuleManager evaluates live (`tick`) at every 15 s slot; its alerts are observed after every slot.
 * 2. The stored samples of every series the rules read become a promtool test file: `input_series` in
 *    promtool's notation (`_` for no sample, `stale` for a staleness marker), then
 *    - at every slot, `promql_expr_test`s for `ALERTS` (every pending and firing alert, labels and state)
 *      and `ALERTS_FOR_STATE` (when each became active), so no transition on either side goes unseen;
 *    - at the check times (every alert transition, the slot before it, and every 5 minutes), one
 *      `alert_rule_test` per alerting rule (its firing alerts with labels and annotations; an empty list
 *      when none fires; promtool lists firing alerts only) and a `promql_expr_test` per recording rule,
 *      expected values being the floats the exporter stored.
 * 3. promtool passing means Prometheus computed what the exporter did; when it fails, its diff is the
 *    failure message.
 *
 * Recording-rule values are compared bit for bit, except those that add floats up (`sum`, `avg`, or a
 * recording that reads such a series): Prometheus 2.42 adds in the order its storage returns the series,
 * which promtool's loader does not fix (the same input gives `avg` 67.0375 in one run and
 * 67.03750000000001 in the next), and averages incrementally, while the exporter sums with Kahan
 * compensation as current Prometheus does. Those are compared within RELATIVE_TOLERANCE, in promtool: the
 * exporter's recordings are loaded as input series too (`exporter:<name>`), and the expression returns the
 * exporter's value where Prometheus's is that close to it, Prometheus's own value otherwise.
 *
 * Times line up exactly: promtool's series start at Unix time 0 and it evaluates every 15 s from there, so
 * the timeline starts on the exporter's 15 s evaluation grid (T0) and promtool's time τ is T0 + τ. Groups
 * are evaluated in the same order on both sides (`group_eval_order` = the manager's dependency order: a
 * group that reads another group's recordings after it), so no transition may land one interval off:
 * none is accepted, every state is compared at its own slot.
 *
 * The fleet is eight servers rather than the default twenty: promtool loads every input sample into a TSDB
 * and evaluates every rule at every slot, and twenty servers over this timeline take well over a minute on
 * a 2-core machine. Eight keep every role, every recording rule and every scenario, in about half a minute.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Ingestor } from '../src/ingest/ingest.js';
import type { AlertState } from '../src/rules/alerting-rule.js';
import { Fleet, defaultFleet, type ScenarioSpec } from '../src/simulator/index.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import type { SeriesData } from '../src/tsdb/storage.js';
import { ManualClock } from '../src/util/clock.js';
import { METRIC_NAME, type Labels } from '../src/util/labels.js';
import { isStaleNaN } from '../src/util/stale-marker.js';
import { PROMTOOL } from './promql-peer.js';
import { openShippedRules, ruleInputs, shippedRuleFiles, type RecordingInfo } from './rules-peer.js';

/** STEP_MS is the tick period, the rule groups' evaluation interval and promtool's `interval`. */
const STEP_MS = 15_000;
const MIN = 60_000;
/** T0 is the timeline's start: a Tuesday morning (daytime traffic), on the 15 s evaluation grid. */
const T0 = Date.UTC(2026, 0, 6, 9);
/** END is the last slot: every episode has ended and its alerts resolved some minutes before. */
const END = T0 + 135 * MIN;
/** CHECK_EVERY_MS adds check times between transitions, so every long firing stretch is compared too. */
const CHECK_EVERY_MS = 5 * MIN;

/**
 * RELATIVE_TOLERANCE bounds the difference allowed for recordings that add floats up: a few units in the
 * last place (2e-16) from the order of additions, amplified up to 3e-14 where histogram_quantile
 * interpolates between bucket rates. A real disagreement (another sample in a window, another bucket) is
 * orders of magnitude larger.
 */
const RELATIVE_TOLERANCE = 1e-12;

/** EXPORTER_PREFIX names the exporter's copies of its recordings among promtool's input series. */
const EXPORTER_PREFIX = 'exporter:';

/**
 * SERVERS are eight of the default fleet's twenty (see the header for why not all): every role, and two web
 * and two api servers so that the role recordings aggregate over more than one server.
 */
const SERVERS = ['lb-01', 'web-01', 'web-02', 'api-01', 'api-02', 'db-02', 'cache-01', 'worker-01'];

/** Episode is one scripted scenario: injected at T0 + `at`, and stopped `stopAfter` later if given. */
interface Episode {
  readonly at: number;
  readonly spec: ScenarioSpec;
  readonly stopAfter?: number;
}

/**
 * FLAPS are the flapping service: cache-01's redis crashes five times, 6 minutes apart. A crash stopped after
 * 3 minutes passes ServiceDown's `for: 1m` (pending, firing, resolved); one stopped after 45 s never fires
 * (pending, then gone).
 */
const FLAPS: readonly Episode[] = [0, 1, 2, 3, 4].map((k) => ({
  at: (95 + 6 * k) * MIN,
  spec: { kind: 'service_crash', server: 'cache-01', durationSeconds: 600, intensity: 0.8 },
  stopAfter: k % 2 === 0 ? 3 * MIN : 45_000,
}));

/**
 * EPISODES is the timeline. Intensities and durations are chosen so that every alert of a scenario's
 * server passes its `for:`: the spike holds CPU near 100 % for 15 minutes, the leak crosses 85 % and 95 % of
 * memory and swaps, the fill passes 80 % and 90 % of /data with a steep trend, the server stays down for
 * 10 minutes (and reboots: its counters restart from zero).
 */
const EPISODES: readonly Episode[] = [
  { at: 10 * MIN, spec: { kind: 'cpu_spike', server: 'web-01', durationSeconds: 900, intensity: 1 } },
  { at: 20 * MIN, spec: { kind: 'memory_leak', server: 'db-02', durationSeconds: 3600, intensity: 1 } },
  { at: 30 * MIN, spec: { kind: 'disk_fill', server: 'worker-01', durationSeconds: 3600, intensity: 1 } },
  { at: 60 * MIN, spec: { kind: 'server_down', server: 'api-02', durationSeconds: 600, intensity: 1 } },
  ...FLAPS,
];

/** ObservedAlert is one pending or firing alert of the exporter after a slot's evaluation. */
interface ObservedAlert {
  readonly rule: string;
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: AlertState;
  readonly activeAt: number;
}

/** TransitionCounts counts the exporter's alert transitions (all of which are check times). */
interface TransitionCounts {
  pending: number;
  firing: number;
  /** resolved: firing → inactive. */
  resolved: number;
  /** dropped: pending → gone before `for` passed. */
  dropped: number;
}

/** ExporterRun is what the exporter's side produced. */
interface ExporterRun {
  readonly store: EmbeddedStorage;
  /** alerts holds the alerts after each slot's evaluation, by slot. */
  readonly alerts: ReadonlyMap<number, readonly ObservedAlert[]>;
  /** transitionTimes are the slots at which some alert changed state. */
  readonly transitionTimes: ReadonlySet<number>;
  readonly transitions: TransitionCounts;
  readonly alertRules: readonly string[];
  readonly recordingRules: readonly RecordingInfo[];
  /** groupOrder is the manager's evaluation order, by group name. */
  readonly groupOrder: readonly string[];
  /** readNames are the metric names the rules select, less those the rules record. */
  readonly readNames: readonly string[];
  readonly ruleErrors: readonly string[];
  readonly elapsedMs: number;
}

/** runExporter simulates the timeline into a store, ticking the rule manager at every slot. */
async function runExporter(): Promise<ExporterRun> {
  const began = performance.now();
  const servers = defaultFleet().filter((s) => SERVERS.includes(s.id));
  // No scheduled scenarios: only the scripted ones. The epoch a day back keeps the first frame cheap.
  const fleet = new Fleet({ servers, scenarioRatePerHour: 0, epoch: T0 - 86_400_000 });
  const store = await EmbeddedStorage.open();
  const clock = new ManualClock(T0);
  const manager = await openShippedRules(store, clock, STEP_MS);
  const groups = manager.loadedGroups();

  const transitionTimes = new Set<number>();
  const transitions: TransitionCounts = { pending: 0, firing: 0, resolved: 0, dropped: 0 };
  manager.onTransitions(({ ts, transitions: list }) => {
    transitionTimes.add(ts);
    for (const tr of list) {
      if (tr.to === 'pending') transitions.pending++;
      else if (tr.to === 'firing') transitions.firing++;
      else if (tr.from === 'firing') transitions.resolved++;
      else transitions.dropped++;
    }
  });

  const ingestor = new Ingestor(store, fleet.layout);
  const started = new Map<Episode, string>();
  const alerts = new Map<number, ObservedAlert[]>();
  const ruleErrors: string[] = [];
  for (let t = T0; t <= END; t += STEP_MS) {
    // Scenarios start and stop on the tick they are scripted for, as injected through the API live.
    for (const e of EPISODES) {
      if (T0 + e.at === t) started.set(e, fleet.inject(e.spec, t).id);
      const id = started.get(e);
      if (e.stopAfter !== undefined && T0 + e.at + e.stopAfter === t && id) fleet.stop(id, t);
    }
    await ingestor.ingest(fleet.frameAt(t));
    clock.set(t);
    await manager.tick(t);
    alerts.set(
      t,
      manager.alerts().map(({ rule, alert }) => ({
        rule: rule.name,
        labels: alert.labels,
        annotations: alert.annotations,
        state: alert.state,
        activeAt: alert.activeAt,
      })),
    );
    for (const g of groups)
      for (const r of g.rules)
        if (r.status.health === 'err') ruleErrors.push(`${r.rule.name} at ${t}: ${r.status.lastError}`);
  }

  const inputs = ruleInputs(groups);
  await manager.close();
  return {
    store,
    alerts,
    transitionTimes,
    transitions,
    alertRules: inputs.alertRules,
    recordingRules: inputs.recordingRules,
    groupOrder: inputs.groupOrder,
    readNames: inputs.readNames,
    ruleErrors,
    elapsedMs: performance.now() - began,
  };
}

/** selectAll returns every stored series (samples in [T0, END], staleness markers kept) named one of `names`. */
async function selectAll(store: EmbeddedStorage, names: readonly string[]): Promise<SeriesData[]> {
  const q = await store.querier(T0, END);
  const out: SeriesData[] = [];
  for (const name of names)
    out.push(...(await q.select([{ type: '=', name: METRIC_NAME, value: name }], { start: T0, end: END })));
  return out;
}

/** seriesText is a series selector in PromQL notation (as promtool parses `series:` and `labels:`). */
function seriesText(labels: Labels): string {
  const name = labels[METRIC_NAME] ?? '';
  const rest = Object.entries(labels)
    .filter(([k]) => k !== METRIC_NAME)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${rest.join(',')}}`;
}

/**
 * goFloatText writes a value the way promtool's series parser reads it back to the same float: JavaScript's
 * shortest round-trip form (`1e-7`, `123.45`) for finite values, `Inf`/`NaN` keywords otherwise.
 */
function goFloatText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * seriesValues writes one series in promtool's expanding notation, one item per slot from T0 to END: the
 * value, `stale` for a staleness marker, `_` for no sample. Runs are shortened: `vxN` is N + 1 copies of v,
 * `_xN` is N missing samples (promtool counts the two differently).
 */
function seriesValues(s: SeriesData): string {
  const slots = Math.round((END - T0) / STEP_MS) + 1;
  const items: string[] = new Array<string>(slots).fill('_');
  for (let i = 0; i < s.timestamps.length; i++) {
    const t = s.timestamps[i] as number;
    const v = s.values[i] as number;
    const k = (t - T0) / STEP_MS;
    if (!Number.isInteger(k))
      throw new Error(`sample of ${seriesText(s.labels)} at ${t} is off the 15 s grid`);
    items[k] = isStaleNaN(v) ? 'stale' : goFloatText(v);
  }
  const out: string[] = [];
  for (let i = 0; i < items.length;) {
    let j = i + 1;
    while (j < items.length && items[j] === items[i]) j++;
    const run = j - i;
    const item = items[i] as string;
    if (run === 1 || item === 'stale') out.push(...items.slice(i, j));
    else out.push(item === '_' ? `_x${run}` : `${item}x${run - 1}`);
    i = j;
  }
  return out.join(' ');
}

/** since is a time of the timeline as promtool's `eval_time`: a duration from the first sample. */
function since(t: number): string {
  return `${(t - T0) / 1000}s`;
}

/** withoutName drops `__name__` (the form of labels in `exp_labels`, and of `bool` comparison results). */
function withoutName(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => k !== METRIC_NAME));
}

/** PromtoolSample is one `exp_samples` entry. */
interface PromtoolSample {
  readonly labels: string;
  readonly value: number;
}

/** AlertRuleTest is one `alert_rule_test` entry: the firing alerts of one rule at one time. */
interface AlertRuleTest {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts: readonly {
    readonly exp_labels: Labels;
    readonly exp_annotations: Readonly<Record<string, string>>;
  }[];
}

/** PromqlExprTest is one `promql_expr_test` entry: an expression's whole result at one time. */
interface PromqlExprTest {
  readonly expr: string;
  readonly eval_time: string;
  readonly exp_samples: readonly PromtoolSample[];
}

/** PromtoolTestFile is a `promtool test rules` file with one test group. */
interface PromtoolTestFile {
  readonly rule_files: readonly string[];
  readonly evaluation_interval: string;
  readonly group_eval_order: readonly string[];
  readonly tests: readonly {
    readonly interval: string;
    readonly input_series: readonly { readonly series: string; readonly values: string }[];
    readonly alert_rule_test: readonly AlertRuleTest[];
    readonly promql_expr_test: readonly PromqlExprTest[];
  }[];
}

/** Comparison is the promtool test file's content and what it compares. */
interface Comparison {
  readonly file: PromtoolTestFile;
  readonly checkTimes: readonly number[];
  readonly inputSeries: number;
  /** firingStates and pendingStates count alerts compared by state (every slot); firingAnnotated with annotations. */
  readonly firingStates: number;
  readonly pendingStates: number;
  readonly firingAnnotated: number;
  /** recordedExact and recordedWithin count recording samples compared bit for bit and within tolerance. */
  readonly recordedExact: number;
  readonly recordedWithin: number;
  /** recordedPerRule counts the samples compared per recording rule. */
  readonly recordedPerRule: ReadonlyMap<string, number>;
  readonly alertRuleTests: number;
  readonly exprTests: number;
}

/** buildComparison turns the exporter's run into a promtool test file with its results as expectations. */
async function buildComparison(run: ExporterRun): Promise<Comparison> {
  const input = await selectAll(run.store, run.readNames);
  const recorded = await selectAll(
    run.store,
    run.recordingRules.map((r) => r.name),
  );
  // The exporter's recordings compared within tolerance are input series too, under EXPORTER_PREFIX names.
  const tolerant = new Set(run.recordingRules.filter((r) => r.addsFloats).map((r) => r.name));
  const copies = recorded
    .filter((s) => tolerant.has(s.labels[METRIC_NAME] ?? ''))
    .map((s) => ({ ...s, labels: exporterCopy(s.labels) }));

  const checks = new Set<number>();
  for (const t of run.transitionTimes) {
    checks.add(t);
    if (t > T0) checks.add(t - STEP_MS);
  }
  for (let t = T0; t <= END; t += CHECK_EVERY_MS) checks.add(t);
  const checkTimes = [...checks].sort((a, b) => a - b);

  let firingStates = 0;
  let pendingStates = 0;
  let firingAnnotated = 0;
  let recordedExact = 0;
  let recordedWithin = 0;
  const recordedPerRule = new Map<string, number>();
  const alertRuleTests: AlertRuleTest[] = [];
  const exprTests: PromqlExprTest[] = [];
  for (let t = T0; t <= END; t += STEP_MS) {
    const alerts = run.alerts.get(t) ?? [];
    for (const a of alerts) {
      if (a.state === 'firing') firingStates++;
      else pendingStates++;
    }
    exprTests.push({
      expr: 'ALERTS',
      eval_time: since(t),
      exp_samples: alerts.map((a) => ({
        labels: seriesText({ ...a.labels, [METRIC_NAME]: 'ALERTS', alertstate: a.state }),
        value: 1,
      })),
    });
    // ALERTS_FOR_STATE is activeAt in Unix seconds: on promtool's clock, seconds since T0.
    exprTests.push({
      expr: 'ALERTS_FOR_STATE',
      eval_time: since(t),
      exp_samples: alerts.map((a) => ({
        labels: seriesText({ ...a.labels, [METRIC_NAME]: 'ALERTS_FOR_STATE' }),
        value: (a.activeAt - T0) / 1000,
      })),
    });
  }
  for (const t of checkTimes) {
    const alerts = run.alerts.get(t) ?? [];
    for (const rule of run.alertRules) {
      const firing = alerts.filter((a) => a.rule === rule && a.state === 'firing');
      firingAnnotated += firing.length;
      alertRuleTests.push({
        eval_time: since(t),
        alertname: rule,
        exp_alerts: firing.map((a) => ({
          // promtool adds `alertname` itself.
          exp_labels: Object.fromEntries(Object.entries(a.labels).filter(([k]) => k !== 'alertname')),
          exp_annotations: a.annotations,
        })),
      });
    }
    for (const { name, addsFloats } of run.recordingRules) {
      const samples = recordedAt(recorded, name, t, addsFloats);
      if (addsFloats) recordedWithin += samples.length;
      else recordedExact += samples.length;
      recordedPerRule.set(name, (recordedPerRule.get(name) ?? 0) + samples.length);
      exprTests.push({ expr: recordingExpr(name, addsFloats), eval_time: since(t), exp_samples: samples });
    }
  }

  const file: PromtoolTestFile = {
    rule_files: shippedRuleFiles(),
    evaluation_interval: `${STEP_MS / 1000}s`,
    group_eval_order: run.groupOrder,
    tests: [
      {
        interval: `${STEP_MS / 1000}s`,
        input_series: [...input, ...copies].map((s) => ({
          series: seriesText(s.labels),
          values: seriesValues(s),
        })),
        alert_rule_test: alertRuleTests,
        promql_expr_test: exprTests,
      },
    ],
  };
  return {
    file,
    checkTimes,
    inputSeries: input.length,
    firingStates,
    pendingStates,
    firingAnnotated,
    recordedExact,
    recordedWithin,
    recordedPerRule,
    alertRuleTests: alertRuleTests.length,
    exprTests: exprTests.length,
  };
}

/** exporterCopy names the exporter's copy of a recorded series. */
function exporterCopy(labels: Labels): Labels {
  return { ...labels, [METRIC_NAME]: `${EXPORTER_PREFIX}${labels[METRIC_NAME] ?? ''}` };
}

/**
 * recordingExpr is the promtool expression comparing recording `name`. promtool compares floats with ==, so
 * a NaN never equals NaN: NaN samples come out as "is NaN" (`x != bool x` is 1 exactly for them, without the
 * metric name), the others as their value. Within tolerance, a value that close to the exporter's copy
 * comes out as the copy (`E and …`; `or` then skips Prometheus's own sample with the same labels).
 */
function recordingExpr(name: string, withinTolerance: boolean): string {
  const own = `(${name} == ${name}) or ((${name} != bool ${name}) == 1)`;
  if (!withinTolerance) return own;
  const copy = `${EXPORTER_PREFIX}${name}`;
  return `(${copy} and (abs(${name} - ${copy}) <= ${RELATIVE_TOLERANCE} * abs(${copy}))) or ${own}`;
}

/** recordedAt returns the samples recording rule `name` wrote at `t`, as recordingExpr returns them. */
function recordedAt(
  recorded: readonly SeriesData[],
  name: string,
  t: number,
  withinTolerance: boolean,
): PromtoolSample[] {
  const out: PromtoolSample[] = [];
  for (const s of recorded) {
    if (s.labels[METRIC_NAME] !== name) continue;
    const i = s.timestamps.indexOf(t);
    const v = s.values[i];
    if (i < 0 || v === undefined || isStaleNaN(v)) continue;
    if (Number.isNaN(v)) out.push({ labels: seriesText(withoutName(s.labels)), value: 1 });
    else out.push({ labels: seriesText(withinTolerance ? exporterCopy(s.labels) : s.labels), value: v });
  }
  return out;
}

/** AlertHistory counts one alert's episodes over the timeline, from the exporter's state after each slot. */
interface AlertHistory {
  fired: number;
  resolved: number;
  /** dropped: pending episodes that ended before `for` passed. */
  dropped: number;
}

/** alertHistory follows alert `rule` of `server` through every slot of the exporter's run. */
function alertHistory(run: ExporterRun, rule: string, server: string): AlertHistory {
  const h: AlertHistory = { fired: 0, resolved: 0, dropped: 0 };
  let prev: AlertState = 'inactive';
  for (let t = T0; t <= END; t += STEP_MS) {
    const a = run.alerts.get(t)?.find((x) => x.rule === rule && x.labels.server === server);
    const state = a?.state ?? 'inactive';
    if (prev === 'pending' && state === 'firing') h.fired++;
    if (prev === 'firing' && state === 'inactive') h.resolved++;
    if (prev === 'pending' && state === 'inactive') h.dropped++;
    prev = state;
  }
  return h;
}

/** firingAtChecks maps each server to the alerts that were firing on it at some check time. */
function firingAtChecks(run: ExporterRun, checkTimes: readonly number[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const t of checkTimes)
    for (const a of run.alerts.get(t) ?? []) {
      if (a.state !== 'firing' || a.labels.server === undefined) continue;
      let names = out.get(a.labels.server);
      if (!names) out.set(a.labels.server, (names = new Set()));
      names.add(a.rule);
    }
  return out;
}

/** PROMTOOL_OUTPUT_LIMIT bounds the promtool diff quoted in a failure (it lists every failed check). */
const PROMTOOL_OUTPUT_LIMIT = 30_000;

describe('rule manager vs Prometheus 2.42 (promtool test rules)', () => {
  it('evaluates the shipped rules over a scripted fleet timeline to the same alerts and recordings', async () => {
    if (!existsSync(PROMTOOL))
      throw new Error(
        `${PROMTOOL} is missing: install Debian's "prometheus" package (apt-get install -y prometheus)`,
      );
    const run = await runExporter();
    expect(run.ruleErrors, 'the exporter failed to evaluate rules').toEqual([]);
    const cmp = await buildComparison(run);

    const dir = mkdtempSync(join(tmpdir(), 'om-rules-differential-'));
    const file = join(dir, 'differential.test.yml');
    writeFileSync(file, stringify(cmp.file, { lineWidth: 0 }));
    const began = performance.now();
    const res = spawnSync(PROMTOOL, ['test', 'rules', file], {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    const promtoolMs = performance.now() - began;
    if (res.error) throw res.error;
    const output = `${res.stdout}${res.stderr}`;

    console.log(
      [
        `rules differential (exporter vs promtool ${PROMTOOL}): ${SERVERS.length} servers, ` +
          `${(END - T0) / MIN} min at ${STEP_MS / 1000} s, ${cmp.inputSeries} input series`,
        `  eval times compared: ${(END - T0) / STEP_MS + 1} for alert states (every slot), ` +
          `${cmp.checkTimes.length} for annotations and recordings (every transition, the slot before it, ` +
          `every ${CHECK_EVERY_MS / MIN} min)`,
        `  alerts compared: ${cmp.firingStates} firing and ${cmp.pendingStates} pending (state, labels, ` +
          `activeAt), ${cmp.firingAnnotated} of the firing ones with annotations ` +
          `(${cmp.alertRuleTests} alert_rule_test entries)`,
        `  transitions checked: ${run.transitions.pending} to pending, ${run.transitions.firing} to firing, ` +
          `${run.transitions.resolved} resolved, ${run.transitions.dropped} pending dropped`,
        `  recording-rule samples compared: ${cmp.recordedExact + cmp.recordedWithin} ` +
          `(${run.recordingRules.length} rules): ${cmp.recordedExact} bit for bit, ${cmp.recordedWithin} ` +
          `within ${RELATIVE_TOLERANCE} relative (sums and averages); ${cmp.exprTests} promql_expr_test entries`,
        `  one-interval shifts accepted: none (same group order, same timestamps)`,
        `  time: exporter ${(run.elapsedMs / 1000).toFixed(1)} s, promtool ${(promtoolMs / 1000).toFixed(1)} s`,
      ].join('\n'),
    );

    const quoted =
      output.length > PROMTOOL_OUTPUT_LIMIT
        ? `${output.slice(0, PROMTOOL_OUTPUT_LIMIT)}\n… (${output.length} characters in all)`
        : output;
    expect(
      res.status,
      `Prometheus 2.42 disagrees with the exporter's rule manager (test file kept: ${file}):\n${quoted}`,
    ).toBe(0);
    rmSync(dir, { recursive: true, force: true });

    // The timeline did what it claims, so the comparison covered every scenario while it fired, and every
    // recording rule had output to compare (a missing input series would leave both sides empty).
    expect([...cmp.recordedPerRule].filter(([, n]) => n === 0)).toEqual([]);
    const fired = firingAtChecks(run, cmp.checkTimes);
    expect([...(fired.get('web-01') ?? [])]).toEqual(
      expect.arrayContaining(['HighCPUUsage', 'CriticalCPUUsage', 'HighLoadPerCore']),
    );
    expect([...(fired.get('db-02') ?? [])]).toEqual(
      expect.arrayContaining(['HighMemoryUsage', 'CriticalMemoryUsage', 'MemorySwapping']),
    );
    expect([...(fired.get('worker-01') ?? [])]).toEqual(
      expect.arrayContaining(['HighDiskUsage', 'CriticalDiskUsage', 'DiskWillFillIn24h']),
    );
    expect([...(fired.get('api-02') ?? [])]).toEqual(expect.arrayContaining(['ServerDown']));
    expect(fired.get('cache-01')).toContain('ServiceDown');
    // Three crashes outlast ServiceDown's `for: 1m`, two do not.
    expect(alertHistory(run, 'ServiceDown', 'cache-01')).toEqual({ fired: 3, resolved: 3, dropped: 2 });
  }, 180_000);
});
