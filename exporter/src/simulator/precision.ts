/**
 * The resolution real sources report at. The model keeps full float64 precision internally (its dynamics
 * must not depend on how values are printed); only emitted samples are quantised, in ServerModel.emit.
 * Real exporters never expose float64 noise: /proc/loadavg prints 2 decimals, percentages derived from
 * integer jiffies or blocks are reported with a bounded number of decimals, and latency sums accumulate
 * whole clock ticks. Storage compresses accordingly, so a noisy simulator would misjudge the store.
 */

/** CENTI_SCALE is 10^2: percentages and load averages carry 2 decimals (/proc/loadavg's `%lu.%02lu`). */
const CENTI_SCALE = 100;

/** MILLI_SCALE is 10^3: the latency histogram's `_sum` accumulates whole milliseconds. */
const MILLI_SCALE = 1000;

/**
 * roundCenti rounds x to 2 decimals. Math.round(x·100)/100 is the double nearest the decimal, the same value
 * JavaScript prints and parses for it (`12.34`), so a decimal codec recognises it exactly.
 */
export function roundCenti(x: number): number {
  return Math.round(x * CENTI_SCALE) / CENTI_SCALE;
}

/**
 * floorMilli floors x to a whole number of thousandths (the double nearest k/1000). Flooring a
 * non-decreasing integral keeps it non-decreasing, as Math.floor does for the integer counters.
 */
export function floorMilli(x: number): number {
  return Math.floor(x * MILLI_SCALE) / MILLI_SCALE;
}
