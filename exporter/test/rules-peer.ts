/**
 * Helpers shared by the rules differential test and the rules benchmark: the shipped rule files (`rules/*.yml`)
 * loaded into the exporter's RuleManager over a given store, what those rules read and record, and a
 * Prometheus 2.42 process that receives samples through its remote-write receiver and evaluates the same
 * files live, reporting its own `prometheus_rule_group_*` metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { compressSync } from 'snappy';
import { Engine, walkExpr } from '../src/promql/index.js';
import { AlertingRule } from '../src/rules/alerting-rule.js';
import { GO_TEMPLATES } from '../src/rules/go-templates.js';
import type { RuleGroup } from '../src/rules/group.js';
import { RuleManager, dependencyOrder } from '../src/rules/manager.js';
import { createRuleMetrics } from '../src/rules/rule-metrics.js';
import type { CompiledTemplate } from '../src/rules/template.js';
import type { Storage } from '../src/tsdb/storage.js';
import type { Clock } from '../src/util/clock.js';
import { METRIC_NAME } from '../src/util/labels.js';
import { silentLogger } from '../src/util/logger.js';
import { parseExposition } from './exposition-parser.js';
import { PROMETHEUS, freePort, waitFor, type FleetSeries } from './promql-peer.js';

/** RULES_DIR is the repository's top-level `rules/` folder (the shipped rule files). */
export const RULES_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'rules');

/** shippedRuleFiles lists the shipped rule files (absolute paths, sorted), as both engines load them. */
export function shippedRuleFiles(): string[] {
  return readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(RULES_DIR, f));
}

/** ShippedRules is the exporter's rule manager running the shipped files. */
export type ShippedRules = RuleManager<CompiledTemplate>;

/**
 * openShippedRules loads `rules/*.yml` into a RuleManager over `storage` (evaluation interval `intervalMs`,
 * no file watching) and throws when they do not load.
 */
export async function openShippedRules(
  storage: Storage,
  clock: Clock,
  intervalMs: number,
  engine: Engine = new Engine(),
): Promise<ShippedRules> {
  const manager = new RuleManager(
    {
      ruleFiles: ['*.yml'],
      cwd: RULES_DIR,
      evaluationIntervalMs: intervalMs,
      externalLabels: {},
      externalURL: () => 'http://exporter.test',
      watch: false,
    },
    {
      engine,
      storage,
      clock,
      logger: silentLogger(),
      metrics: createRuleMetrics(new Registry()),
      templates: GO_TEMPLATES,
    },
  );
  const loaded = await manager.reload();
  if (!loaded.ok)
    throw new Error(`rules/*.yml do not load: ${loaded.errors.map((e) => e.message).join('; ')}`);
  return manager;
}

/** RecordingInfo is a recording rule and whether its value depends on the order of float additions. */
export interface RecordingInfo {
  readonly name: string;
  readonly addsFloats: boolean;
}

/** RuleInputs is what a set of groups reads and writes. */
export interface RuleInputs {
  readonly alertRules: readonly string[];
  readonly recordingRules: readonly RecordingInfo[];
  /** groupOrder is the manager's evaluation order (dependencyOrder), by group name. */
  readonly groupOrder: readonly string[];
  /** readNames are the metric names the rules select, less those the rules record (sorted). */
  readonly readNames: readonly string[];
  /** rangeMs maps each selected name (recorded ones too) to its longest range window (0: instant only). */
  readonly rangeMs: ReadonlyMap<string, number>;
}

/**
 * ruleInputs walks every rule's expression in evaluation order: the metric names selected, the recordings
 * (a recording "adds floats" when it sums or averages, or reads a recording that does), the alerts.
 */
export function ruleInputs<T>(groups: readonly RuleGroup<T>[]): RuleInputs {
  const recordingRules: RecordingInfo[] = [];
  const alertRules: string[] = [];
  const selected = new Set<string>();
  const rangeMs = new Map<string, number>();
  // Groups in evaluation order, so a recording's inputs are classified before it.
  const addsFloats = new Set<string>();
  const order = dependencyOrder(groups);
  for (const g of order)
    for (const r of g.rules) {
      let adds = false;
      walkExpr(r.rule.spec.expr, (n) => {
        if (n.type === 'AggregateExpr' && (n.op === 'sum' || n.op === 'avg')) adds = true;
        if (n.type === 'MatrixSelector')
          for (const m of n.selector.matchers)
            if (m.name === METRIC_NAME && m.type === '=')
              rangeMs.set(m.value, Math.max(rangeMs.get(m.value) ?? 0, n.rangeMs));
        if (n.type !== 'VectorSelector') return;
        for (const m of n.matchers)
          if (m.name === METRIC_NAME && m.type === '=') {
            selected.add(m.value);
            if (!rangeMs.has(m.value)) rangeMs.set(m.value, 0);
            if (addsFloats.has(m.value)) adds = true;
          }
      });
      if (r.rule instanceof AlertingRule) {
        alertRules.push(r.rule.name);
        continue;
      }
      recordingRules.push({ name: r.rule.name, addsFloats: adds });
      if (adds) addsFloats.add(r.rule.name);
    }
  const recordedNames = new Set(recordingRules.map((r) => r.name));
  return {
    alertRules,
    recordingRules,
    groupOrder: order.map((g) => g.spec.name),
    readNames: [...selected].filter((n) => !recordedNames.has(n)).sort(),
    rangeMs,
  };
}

/** RuleGroupSample is one group's `prometheus_rule_group_last_*` figures as a Prometheus reports them. */
export interface RuleGroupSample {
  /** group is the `rule_group` label: "<file>;<group name>". */
  readonly group: string;
  readonly lastDurationS: number;
  readonly lastEvaluationS: number;
}

/** RulesPrometheus is a running Prometheus fed by remote write that evaluates the shipped rule files. */
export interface RulesPrometheus {
  readonly base: string;
  /**
   * remoteWrite sends `series` in REMOTE_WRITE_STREAMS concurrent streams, each over its share of the
   * series in time order (every request holds at most `batchSamples` samples, none older than a sample of
   * an earlier request of its stream), so the head accepts every one of them.
   */
  remoteWrite(series: readonly FleetSeries[], batchSamples?: number): Promise<number>;
  /** loadRules writes the shipped rule files into the configuration and reloads it. */
  loadRules(evaluationIntervalMs: number): Promise<void>;
  /** ruleGroups reads the rule-group figures and the process's CPU seconds from Prometheus's own /metrics. */
  ruleGroups(): Promise<{ groups: RuleGroupSample[]; cpuSeconds: number }>;
  /** alerts counts the pending and firing alerts (GET /api/v1/alerts). */
  alerts(): Promise<{ pending: number; firing: number }>;
  /** stop kills the process and removes its data directory. */
  stop(): Promise<void>;
}

/** REMOTE_WRITE_STREAMS is how many requests remoteWrite keeps in flight: one per core of the machine here. */
const REMOTE_WRITE_STREAMS = 2;

/** DEFAULT_BATCH_SAMPLES keeps one remote-write body near 3 MB uncompressed (about 30 bytes a sample). */
const DEFAULT_BATCH_SAMPLES = 100_000;

/**
 * startRulesPrometheus starts Debian's Prometheus 2.42 on a free 127.0.0.1 port over an empty data
 * directory, with the remote-write receiver and the lifecycle API (for reloads) on. `headSpanMs` is the
 * longest time span the caller will write: the head's block range is made large enough that it neither
 * refuses old samples (it accepts half a block range behind the newest) nor compacts while rules run.
 * The process is killed when this process exits or is interrupted, whatever the caller does.
 */
export async function startRulesPrometheus(headSpanMs: number): Promise<RulesPrometheus> {
  if (!existsSync(PROMETHEUS))
    throw new Error(`${PROMETHEUS} is missing: install Debian's prometheus package (2.42)`);
  const dir = mkdtempSync(join(tmpdir(), 'rules-peer-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, 'global:\n  scrape_interval: 1h\n');
  // Whole hours, at least 2 h (Prometheus's default) and at least twice the span written.
  const blockHours = Math.max(2, Math.ceil((2 * headSpanMs) / 3_600_000));
  const port = await freePort();
  const proc: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=3650d',
      `--storage.tsdb.min-block-duration=${blockHours}h`,
      `--storage.tsdb.max-block-duration=${blockHours}h`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--web.enable-lifecycle',
    ],
    { stdio: 'ignore' },
  );
  let exited = false;
  const exit = new Promise<void>((res) => proc.once('exit', () => res()));
  void exit.then(() => (exited = true));
  const kill = (): void => {
    if (!exited) proc.kill('SIGKILL');
  };
  // Also on Ctrl-C or a kill of this process, which end it without an 'exit' event otherwise.
  const onSignal = (signal: NodeJS.Signals): void => {
    kill();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', kill);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = async (): Promise<void> => {
    process.off('exit', kill);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!exited) {
      proc.kill('SIGTERM');
      await exit;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${base}/-/ready`)).ok, 60_000, 'Prometheus to become ready');
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    base,
    stop,
    async remoteWrite(series, batchSamples = DEFAULT_BATCH_SAMPLES) {
      const post = async (body: Uint8Array): Promise<void> => {
        const res = await fetch(`${base}/api/v1/write`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
            'x-prometheus-remote-write-version': '0.1.0',
          },
          body: new Uint8Array(compressSync(Buffer.from(body))),
        });
        if (!res.ok) throw new Error(`remote write refused (${res.status}): ${await res.text()}`);
      };
      // Two streams, each over its own half of the series: one request of each in flight while its next is
      // encoded. Never two of one stream, which could reorder a series' samples.
      const stream = async (part: readonly FleetSeries[]): Promise<number> => {
        let sent = 0;
        let inFlight: Promise<void> = Promise.resolve();
        for (const req of writeRequests(part, batchSamples)) {
          await inFlight;
          inFlight = post(req.body);
          sent += req.samples;
        }
        await inFlight;
        return sent;
      };
      const sent = await Promise.all(
        Array.from({ length: REMOTE_WRITE_STREAMS }, (_, k) =>
          stream(series.filter((_, i) => i % REMOTE_WRITE_STREAMS === k)),
        ),
      );
      return sent.reduce((a, b) => a + b, 0);
    },
    async loadRules(evaluationIntervalMs) {
      const files = shippedRuleFiles()
        .map((f) => `  - ${JSON.stringify(f)}\n`)
        .join('');
      writeFileSync(
        config,
        `global:\n  scrape_interval: 1h\n  evaluation_interval: ${evaluationIntervalMs / 1000}s\n` +
          `rule_files:\n${files}`,
      );
      const res = await fetch(`${base}/-/reload`, { method: 'POST' });
      if (!res.ok) throw new Error(`Prometheus refused to reload (${res.status}): ${await res.text()}`);
    },
    async ruleGroups() {
      const res = await fetch(`${base}/metrics`);
      const families = parseExposition(await res.text(), 'text');
      const evaluated = new Map<string, number>();
      for (const s of families.get('prometheus_rule_group_last_evaluation_timestamp_seconds')?.samples ?? [])
        evaluated.set(s.labels.rule_group ?? '', s.value);
      const groups = (families.get('prometheus_rule_group_last_duration_seconds')?.samples ?? []).map(
        (s) => ({
          group: s.labels.rule_group ?? '',
          lastDurationS: s.value,
          lastEvaluationS: evaluated.get(s.labels.rule_group ?? '') ?? NaN,
        }),
      );
      const cpuSeconds = families.get('process_cpu_seconds_total')?.samples[0]?.value ?? NaN;
      return { groups, cpuSeconds };
    },
    async alerts() {
      const res = await fetch(`${base}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: { state: string }[] } };
      const count = { pending: 0, firing: 0 };
      for (const a of body.data.alerts) {
        if (a.state === 'pending') count.pending++;
        if (a.state === 'firing') count.firing++;
      }
      return count;
    },
  };
}

/**
 * writeRequests cuts `series` into remote-write requests (WriteRequest protobuf, uncompressed) in time
 * order: each holds, for every series, its samples in a window [from, to) of time, windows growing until
 * about `batchSamples` samples. It encodes straight from the sample arrays, each series' labels once for all
 * requests: encodeWriteRequest's object form costs several times the whole upload at a million series-samples.
 */
function* writeRequests(
  series: readonly FleetSeries[],
  batchSamples: number,
): Generator<{ body: Uint8Array; samples: number }> {
  const labels = series.map(encodeLabels);
  // Every sample time, ascending, with how many samples fall on it.
  const perTime = new Map<number, number>();
  for (const s of series) for (const t of s.timestamps) perTime.set(t, (perTime.get(t) ?? 0) + 1);
  const times = [...perTime.keys()].sort((a, b) => a - b);
  const from = new Int32Array(series.length);
  const to = new Int32Array(series.length);
  for (let i = 0; i < times.length;) {
    let n = 0;
    let j = i;
    while (j < times.length && (n === 0 || n + (perTime.get(times[j] ?? 0) ?? 0) <= batchSamples))
      n += perTime.get(times[j++] ?? 0) ?? 0;
    const end = j < times.length ? (times[j] ?? Infinity) : Infinity;
    series.forEach((s, k) => {
      let c = (from[k] = to[k] ?? 0);
      while (c < s.timestamps.length && (s.timestamps[c] ?? 0) < end) c++;
      to[k] = c;
    });
    yield { body: encodeWindow(series, labels, from, to), samples: n };
    i = j;
  }
}

/** PROTO_LEN and PROTO_DOUBLE/PROTO_VARINT tag fields: (field number << 3) | wire type. */
const TAG_TIMESERIES = (1 << 3) | 2;
const TAG_LABEL = (1 << 3) | 2;
const TAG_SAMPLE = (2 << 3) | 2;
const TAG_LABEL_NAME = (1 << 3) | 2;
const TAG_LABEL_VALUE = (2 << 3) | 2;
const TAG_SAMPLE_VALUE = (1 << 3) | 1;
const TAG_SAMPLE_TIMESTAMP = (2 << 3) | 0;

/** varintLength is the size of a non-negative integer (≤ 2^53) as a protobuf varint. */
function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** writeVarint writes a non-negative integer (≤ 2^53) as a varint at `p`; returns the next position. */
function writeVarint(buf: Uint8Array, p: number, v: number): number {
  while (v >= 128) {
    buf[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[p++] = v;
  return p;
}

/** encodeLabels encodes a series' `labels` fields (sorted by name, as the receiver requires). */
function encodeLabels(s: FleetSeries): Buffer {
  const parts: Buffer[] = [];
  for (const name of Object.keys(s.labels).sort()) {
    const n = Buffer.from(name);
    const v = Buffer.from(s.labels[name] ?? '');
    const len = 1 + varintLength(n.length) + n.length + 1 + varintLength(v.length) + v.length;
    const b = Buffer.alloc(1 + varintLength(len) + len);
    let p = writeVarint(b, 0, TAG_LABEL);
    p = writeVarint(b, p, len);
    p = writeVarint(b, p, TAG_LABEL_NAME);
    p = writeVarint(b, p, n.length);
    p += n.copy(b, p);
    p = writeVarint(b, p, TAG_LABEL_VALUE);
    p = writeVarint(b, p, v.length);
    v.copy(b, p);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** encodeWindow encodes a WriteRequest holding samples [from[k], to[k]) of every series k. */
function encodeWindow(
  series: readonly FleetSeries[],
  labels: readonly Buffer[],
  from: Int32Array,
  to: Int32Array,
): Uint8Array {
  // Sample message: value (tag + 8 bytes) and timestamp (tag + varint).
  const sampleLength = (t: number): number => 10 + varintLength(t);
  const seriesLength = new Float64Array(series.length);
  let total = 0;
  series.forEach((s, k) => {
    const a = from[k] ?? 0;
    const b = to[k] ?? 0;
    if (a >= b) return;
    let len = labels[k]?.length ?? 0;
    for (let i = a; i < b; i++) {
      const m = sampleLength(s.timestamps[i] ?? 0);
      len += 1 + varintLength(m) + m;
    }
    seriesLength[k] = len;
    total += 1 + varintLength(len) + len;
  });
  const buf = Buffer.alloc(total);
  let p = 0;
  series.forEach((s, k) => {
    const a = from[k] ?? 0;
    const b = to[k] ?? 0;
    if (a >= b) return;
    p = writeVarint(buf, p, TAG_TIMESERIES);
    p = writeVarint(buf, p, seriesLength[k] ?? 0);
    p += labels[k]?.copy(buf, p) ?? 0;
    for (let i = a; i < b; i++) {
      const t = s.timestamps[i] ?? 0;
      p = writeVarint(buf, p, TAG_SAMPLE);
      p = writeVarint(buf, p, sampleLength(t));
      buf[p++] = TAG_SAMPLE_VALUE;
      p = buf.writeDoubleLE(s.values[i] ?? NaN, p);
      p = writeVarint(buf, p, TAG_SAMPLE_TIMESTAMP);
      p = writeVarint(buf, p, t);
    }
  });
  return buf;
}
