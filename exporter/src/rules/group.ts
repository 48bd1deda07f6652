/**
 * RuleGroup evaluates one group of rules as Prometheus's `rules/group.go` does: every interval, all rules in
 * file order at one timestamp, each rule's output appended (and committed) before the next rule runs, so a
 * later rule can use an earlier recording rule's result at the same instant. A series a rule wrote at the
 * previous evaluation but not at this one gets a staleness marker, so queries stop returning it at once.
 * A failing rule is recorded (health `err`, `lastError`) and counted, and the group goes on.
 *
 * `replay` runs the same evaluation over a stretch of history with one range query per rule instead of one
 * instant query per step, so a week of backfilled data gets its rule results in seconds.
 */
import type { Logger } from 'pino';
import type { Engine, MatrixSeries, QueryResult } from '../promql/index.js';
import type { Appender, SeriesRef, Storage } from '../tsdb/storage.js';
import type { Labels } from '../util/labels.js';
import { Pacer } from '../util/pacer.js';
import { STALE_NAN } from '../util/stale-marker.js';
import { AlertingRule, type AlertTransition, type OutputSample } from './alerting-rule.js';
import { RecordingRule, type LabelsMemo } from './recording-rule.js';
import type { GroupSpec } from './rule-file.js';
import type { RuleMetrics } from './rule-metrics.js';

/** RuleHealth is a rule's health as the API shows it. */
export type RuleHealth = 'unknown' | 'ok' | 'err';

/** RuleStatus is a rule's last evaluation. */
export interface RuleStatus {
  health: RuleHealth;
  lastError: string;
  /** lastEvaluation is the evaluation timestamp (ms), undefined before the first. */
  lastEvaluation: number | undefined;
  evaluationMs: number;
}

/**
 * GroupRule is one rule of a group with its status and the series it wrote last time, by the ref the
 * appender gave them (a store never hands one series' ref to another).
 *
 * `outputs` and `refs` carry a recording's output label sets and their series refs from one live evaluation
 * to the next: a query hands a series the same labels object round after round (a selected series' labels
 * are the store's, and aggregations, dropName and friends memoise theirs), so each round neither rebuilds
 * the renamed label set nor looks its series up by key. Both are weak: a result that is no longer returned
 * takes its entries with it. A ref of a series the store has since dropped is re-resolved by the appender.
 */
export interface GroupRule<T> {
  readonly rule: AlertingRule<T> | RecordingRule;
  readonly status: RuleStatus;
  previous: Map<number, Labels>;
  readonly outputs: WeakMap<Labels, Labels>;
  readonly refs: WeakMap<Labels, SeriesRef>;
}

/** ExpandTemplate expands one of an alerting rule's templates for a query result at evaluation time `ts`. */
export type ExpandTemplate<T> = (template: T, labels: Labels, value: number, ts: number) => Promise<string>;

/** GroupDeps are what a group needs to evaluate. */
export interface GroupDeps<T> {
  readonly engine: Engine;
  readonly storage: Storage;
  readonly metrics: RuleMetrics;
  readonly logger: Logger;
  readonly expandTemplate: ExpandTemplate<T>;
  /**
   * expandAnnotations (default true) expands alerts' annotation templates at every evaluation. A run that
   * reads only alert states (the coverage run) turns it off: a template may run a query per alert per step.
   */
  readonly expandAnnotations?: boolean;
  /** replayChunkSteps is the steps of one replay range query (default DEFAULT_REPLAY_CHUNK_STEPS). */
  readonly replayChunkSteps?: number;
  /** onTransitions hears every alert state change of a live evaluation (not of replayed history). */
  readonly onTransitions?: (group: RuleGroup<T>, ts: number, transitions: readonly AlertTransition[]) => void;
}

/**
 * DEFAULT_REPLAY_CHUNK_STEPS bounds one replay range query: 2,880 steps (12 h at 15 s) keep each within the
 * sample budget, and few chunks mean few re-reads of the windows that reach back before a chunk (a day for a
 * quantile over a recording). A chunk's result is split into a vector per step, an object per sample, in one
 * go; an exporter that serves while it replays uses shorter chunks (GroupDeps.replayChunkSteps).
 */
export const DEFAULT_REPLAY_CHUNK_STEPS = 2_880;

/** groupKey is Prometheus's identity of a group: "<file>;<name>" (the `rule_group` label). */
export function groupKey(file: string, name: string): string {
  return `${file};${name}`;
}

/** RuleGroup is one loaded group. */
export class RuleGroup<T> {
  readonly key: string;
  readonly rules: GroupRule<T>[];
  lastEvaluation: number | undefined;
  evaluationMs = 0;

  constructor(
    readonly spec: GroupSpec<T>,
    readonly intervalMs: number,
    private readonly deps: GroupDeps<T>,
  ) {
    this.key = groupKey(spec.file, spec.name);
    this.rules = spec.rules.map((r) => ({
      rule: r.kind === 'alert' ? new AlertingRule<T>(r) : new RecordingRule(r),
      status: { health: 'unknown', lastError: '', lastEvaluation: undefined, evaluationMs: 0 },
      previous: new Map(),
      outputs: new WeakMap(),
      refs: new WeakMap(),
    }));
    const m = deps.metrics;
    m.interval.set({ rule_group: this.key }, intervalMs / 1000);
    m.rules.set({ rule_group: this.key }, this.rules.length);
    m.evaluations.inc({ rule_group: this.key }, 0);
    m.failures.inc({ rule_group: this.key }, 0);
    m.iterations.inc({ rule_group: this.key }, 0);
    m.missed.inc({ rule_group: this.key }, 0);
  }

  /** copyStateFrom takes over the alerts of same-named alerting rules of the group this one replaces. */
  copyStateFrom(old: RuleGroup<T>): void {
    for (const r of this.rules) {
      if (!(r.rule instanceof AlertingRule)) continue;
      const prev = old.rules.find((o) => o.rule instanceof AlertingRule && o.rule.name === r.rule.name);
      if (prev && prev.rule instanceof AlertingRule) {
        r.rule.copyStateFrom(prev.rule);
        r.previous = prev.previous;
      }
    }
    this.lastEvaluation = old.lastEvaluation;
  }

  /** evaluate runs every rule at `ts` (ms) and appends their output. */
  async evaluate(ts: number): Promise<void> {
    const m = this.deps.metrics;
    const label = { rule_group: this.key };
    const began = performance.now();
    let samples = 0;
    m.iterations.inc(label);
    // Thousands of quick rules in one group would otherwise run back to back without a turn for the loop.
    const pacer = new Pacer();
    // One appender for the whole evaluation: it is reusable once its commit has settled, and each rule's
    // output is still committed before the next rule runs.
    const app = this.deps.storage.appender();
    for (const r of this.rules) {
      await pacer.pace();
      const ruleBegan = performance.now();
      m.evaluations.inc(label);
      try {
        const at = ts - this.spec.queryOffsetMs;
        const result = await this.deps.engine.instantQuery(this.deps.storage, r.rule.spec.expr, at);
        const { output, transitions } = await this.apply(r, at, ts, asVector(result.result), r.outputs);
        samples += this.write(app, r, at, output, r.refs);
        await app.commit();
        r.status.health = 'ok';
        r.status.lastError = '';
        if (transitions.length > 0) this.deps.onTransitions?.(this, ts, transitions);
      } catch (err) {
        // Nothing of a failed rule is committed with the next rule's output.
        app.rollback();
        r.status.health = 'err';
        r.status.lastError = (err as Error).message;
        m.failures.inc(label);
        this.deps.logger.warn(
          { group: this.spec.name, rule: r.rule.name, err: r.status.lastError },
          'rule evaluation failed',
        );
      }
      r.status.lastEvaluation = ts;
      r.status.evaluationMs = performance.now() - ruleBegan;
      m.evalDuration.observe(r.status.evaluationMs / 1000);
    }
    this.lastEvaluation = ts;
    this.evaluationMs = performance.now() - began;
    m.groupDuration.observe(this.evaluationMs / 1000);
    m.lastDuration.set(label, this.evaluationMs / 1000);
    m.lastEvaluation.set(label, ts / 1000);
    m.lastSamples.set(label, samples);
  }

  /**
   * replay evaluates the group at every interval step in (from, to], as `evaluate` would have, from range
   * queries; it appends outputs in bulk and emits no transitions (it is history). Rule failures are recorded
   * like live ones.
   */
  async replay(from: number, to: number): Promise<void> {
    const step = this.intervalMs;
    const first = Math.floor(from / step) * step + step;
    if (first > to) return;
    const pacer = new Pacer();
    const chunkSteps = this.deps.replayChunkSteps ?? DEFAULT_REPLAY_CHUNK_STEPS;
    for (let chunkStart = first; chunkStart <= to; chunkStart += step * chunkSteps) {
      const chunkEnd = Math.min(to, chunkStart + step * (chunkSteps - 1));
      for (const r of this.rules) {
        const off = this.spec.queryOffsetMs;
        try {
          const res = await this.deps.engine.rangeQuery(
            this.deps.storage,
            r.rule.spec.expr,
            chunkStart - off,
            chunkEnd - off,
            step,
          );
          const app = this.deps.storage.appender({ bulk: true });
          const byStep = stepVectors(res.result, chunkStart - off, chunkEnd - off, step);
          // A recording's series keep one labels object over the chunk (record's memo), so each is looked
          // up in the store once, not at every step (refs by labels object).
          const memo = new Map<Labels, Labels>();
          const refs = r.rule instanceof RecordingRule ? new Map<Labels, SeriesRef>() : undefined;
          for (let ts = chunkStart, k = 0; ts <= chunkEnd; ts += step, k++) {
            const { output } = await this.apply(r, ts - off, ts, byStep[k] ?? [], memo);
            this.write(app, r, ts - off, output, refs);
            if (pacer.due()) await pacer.yield();
          }
          await app.commit();
          r.status.health = 'ok';
          r.status.lastError = '';
        } catch (err) {
          r.status.health = 'err';
          r.status.lastError = (err as Error).message;
        }
        r.status.lastEvaluation = chunkEnd;
      }
      this.lastEvaluation = chunkEnd;
    }
  }

  /** apply turns one evaluation's results into the rule's output (and, for alerts, its transitions). */
  private async apply(
    r: GroupRule<T>,
    at: number,
    ts: number,
    results: readonly OutputSample[],
    memo?: LabelsMemo,
  ): Promise<{ output: OutputSample[]; transitions: AlertTransition[] }> {
    const limit = this.spec.limit;
    if (r.rule instanceof RecordingRule)
      return { output: r.rule.record(results, limit, memo), transitions: [] };
    const candidates = await r.rule.expand(
      results,
      (t, labels, value) => this.deps.expandTemplate(t, labels, value, at),
      this.deps.expandAnnotations !== false,
    );
    const { samples, transitions } = r.rule.update(ts, candidates, limit);
    return { output: samples, transitions };
  }

  /**
   * write appends a rule's output at `t` plus staleness markers for the series it no longer returns; `refs`,
   * when given, remembers each labels object's series ref for the next call.
   */
  private write(
    app: Appender,
    r: GroupRule<T>,
    t: number,
    output: readonly OutputSample[],
    refs?: Map<Labels, SeriesRef> | WeakMap<Labels, SeriesRef>,
  ): number {
    const now = new Map<number, Labels>();
    for (const s of output) {
      const ref = app.append(refs?.get(s.labels) ?? 0, s.labels, t, s.value);
      refs?.set(s.labels, ref);
      now.set(ref, s.labels);
    }
    for (const [ref, labels] of r.previous) if (!now.has(ref)) app.append(ref, labels, t, STALE_NAN);
    r.previous = now;
    return output.length;
  }
}

/** asVector turns an instant query's result into samples (a scalar becomes one sample without labels). */
export function asVector(r: QueryResult): OutputSample[] {
  if (r.resultType === 'vector') return r.result.map((s) => ({ labels: s.labels, value: s.v }));
  if (r.resultType === 'scalar') return [{ labels: {}, value: r.result.v }];
  return [];
}

/** stepVectors splits a range query's matrix into one vector per step of [start, end]. */
function stepVectors(r: QueryResult, start: number, end: number, step: number): OutputSample[][] {
  const n = Math.floor((end - start) / step) + 1;
  const out: OutputSample[][] = Array.from({ length: n }, () => []);
  const series: readonly MatrixSeries[] =
    r.resultType === 'matrix'
      ? r.result
      : r.resultType === 'scalar'
        ? [{ labels: {}, timestamps: [r.result.t], values: [r.result.v] }]
        : [];
  for (const s of series) {
    for (let i = 0; i < s.timestamps.length; i++) {
      const k = Math.round(((s.timestamps[i] as number) - start) / step);
      out[k]?.push({ labels: s.labels, value: s.values[i] as number });
    }
  }
  return out;
}
