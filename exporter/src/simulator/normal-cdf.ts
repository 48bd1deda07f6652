/**
 * The standard normal CDF by table lookup: the latency histogram evaluates it ~40 times per server per
 * tick, so a monotone table with linear interpolation replaces erf() on the hot path.
 */

/** Z_MAX bounds the table: Φ(±8) differs from 0/1 by < 1e-15, below any counter's resolution. */
const Z_MAX = 8;

/** STEPS_PER_UNIT is the table resolution in z (1/64: interpolation error < 1e-5). */
const STEPS_PER_UNIT = 64;

/**
 * erfc via Numerical Recipes' Chebyshev fit `erfcc` (fractional error < 1.2e-7 everywhere): accurate enough
 * for a bucket boundary, and it only runs while the table is built.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

const TABLE: Float64Array = (() => {
  const n = 2 * Z_MAX * STEPS_PER_UNIT + 1;
  const out = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) {
    const z = -Z_MAX + k / STEPS_PER_UNIT;
    out[k] = 0.5 * erfc(-z / Math.SQRT2);
  }
  out[0] = 0;
  out[n - 1] = 1;
  out[n] = 1; // guard cell so interpolation at the last point never reads past the end
  // The fit is not exactly monotone at the 1e-9 level; enforce it so bucket fractions never decrease.
  for (let k = 1; k <= n; k++) if ((out[k] ?? 1) < (out[k - 1] ?? 0)) out[k] = out[k - 1] ?? 0;
  return out;
})();

/** normalCdf returns Φ(z) for the standard normal distribution (monotone non-decreasing, in [0, 1]). */
export function normalCdf(z: number): number {
  if (!(z > -Z_MAX)) return 0;
  if (z >= Z_MAX) return 1;
  const x = (z + Z_MAX) * STEPS_PER_UNIT;
  const k = Math.floor(x);
  const a = TABLE[k] ?? 1;
  const b = TABLE[k + 1] ?? 1;
  return a + (b - a) * (x - k);
}
