/**
 * Evaluated values inside the engine. The engine evaluates every node for all steps of a query at once
 * (columnar), so an instant vector is a set of series each holding one value slot per step, with a
 * presence flag per slot; an instant query is simply a query with one step.
 */
import type { Labels } from '../util/labels.js';

/** StepSeries is one output series: a value and a presence flag for every evaluation step. */
export interface StepSeries {
  labels: Labels;
  readonly values: Float64Array;
  /** present[i] is 1 when the series has a value at step i. */
  readonly present: Uint8Array;
}

/** RawSeries is a series' samples in time order (a range-vector operand before windowing). */
export interface RawSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** ScalarValue is a scalar with one value per step. */
export interface ScalarValue {
  readonly kind: 'scalar';
  readonly values: Float64Array;
}

/** VectorValue is an instant vector over all steps. */
export interface VectorValue {
  readonly kind: 'vector';
  readonly series: StepSeries[];
  /**
   * distinct says the series' label sets are known to differ pairwise (a selector's, an aggregation's, a
   * merge's output), so consumers may skip mergeSameLabels, which keys every series.
   */
  readonly distinct?: boolean;
}

/**
 * MatrixValue is a range-vector operand: raw samples plus, per step, the inclusive window end `ends[i]`;
 * the window of step i is [ends[i] - rangeMs, ends[i]] (both ends inclusive, as in Prometheus 2.x).
 */
export interface MatrixValue {
  readonly kind: 'matrix';
  readonly series: RawSeries[];
  readonly rangeMs: number;
  readonly ends: Float64Array;
}

/** StringValue is a string literal's value. */
export interface StringValue {
  readonly kind: 'string';
  readonly value: string;
}

/** Value is anything an expression evaluates to. */
export type Value = ScalarValue | VectorValue | MatrixValue | StringValue;

/** newStepSeries allocates an empty series of `n` steps. */
export function newStepSeries(labels: Labels, n: number): StepSeries {
  return { labels, values: new Float64Array(n), present: new Uint8Array(n) };
}
