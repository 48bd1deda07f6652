/**
 * Timing of live Fleet updates with the User Timing API: from a snapshot's arrival to the commit that shows
 * it. `npm run bench:ui` reads the measures in the browser; where the API is incomplete (jsdom) it is a no-op.
 */

/** FLEET_UPDATE_MEASURE names the measure of one applied live update. */
export const FLEET_UPDATE_MEASURE = 'om:fleet-update';

let pendingStart: number | null = null;

/** markUpdateStart records that a snapshot arrived (the first one since the last commit wins). */
export function markUpdateStart(): void {
  if (pendingStart === null && typeof performance !== 'undefined') {
    pendingStart = performance.now();
  }
}

/** measureUpdateEnd closes the pending measure after the page committed the update. */
export function measureUpdateEnd(): void {
  if (pendingStart === null) {
    return;
  }
  const start = pendingStart;
  pendingStart = null;
  if (typeof performance.measure === 'function') {
    try {
      performance.measure(FLEET_UPDATE_MEASURE, { start, end: performance.now() });
    } catch {
      // Old engines without measure options: the benchmark runs in Chromium, which has them.
    }
  }
}
