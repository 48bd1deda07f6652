/**
 * Label-set helpers the engine needs beyond util/labels.ts: Prometheus-style printing, ordering and the
 * matching signatures of vector matching and aggregation grouping.
 */
import { METRIC_NAME, type Labels } from '../util/labels.js';
import { quoteString } from './format.js';

/** labelsToString prints a label set as Prometheus's `labels.Labels.String()` (`{a="1", b="2"}`). */
export function labelsToString(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return '{' + names.map((n) => `${n}=${quoteString(labels[n] ?? '')}`).join(', ') + '}';
}

/** compareLabels orders label sets as Prometheus's `labels.Compare` (pairwise by name, then value). */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    const x = an[i] ?? '';
    const y = bn[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
    const xv = a[x] ?? '';
    const yv = b[y] ?? '';
    if (xv !== yv) return xv < yv ? -1 : 1;
  }
  return an.length - bn.length;
}

/** signatureOf is the key two series must share to match: only `names` (on), or all but `names` and the name. */
export function signatureOf(labels: Labels, on: boolean, names: readonly string[]): string {
  let out = '';
  if (on) {
    for (const n of [...names].sort()) {
      const v = labels[n];
      if (v !== undefined && v !== '') out += n + '\xff' + v + '\xfe';
    }
    return out;
  }
  for (const n of Object.keys(labels).sort()) {
    if (n === METRIC_NAME || names.includes(n)) continue;
    const v = labels[n];
    if (v !== undefined && v !== '') out += n + '\xff' + v + '\xfe';
  }
  return out;
}

/** matchedLabels returns the labels a signature covers, for error messages. */
export function matchedLabels(labels: Labels, on: boolean, names: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const [n, v] of Object.entries(labels)) {
    if (on ? names.includes(n) : n !== METRIC_NAME && !names.includes(n)) out[n] = v;
  }
  return out;
}

/**
 * nameDropped remembers dropName's result per label set object: a series read again (a rule every interval)
 * gets the same object back, which keeps what is derived from it (aggregation groups) reusable. Label sets
 * are never changed in place. Weak: entries go with their series.
 */
const nameDropped = new WeakMap<Labels, Labels>();

/** dropName returns labels without `__name__` (the same object when there is none, and for the same input). */
export function dropName(labels: Labels): Labels {
  if (!(METRIC_NAME in labels)) return labels;
  const known = nameDropped.get(labels);
  if (known) return known;
  const { [METRIC_NAME]: _n, ...rest } = labels;
  nameDropped.set(labels, rest);
  return rest;
}
