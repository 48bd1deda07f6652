/**
 * Exact int64-millisecond arithmetic on JS numbers. Timestamps are safe integers (|t| < 2^53); a difference
 * of two of them, or a delta-of-delta, can exceed that, so these helpers take a BigInt detour when either
 * input is outside FAST_TS. Real timestamps (|t| < 2^50 ms ≈ 35,000 years) never leave the fast path.
 */

import { ChunkError } from './errors.js';

/** FAST_TS bounds |t| for which t − t1, and t − 2·t1 + t2, stay exact in float64 arithmetic (≤ 2^52). */
export const FAST_TS = 2 ** 50;

/** isFastTs reports whether t is small enough for plain number arithmetic. */
export function isFastTs(t: number): boolean {
  return t < FAST_TS && t > -FAST_TS;
}

/** bigDelta returns t − t1 exactly as a BigInt. */
export function bigDelta(t: number, t1: number): bigint {
  return BigInt(t) - BigInt(t1);
}

/** bigDod returns (t − t1) − (t1 − t2) exactly as a BigInt. */
export function bigDod(t: number, t1: number, t2: number): bigint {
  return BigInt(t) - 2n * BigInt(t1) + BigInt(t2);
}

/** fromBig converts a BigInt to a number if it is a safe integer, else undefined. */
export function fromBig(x: bigint): number | undefined {
  return x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(x) : undefined;
}

/** checkAppendTimestamp throws CHUNK_BAD_TIMESTAMP unless t is a safe integer after `last` (if any). */
export function checkAppendTimestamp(t: number, last: number | undefined): void {
  if (!Number.isSafeInteger(t)) {
    throw new ChunkError('CHUNK_BAD_TIMESTAMP', `timestamp ${t} is not an integer number of ms within ±2^53`);
  }
  if (last !== undefined && t <= last) {
    throw new ChunkError(
      'CHUNK_BAD_TIMESTAMP',
      `timestamp ${t} is not after the previous sample's ${last}; append samples in strictly increasing time order`,
    );
  }
}
