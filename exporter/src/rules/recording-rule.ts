/**
 * RecordingRule is one `record:` rule, after Prometheus's `rules/recording.go`: the expression's result
 * renamed to the rule's name, the rule's labels added (overriding the result's), written back to the store.
 */
import { METRIC_NAME, seriesKey, type Labels } from '../util/labels.js';
import type { OutputSample } from './alerting-rule.js';
import type { RecordingRuleSpec } from './rule-file.js';

/**
 * LabelsMemo maps a query result's labels object to the output labels built for it (a Map for one replay
 * chunk, a WeakMap across live evaluations). Label sets are never mutated, so an object stands for its content.
 */
export interface LabelsMemo {
  get(key: Labels): Labels | undefined;
  set(key: Labels, value: Labels): unknown;
}

/** SeriesLimitError is a recording rule producing more series than its group's `limit`. */
export class SeriesLimitError extends Error {
  constructor(limit: number, got: number) {
    super(`exceeded limit of ${limit} with ${got} series`);
    this.name = 'SeriesLimitError';
  }
}

/** RecordingRule turns query results into the samples to record. */
export class RecordingRule {
  constructor(readonly spec: RecordingRuleSpec) {}

  get name(): string {
    return this.spec.name;
  }

  /**
   * record renames and relabels `results` (a query result: distinct label sets); throws on duplicate label
   * sets or past `limit` (0 = none). `memo`, when given, maps a result's labels object to the output labels
   * built for it: a replay, whose range query hands every step of a series the same labels object, and live
   * evaluations, whose queries hand a series the same labels object round after round, build each output
   * label set once (and the store can then find its series by that object).
   */
  record(results: readonly OutputSample[], limit: number, memo?: LabelsMemo): OutputSample[] {
    const out: OutputSample[] = [];
    const relabels = Object.entries(this.spec.labels);
    // Distinct results that share one name stay distinct when it is replaced: only others need checking.
    const first = results[0]?.labels[METRIC_NAME];
    const check = relabels.length > 0 || results.some((r) => r.labels[METRIC_NAME] !== first);
    const seen = new Set<string>();
    for (const r of results) {
      let labels = memo?.get(r.labels);
      if (!labels) {
        const built: Record<string, string> = { ...r.labels, [METRIC_NAME]: this.spec.name };
        for (const [k, v] of relabels) {
          if (v === '') delete built[k];
          else built[k] = v;
        }
        labels = built;
        memo?.set(r.labels, labels);
      }
      if (check) {
        const key = seriesKey(labels);
        if (seen.has(key))
          throw new Error('vector contains metrics with the same labelset after applying rule labels');
        seen.add(key);
      }
      out.push({ labels, value: r.value });
    }
    if (limit > 0 && out.length > limit) throw new SeriesLimitError(limit, out.length);
    return out;
  }
}
