/**
 * Postings lists: sorted series refs per label pair, and the iterator algebra (intersect, merge, without)
 * the index uses to answer matchers. Modelled on Prometheus's tsdb/index/postings.go: an iterator with
 * next()/seek()/at()/err(), and a null object (EMPTY_POSTINGS / errPostings) instead of null checks.
 */
import type { Labels } from '../../util/labels.js';

/**
 * Postings iterates a strictly increasing list of series refs. `at()` is undefined until `next()` or
 * `seek()` returned true; after either returned false the iterator is exhausted and `err()` says why
 * (undefined when it simply ran out).
 */
export interface Postings {
  next(): boolean;
  /** seek advances to the first ref >= v (never backwards) and says whether there is one. */
  seek(v: number): boolean;
  at(): number;
  err(): Error | undefined;
}

/** ErrPostingsImpl is the null object for postings: always empty, optionally carrying an error. */
class ErrPostingsImpl implements Postings {
  constructor(private readonly error: Error | undefined) {}
  next(): boolean {
    return false;
  }
  seek(): boolean {
    return false;
  }
  at(): number {
    return 0;
  }
  err(): Error | undefined {
    return this.error;
  }
}

/** EMPTY_POSTINGS is the shared empty list; combinators short-circuit on identity with it. */
export const EMPTY_POSTINGS: Postings = new ErrPostingsImpl(undefined);

/** errPostings returns postings that are empty and report `err`. */
export function errPostings(err: Error): Postings {
  return new ErrPostingsImpl(err);
}

/** ListPostings iterates a sorted array of refs (the array is borrowed, not copied). */
export class ListPostings implements Postings {
  private i = -1;
  constructor(private readonly list: ArrayLike<number>) {}
  next(): boolean {
    this.i++;
    return this.i < this.list.length;
  }
  seek(v: number): boolean {
    if (this.i < 0) this.i = 0;
    if (this.i >= this.list.length) return false;
    if ((this.list[this.i] ?? 0) >= v) return true;
    // Binary search the rest: postings lists of a popular label pair hold every series.
    let lo = this.i + 1;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.list[mid] ?? 0) < v) lo = mid + 1;
      else hi = mid;
    }
    this.i = lo;
    return lo < this.list.length;
  }
  at(): number {
    return this.list[this.i] ?? 0;
  }
  err(): undefined {
    return undefined;
  }
}

/** newListPostings returns postings over `list`, or EMPTY_POSTINGS when it is empty. */
export function newListPostings(list: ArrayLike<number>): Postings {
  return list.length === 0 ? EMPTY_POSTINGS : new ListPostings(list);
}

class IntersectPostings implements Postings {
  private cur = 0;
  constructor(private readonly its: Postings[]) {}
  private settle(): boolean {
    for (;;) {
      let moved = false;
      for (const p of this.its) {
        if (!p.seek(this.cur)) return false;
        if (p.at() > this.cur) {
          this.cur = p.at();
          moved = true;
        }
      }
      if (!moved) return true;
    }
  }
  next(): boolean {
    for (const p of this.its) {
      if (!p.next()) return false;
      if (p.at() > this.cur) this.cur = p.at();
    }
    return this.settle();
  }
  seek(v: number): boolean {
    if (v > this.cur) this.cur = v;
    return this.settle();
  }
  at(): number {
    return this.cur;
  }
  err(): Error | undefined {
    for (const p of this.its) {
      const e = p.err();
      if (e) return e;
    }
    return undefined;
  }
}

/** intersect returns the refs present in every input. */
export function intersect(...its: Postings[]): Postings {
  if (its.length === 0) return EMPTY_POSTINGS;
  if (its.length === 1) return its[0] ?? EMPTY_POSTINGS;
  if (its.some((p) => p === EMPTY_POSTINGS)) return EMPTY_POSTINGS;
  return new IntersectPostings(its);
}

/**
 * merge returns the union of the inputs. It materialises the union (our indexes are in memory and
 * small enough that a k-way heap would cost more than it saves), but keeps the first error it meets.
 */
export function merge(...its: Postings[]): Postings {
  const live = its.filter((p) => p !== EMPTY_POSTINGS);
  if (live.length === 0) return EMPTY_POSTINGS;
  if (live.length === 1) return live[0] ?? EMPTY_POSTINGS;
  const seen = new Set<number>();
  for (const p of live) {
    while (p.next()) seen.add(p.at());
    const e = p.err();
    if (e) return errPostings(e);
  }
  return newListPostings(Float64Array.from(seen).sort());
}

class WithoutPostings implements Postings {
  private dropOk: boolean | undefined;
  constructor(
    private readonly full: Postings,
    private readonly drop: Postings,
  ) {}
  private skipDropped(): boolean {
    for (;;) {
      const v = this.full.at();
      if (this.dropOk === undefined) this.dropOk = this.drop.seek(v);
      else if (this.dropOk && this.drop.at() < v) this.dropOk = this.drop.seek(v);
      if (!this.dropOk || this.drop.at() !== v) return true;
      if (!this.full.next()) return false;
    }
  }
  next(): boolean {
    return this.full.next() && this.skipDropped();
  }
  seek(v: number): boolean {
    return this.full.seek(v) && this.skipDropped();
  }
  at(): number {
    return this.full.at();
  }
  err(): Error | undefined {
    return this.full.err() ?? this.drop.err();
  }
}

/** without returns the refs of `full` that are not in `drop` (set difference). */
export function without(full: Postings, drop: Postings): Postings {
  if (full === EMPTY_POSTINGS) return EMPTY_POSTINGS;
  if (drop === EMPTY_POSTINGS) return full;
  return new WithoutPostings(full, drop);
}

/** expandPostings drains `p` into an array, throwing the iterator's error if it has one. */
export function expandPostings(p: Postings): number[] {
  const out: number[] = [];
  while (p.next()) out.push(p.at());
  const e = p.err();
  if (e) throw e;
  return out;
}

/** ALL_POSTINGS_NAME is the reserved (name, value) pair under which every series is listed, as in Prometheus. */
const ALL_POSTINGS_NAME = '';

/**
 * MemPostings holds the postings list of every label pair in memory. Refs must be added in increasing
 * order (the index allocates them monotonically), so appends keep every list sorted without repair.
 */
export class MemPostings {
  private readonly m = new Map<string, Map<string, number[]>>();

  /** add lists `ref` under each of its label pairs and under the all-series key. */
  add(ref: number, labels: Labels): void {
    for (const name in labels) {
      const value = labels[name];
      if (value === undefined || value === '') continue;
      this.addFor(ref, name, value);
    }
    this.addFor(ref, ALL_POSTINGS_NAME, ALL_POSTINGS_NAME);
  }

  private addFor(ref: number, name: string, value: string): void {
    let byValue = this.m.get(name);
    if (!byValue) {
      byValue = new Map();
      this.m.set(name, byValue);
    }
    const list = byValue.get(value);
    if (!list) {
      byValue.set(value, [ref]);
      return;
    }
    list.push(ref);
    // Keep the invariant even if a caller re-adds an older ref (e.g. while loading a snapshot).
    for (let i = list.length - 1; i >= 1 && (list[i] ?? 0) < (list[i - 1] ?? 0); i--) {
      const t = list[i] ?? 0;
      list[i] = list[i - 1] ?? 0;
      list[i - 1] = t;
    }
  }

  /** get returns the postings of one label pair. */
  get(name: string, value: string): Postings {
    const list = this.m.get(name)?.get(value);
    return list ? newListPostings(list) : EMPTY_POSTINGS;
  }

  /** all returns the postings of every series. */
  all(): Postings {
    return this.get(ALL_POSTINGS_NAME, ALL_POSTINGS_NAME);
  }

  /** labelNames returns every label name (unsorted). */
  labelNames(): string[] {
    const out: string[] = [];
    for (const name of this.m.keys()) if (name !== ALL_POSTINGS_NAME) out.push(name);
    return out;
  }

  /** labelValues returns the values of label `name` (unsorted). */
  labelValues(name: string): string[] {
    if (name === ALL_POSTINGS_NAME) return [];
    return [...(this.m.get(name)?.keys() ?? [])];
  }

  /** delete removes the given refs from every list, dropping lists (and names) that become empty. */
  delete(refs: ReadonlySet<number>): void {
    if (refs.size === 0) return;
    for (const [name, byValue] of this.m) {
      for (const [value, list] of byValue) {
        if (!list.some((r) => refs.has(r))) continue;
        const kept = list.filter((r) => !refs.has(r));
        if (kept.length > 0) byValue.set(value, kept);
        else byValue.delete(value);
      }
      if (byValue.size === 0) this.m.delete(name);
    }
  }
}
