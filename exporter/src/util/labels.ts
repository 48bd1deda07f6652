/**
 * Labels is a series' identity: label name → value, including `__name__` for the metric name.
 * Empty values are never stored (Prometheus treats an empty label as an absent one).
 */
export type Labels = Readonly<Record<string, string>>;

/** METRIC_NAME is the reserved label that holds a series' metric name. */
export const METRIC_NAME = '__name__';

/** LABEL_NAME_RE is Prometheus 2.x's label-name syntax (model.LabelNameRE, legacy validation). */
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** METRIC_NAME_RE is Prometheus 2.x's metric-name syntax (model.MetricNameRE: colons allowed). */
export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** sortedLabelNames returns the label names of `labels` in byte order, as Prometheus sorts them. */
export function sortedLabelNames(labels: Labels): string[] {
  return Object.keys(labels).sort();
}

/**
 * seriesKey returns a canonical string for a label set (sorted, unambiguous separators), used as the
 * identity of a series in maps and hashes. Two label sets are equal iff their keys are equal.
 */
export function seriesKey(labels: Labels): string {
  // join makes one flat string; `+=` would leave a rope of ~4 pieces per label in every map holding the key.
  const parts: string[] = [];
  for (const name of sortedLabelNames(labels)) {
    const value = labels[name];
    if (value === undefined || value === '') continue;
    parts.push(name, '\xff', value, '\xfe');
  }
  return parts.join('');
}

/** withoutName returns `labels` minus `__name__` (PromQL drops the name on most operations). */
export function withoutName(labels: Labels): Record<string, string> {
  const { [METRIC_NAME]: _dropped, ...rest } = labels;
  return rest;
}
