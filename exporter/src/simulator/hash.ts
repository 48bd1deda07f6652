/**
 * Counter-based pseudo-randomness: every random number of the simulator is a pure function of
 * (seed, server, process, step), so any instant can be recomputed without replaying a global stream.
 */

/** GOLDEN_32 is 2^32 / φ, the usual odd constant for spreading consecutive integers (Knuth, TAOCP 6.4). */
const GOLDEN_32 = 0x9e3779b1;

/** TWO_POW_32 scales a uint32 to [0, 1). */
const TWO_POW_32 = 4294967296;

/**
 * mix32 is Chris Wellons' "lowbias32" integer finalizer (a bijection on uint32 with near-ideal avalanche);
 * it returns a uint32.
 */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** hashPair derives a new uint32 key from a key and an integer (order matters). */
export function hashPair(key: number, n: number): number {
  return mix32((mix32(key ^ Math.imul(n | 0, GOLDEN_32)) + 0x6a09e667) | 0);
}

/** hashStep is the hot-path hash of (key, step): one multiply-xor and one finalizer. */
export function hashStep(key: number, n: number): number {
  return mix32(key ^ Math.imul(n | 0, GOLDEN_32));
}

/** seedKey turns a numeric seed (any safe integer) into a uint32 key. */
export function seedKey(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  return mix32(lo ^ mix32((hi + 0x632be5ab) | 0));
}

/** stringKey hashes a string (FNV-1a, then mixed) to a uint32 key. */
export function stringKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** unit maps a uint32 hash to [0, 1). */
export function unit(h: number): number {
  return h / TWO_POW_32;
}

/** symmetric maps a uint32 hash to [-1, 1). */
export function symmetric(h: number): number {
  return (h / TWO_POW_32) * 2 - 1;
}

/** xorshift32 advances Marsaglia's xorshift32 generator (for cheap sequences seeded by one hash); never 0 in, never 0 out. */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}
