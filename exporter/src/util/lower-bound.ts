/** lowerBound returns the first index of sorted `ts[0, n)` whose value is ≥ t (n when none is). */
export function lowerBound(ts: ArrayLike<number>, t: number, n = ts.length): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** upperBound returns the first index of sorted `ts[0, n)` whose value is > t (n when none is; -0 and 0 are equal). */
export function upperBound(ts: ArrayLike<number>, t: number, n = ts.length): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
