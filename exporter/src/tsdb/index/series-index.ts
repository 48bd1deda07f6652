/**
 * SeriesIndex is the in-memory inverted index shared by every backend: series identity (label set ↔ ref),
 * postings per label pair, and matcher evaluation with Prometheus semantics (see matchers.ts). Refs are
 * allocated monotonically from 1 (0 means "unknown" in the Appender contract), so postings stay sorted.
 */
import { LABEL_NAME_RE, seriesKey, type Labels } from '../../util/labels.js';
import type { Matcher } from '../storage.js';
import { TsdbError } from '../errors.js';
import { compileMatcher } from './matchers.js';
import {
  EMPTY_POSTINGS,
  MemPostings,
  expandPostings,
  intersect,
  merge,
  without,
  type Postings,
} from './postings.js';

/** canonicalLabels drops empty values (an empty label is an absent one) and validates names. */
export function canonicalLabels(labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) {
    const value = labels[name];
    if (value === undefined || value === '') continue;
    if (!LABEL_NAME_RE.test(name)) {
      throw new TsdbError(
        'TSDB_BAD_LABELS',
        `invalid label name ${JSON.stringify(name)}: use [a-zA-Z_][a-zA-Z0-9_]*`,
      );
    }
    out[name] = value;
  }
  if (Object.keys(out).length === 0) {
    throw new TsdbError('TSDB_BAD_LABELS', 'a series needs at least one non-empty label (normally __name__)');
  }
  return out;
}

/** SeriesIndex maps label sets to refs and answers matcher queries over them. */
export class SeriesIndex {
  private readonly byKey = new Map<string, number>();
  private readonly byRef = new Map<number, Labels>();
  private readonly postings = new MemPostings();
  private next = 1;

  /** size is the number of series. */
  get size(): number {
    return this.byRef.size;
  }

  /** nextRef is the ref the next new series will get (persisted so refs are never reused). */
  get nextRef(): number {
    return this.next;
  }

  /** getOrCreate returns the ref of `labels`, creating the series if new (`created` says which). */
  getOrCreate(labels: Labels): { ref: number; created: boolean; labels: Labels } {
    const key = seriesKey(labels);
    const known = this.byKey.get(key);
    if (known !== undefined) return { ref: known, created: false, labels: this.byRef.get(known) ?? labels };
    const canon = canonicalLabels(labels);
    const ref = this.next++;
    this.insert(ref, key, canon);
    return { ref, created: true, labels: canon };
  }

  /** restore re-inserts a series with a known ref (snapshot / WAL replay); refs must arrive in any order. */
  restore(ref: number, labels: Labels): void {
    const canon = canonicalLabels(labels);
    const key = seriesKey(canon);
    if (this.byRef.has(ref) || this.byKey.has(key)) return;
    this.insert(ref, key, canon);
    if (ref >= this.next) this.next = ref + 1;
  }

  /** reserveRefs makes sure refs below `next` are never handed out again (after deletions). */
  reserveRefs(next: number): void {
    if (next > this.next) this.next = next;
  }

  private insert(ref: number, key: string, labels: Labels): void {
    this.byKey.set(key, ref);
    this.byRef.set(ref, labels);
    this.postings.add(ref, labels);
  }

  /** ref returns the ref of `labels`, or undefined when the series is unknown. */
  ref(labels: Labels): number | undefined {
    return this.byKey.get(seriesKey(labels));
  }

  /** labels returns the label set of `ref`, or undefined when unknown. */
  labels(ref: number): Labels | undefined {
    return this.byRef.get(ref);
  }

  /** entries iterates every (ref, labels) pair, in insertion order. */
  entries(): IterableIterator<[number, Labels]> {
    return this.byRef.entries();
  }

  /**
   * postings returns the refs matching all `matchers` (all series when there are none). A matcher that
   * matches '' selects series lacking the label too, implemented as "all minus the series whose value
   * fails it"; `!=` and `!~` therefore become set differences, as in Prometheus's PostingsForMatchers.
   */
  postingsForMatchers(matchers: readonly Matcher[]): Postings {
    const its: Postings[] = [];
    const notIts: Postings[] = [];
    // Equality matchers first, and none after an empty one: `up{server!=""}` on a store without `up` then
    // never merges the postings of every server.
    const ordered = [...matchers].sort((a, b) => Number(b.type === '=') - Number(a.type === '='));
    for (const m of ordered) {
      const cm = compileMatcher(m);
      if (cm.matches('')) {
        if (m.type === '=~' && m.value === '.*') continue; // matches every series
        notIts.push(this.postingsForValues(m.name, (v) => !cm.matches(v), undefined));
      } else {
        const p = this.postingsForValues(m.name, cm.matches, cm.setMatches);
        if (p === EMPTY_POSTINGS) return EMPTY_POSTINGS;
        its.push(p);
      }
    }
    if (its.length === 0) its.push(this.postings.all());
    return without(intersect(...its), merge(...notIts));
  }

  private postingsForValues(
    name: string,
    pred: (v: string) => boolean,
    set: readonly string[] | undefined,
  ): Postings {
    const values = set ?? this.postings.labelValues(name).filter(pred);
    if (values.length === 0) return EMPTY_POSTINGS;
    return merge(...values.map((v) => this.postings.get(name, v)));
  }

  /** select returns the sorted refs matching all `matchers`. */
  select(matchers: readonly Matcher[]): number[] {
    return expandPostings(this.postingsForMatchers(matchers));
  }

  /** labelNames returns the sorted label names of `refs` (of every series when omitted). */
  labelNames(refs?: Iterable<number>): string[] {
    if (!refs) return this.postings.labelNames().sort();
    const names = new Set<string>();
    for (const ref of refs) for (const name in this.byRef.get(ref)) names.add(name);
    return [...names].sort();
  }

  /** labelValues returns the sorted values of label `name` among `refs` (every series when omitted). */
  labelValues(name: string, refs?: Iterable<number>): string[] {
    if (!refs) return this.postings.labelValues(name).sort();
    const values = new Set<string>();
    for (const ref of refs) {
      const v = this.byRef.get(ref)?.[name];
      if (v !== undefined) values.add(v);
    }
    return [...values].sort();
  }

  /** delete forgets the given series (used when retention empties them). */
  delete(refs: ReadonlySet<number>): void {
    for (const ref of refs) {
      const labels = this.byRef.get(ref);
      if (!labels) continue;
      this.byRef.delete(ref);
      this.byKey.delete(seriesKey(labels));
    }
    this.postings.delete(refs);
  }
}
