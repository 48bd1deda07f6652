/** Helpers for simulator tests and tools: reading a frame by metric name and comparing frames bit for bit. */
import { findSeries } from '../src/simulator/layout.js';
import type { FleetFrame, FleetLayout } from '../src/simulator/types.js';

/** firstBitDifference returns the first index where a and b differ bit for bit (NaN equals NaN), or -1. */
export function firstBitDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 0;
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (x.equals(y)) return -1;
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return k;
  return -1;
}

/** FrameReader reads samples of frames by sample name and labels (indexes cached per lookup key). */
export class FrameReader {
  private readonly cache = new Map<string, number>();
  constructor(readonly layout: FleetLayout) {}

  /** index returns the series index of (name, labels); throws when there is none. */
  index(name: string, labels: Readonly<Record<string, string>>): number {
    const key = name + JSON.stringify(labels);
    let k = this.cache.get(key);
    if (k === undefined) {
      k = findSeries(this.layout, name, labels);
      if (k < 0) throw new Error(`no series ${name}${JSON.stringify(labels)}`);
      this.cache.set(key, k);
    }
    return k;
  }

  /** get returns the sample of (name, labels) in `frame`. */
  get(frame: FleetFrame, name: string, labels: Readonly<Record<string, string>>): number {
    return frame.values[this.index(name, labels)] ?? NaN;
  }

  /** serverValues returns the samples of server `id` in `frame` keyed by their label sets (for debugging). */
  serverValues(frame: FleetFrame, id: string): Record<string, number> {
    const out: Record<string, number> = {};
    this.layout.series.forEach((s, k) => {
      if (s.labels.server === id) out[JSON.stringify(s.labels)] = frame.values[k] ?? NaN;
    });
    return out;
  }
}
