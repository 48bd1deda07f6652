/**
 * SampleBuffer is a growable pair of Float64Arrays for reading samples. Typed arrays, not number[]:
 * V8 canonicalises NaN when storing into a plain double array, which would erase the stale-marker payload.
 */
import type { Labels } from '../util/labels.js';
import type { SeriesData } from './storage.js';

/** SampleBuffer accumulates (t, v) pairs in time order. */
export class SampleBuffer {
  ts: Float64Array;
  vs: Float64Array;
  n = 0;

  constructor(capacity = 64) {
    this.ts = new Float64Array(capacity);
    this.vs = new Float64Array(capacity);
  }

  /** push appends one sample. */
  push(t: number, v: number): void {
    if (this.n === this.ts.length) this.grow(this.n + 1);
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }

  /** grow makes room for at least `capacity` samples. */
  grow(capacity: number): void {
    if (capacity <= this.ts.length) return;
    const cap = Math.max(capacity, this.ts.length * 2);
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    ts.set(this.ts.subarray(0, this.n));
    vs.set(this.vs.subarray(0, this.n));
    this.ts = ts;
    this.vs = vs;
  }

  /** appendFrom appends all of `other`'s samples (which follow this buffer's in time). */
  appendFrom(other: SampleBuffer): void {
    this.grow(this.n + other.n);
    this.ts.set(other.ts.subarray(0, other.n), this.n);
    this.vs.set(other.vs.subarray(0, other.n), this.n);
    this.n += other.n;
  }

  /** appendRange appends samples [lo, hi) of `ts`/`vs` (which follow this buffer's in time). */
  appendRange(ts: Float64Array, vs: Float64Array, lo: number, hi: number): void {
    if (hi <= lo) return;
    this.grow(this.n + hi - lo);
    this.ts.set(ts.subarray(lo, hi), this.n);
    this.vs.set(vs.subarray(lo, hi), this.n);
    this.n += hi - lo;
  }

  /** lastT returns the newest timestamp, or -Infinity when empty. */
  lastT(): number {
    return this.n === 0 ? -Infinity : (this.ts[this.n - 1] ?? -Infinity);
  }

  /** toSeriesData copies the samples out as a SeriesData owned by the caller. */
  toSeriesData(labels: Labels): SeriesData {
    return { labels, timestamps: this.ts.slice(0, this.n), values: this.vs.slice(0, this.n) };
  }

  clear(): void {
    this.n = 0;
  }
}
