/**
 * The Redis key layout of the store (documented in ../../../docs/format/redis-keys.md). Every key of one
 * series carries the hash tag `{s:<ref>}`, so all of a series' keys live in one Redis Cluster slot and a
 * pipeline touching one series never crosses slots; the registry and meta keys are one slot each.
 */
import { TsdbError } from '../errors.js';
import type { RollupTier } from '../rollup.js';

/** KEY_LAYOUT_VERSION is stored in the meta key; a store written by another layout version is refused. */
export const KEY_LAYOUT_VERSION = 1;

/** DEFAULT_KEY_PREFIX is the prefix of every key when none is configured ("OpenManager"). */
export const DEFAULT_KEY_PREFIX = 'om';

// A prefix with braces would put its own hash tag first and move every key into one slot.
const PREFIX_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** RedisKeys names every key the Redis backend uses under one prefix. */
export class RedisKeys {
  /** meta is a hash: layout version, creation time, next series ref. */
  readonly meta: string;
  /** series is the registry hash: ref (decimal) → canonical labels as JSON. */
  readonly series: string;

  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    if (!PREFIX_RE.test(prefix)) {
      throw new TsdbError(
        'TSDB_BAD_OPTIONS',
        `Redis key prefix ${JSON.stringify(prefix)} is invalid: use 1-64 characters of [A-Za-z0-9_.:-] (no braces)`,
      );
    }
    this.meta = `${prefix}:meta`;
    this.series = `${prefix}:series`;
  }

  /** tag returns the hash tag shared by all keys of series `ref`. */
  tag(ref: number): string {
    return `{s:${ref}}`;
  }

  /** raw is the hash of series `ref`'s completed raw chunks: "<minT>:<maxT>" → chunk bytes. */
  raw(ref: number): string {
    return `${this.prefix}:{s:${ref}}:raw`;
  }

  /** state is the string holding series `ref`'s head checkpoint (Head.writeSeriesState bytes). */
  state(ref: number): string {
    return `${this.prefix}:{s:${ref}}:state`;
  }

  /** log is the string of samples appended since the checkpoint, 16 bytes each (see head-record.ts). */
  log(ref: number): string {
    return `${this.prefix}:{s:${ref}}:log`;
  }

  /** rollup is the hash of series `ref`'s rollup chunks of `tier`: "<minT>:<maxT>" → rollup blob. */
  rollup(ref: number, tier: RollupTier): string {
    return `${this.prefix}:{s:${ref}}:${tier}`;
  }

  /** seriesKeys lists every key of series `ref` (for deletion). */
  seriesKeys(ref: number): string[] {
    return [
      this.raw(ref),
      this.state(ref),
      this.log(ref),
      this.rollup(ref, '1m'),
      this.rollup(ref, '5m'),
      this.rollup(ref, '1h'),
    ];
  }

  /** pattern matches every key under the prefix (for SCAN-based cleanup in tests and tools). */
  get pattern(): string {
    return `${this.prefix}:*`;
  }
}

/** chunkField names a chunk inside a series hash by its time range, so HKEYS alone rebuilds the chunk list. */
export function chunkField(minT: number, maxT: number): string {
  return `${minT}:${maxT}`;
}

/** parseChunkField reverses chunkField; throws TSDB_CORRUPT for a foreign field. */
export function parseChunkField(field: string): { minT: number; maxT: number } {
  const i = field.indexOf(':', 1);
  const minT = Number(field.slice(0, i));
  const maxT = Number(field.slice(i + 1));
  if (i < 0 || !Number.isSafeInteger(minT) || !Number.isSafeInteger(maxT) || maxT < minT) {
    throw new TsdbError('TSDB_CORRUPT', `Redis chunk field ${JSON.stringify(field)} is not "<minT>:<maxT>"`);
  }
  return { minT, maxT };
}
