/**
 * The open-head record: a series' not-yet-cut samples as stored in its `:head` string, 16 bytes per sample
 * (timestamp as float64 little-endian — exact for integer ms up to 2^53 — then the value's raw float64 bits,
 * so NaN payloads survive). Fixed-size records let a commit extend the string with SETRANGE at
 * `count * 16`, which, unlike APPEND, is idempotent: a batch retried after a lost reply writes the same
 * bytes at the same place. Layout: ../../../docs/format/redis-keys.md.
 */
import { TsdbError } from '../errors.js';

/** HEAD_RECORD_BYTES is the size of one sample in a head string (two float64s). */
export const HEAD_RECORD_BYTES = 16;

/** encodeHeadRecords packs samples `[from, to)` of the parallel arrays into a Buffer (values copied as bytes). */
export function encodeHeadRecords(ts: Float64Array, vs: Float64Array, from: number, to: number): Buffer {
  const n = to - from;
  const out = Buffer.allocUnsafe(n * HEAD_RECORD_BYTES);
  const tBytes = new Uint8Array(ts.buffer, ts.byteOffset, ts.byteLength);
  const vBytes = new Uint8Array(vs.buffer, vs.byteOffset, vs.byteLength);
  // Byte copies, not float loads: a signalling NaN must not pass through a float register.
  for (let i = 0; i < n; i++) {
    const src = 8 * (from + i);
    out.set(tBytes.subarray(src, src + 8), HEAD_RECORD_BYTES * i);
    out.set(vBytes.subarray(src, src + 8), HEAD_RECORD_BYTES * i + 8);
  }
  return out;
}

/** decodeHeadRecords unpacks a head string into parallel arrays; a torn trailing record is refused. */
export function decodeHeadRecords(buf: Uint8Array): { ts: Float64Array; vs: Float64Array } {
  if (buf.length % HEAD_RECORD_BYTES !== 0) {
    throw new TsdbError('TSDB_CORRUPT', `Redis head record of ${buf.length} bytes is not a multiple of 16`);
  }
  const n = buf.length / HEAD_RECORD_BYTES;
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  const tBytes = new Uint8Array(ts.buffer);
  const vBytes = new Uint8Array(vs.buffer);
  for (let i = 0; i < n; i++) {
    const src = HEAD_RECORD_BYTES * i;
    tBytes.set(buf.subarray(src, src + 8), 8 * i);
    vBytes.set(buf.subarray(src + 8, src + 16), 8 * i);
    const t = ts[i] ?? 0;
    if (!Number.isSafeInteger(t)) {
      throw new TsdbError('TSDB_CORRUPT', `Redis head record ${i} has a non-integer timestamp ${t}`);
    }
  }
  return { ts, vs };
}
