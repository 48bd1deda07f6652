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
  return compareNamed(a, Object.keys(a).sort(), b, Object.keys(b).sort());
}

/** compareNamed is compareLabels over label sets whose names are already sorted (`an`, `bn`). */
function compareNamed(a: Labels, an: readonly string[], b: Labels, bn: readonly string[]): number {
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

/** Named is an item to sort with its label set and that set's sorted names. */
interface Named<T> {
  readonly item: T;
  readonly labels: Labels;
  readonly names: readonly string[];
}

const compareItems = <T>(a: Named<T>, b: Named<T>): number =>
  compareNamed(a.labels, a.names, b.labels, b.names);

/** SORT_RUN is how many items sortByLabels sorts in one go before merging runs with turns between. */
export const SORT_RUN = 1_024;

/**
 * sortByLabels returns `items` in compareLabels order of their label sets (stable, as Array.prototype.sort),
 * awaiting `breathe` every SORT_RUN items so the caller can give the event loop a turn. A plain sort with
 * compareLabels sorts both sets' names at every comparison: over the few thousand series of a /series answer
 * or a range result that held the loop for 150–200 ms, most of it collecting those arrays. Here each set's
 * names are sorted once, runs of SORT_RUN items are sorted in one go, and the runs are merged pairwise.
 */
export async function sortByLabels<T>(
  items: readonly T[],
  labelsOf: (item: T) => Labels,
  breathe: () => Promise<void>,
): Promise<T[]> {
  const n = items.length;
  let src: Named<T>[] = new Array<Named<T>>(n);
  for (let i = 0; i < n; i++) {
    if (i % SORT_RUN === SORT_RUN - 1) await breathe();
    const item = items[i] as T;
    const labels = labelsOf(item);
    src[i] = { item, labels, names: Object.keys(labels).sort() };
  }
  for (let lo = 0; lo < n; lo += SORT_RUN) {
    if (lo > 0) await breathe();
    const run = src.slice(lo, lo + SORT_RUN).sort(compareItems);
    for (let k = 0; k < run.length; k++) src[lo + k] = run[k] as Named<T>;
  }
  let dst: Named<T>[] = new Array<Named<T>>(n);
  for (let width = SORT_RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      for (let k = lo; k < hi; k++) {
        if (k % SORT_RUN === SORT_RUN - 1) await breathe();
        // Ties take the left run's item: stable.
        const takeLeft = j >= hi || (i < mid && compareItems(src[i] as Named<T>, src[j] as Named<T>) <= 0);
        dst[k] = (takeLeft ? src[i++] : src[j++]) as Named<T>;
      }
    }
    [src, dst] = [dst, src];
  }
  return src.map((x) => x.item);
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
