/**
 * Float arithmetic as Prometheus does it, shared by the functions table and the aggregations: Kahan-compensated
 * sums, the overflow-safe incremental mean, and Go's math.Pow edge cases.
 */

/** kahanInc adds `inc` to `sum` with compensation `c`, as Prometheus's kahanSumInc does. */
export function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t)) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/**
 * incrementalMean is Prometheus's mean for when the plain sum overflows: mean += v/k - mean/k over the `n` values
 * `valueAt(0..n-1)`, skipping values that cannot change an infinite mean (as avg and avg_over_time do).
 */
export function incrementalMean(n: number, valueAt: (k: number) => number): number {
  let mean = 0;
  for (let k = 0; k < n; k++) {
    const v = valueAt(k);
    const count = k + 1;
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(v) && !Number.isNaN(v) && mean > 0 === v > 0) continue;
      if (Number.isFinite(v)) continue;
    }
    mean += v / count - mean / count;
  }
  return mean;
}

/** goPow is Go's math.Pow, which differs from `**` for base 1 and base −1 with infinite exponents. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}
