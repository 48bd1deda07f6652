/**
 * mulberry32 returns a seeded pseudo-random generator in [0, 1) — a small, well-mixed 32-bit generator for
 * workloads, benches and fixtures that must be the same on every run (the simulator has its own counter-based
 * hashes, simulator/hash.ts, because it must recompute any instant without replaying a stream).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
