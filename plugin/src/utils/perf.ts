/**
 * Timing of live updates with the User Timing API: from a hub message's arrival to the commit that shows it.
 * `npm run bench:ui` reads the measures in the browser; where the API is incomplete (jsdom) it is a no-op.
 */

/** UpdateTimer times one kind of live update: start on arrival, end after the commit that shows it. */
export interface UpdateTimer {
  /**
   * markStart records that a message arrived, at `at` on the page clock (default now): pass the time the message
   * arrived, before parsing, so its parse counts. The first one since the last commit wins.
   */
  markStart(at?: number): void;
  /** measureEnd closes the pending measure after the page committed the update. */
  measureEnd(): void;
}

/** createUpdateTimer makes a timer whose measures are named `measure`. */
export function createUpdateTimer(measure: string): UpdateTimer {
  let pendingStart: number | null = null;
  return {
    markStart(at) {
      if (pendingStart === null && typeof performance !== 'undefined') {
        pendingStart = at ?? performance.now();
      }
    },
    measureEnd() {
      if (pendingStart === null) {
        return;
      }
      const start = pendingStart;
      pendingStart = null;
      if (typeof performance.measure === 'function') {
        try {
          performance.measure(measure, { start, end: performance.now() });
        } catch {
          // Old engines without measure options: the benchmark runs in Chromium, which has them.
        }
      }
    },
  };
}

/** FLEET_UPDATE_MEASURE names the measure of one applied live Fleet update. */
export const FLEET_UPDATE_MEASURE = 'om:fleet-update';
/** ALERTS_UPDATE_MEASURE names the measure of one applied live Alerts update. */
export const ALERTS_UPDATE_MEASURE = 'om:alerts-update';

const fleetTimer = createUpdateTimer(FLEET_UPDATE_MEASURE);
/** alertsUpdateTimer times the Alerts page's live updates. */
export const alertsUpdateTimer = createUpdateTimer(ALERTS_UPDATE_MEASURE);

/** markUpdateStart records that a Fleet snapshot arrived (at `at`, see UpdateTimer.markStart). */
export const markUpdateStart = (at?: number): void => fleetTimer.markStart(at);
/** measureUpdateEnd closes the pending Fleet measure after the page committed the update. */
export const measureUpdateEnd = (): void => fleetTimer.measureEnd();

/** CHART_DRAWN_MARK prefixes the mark set when a Server-page chart first draws data (`om:chart-drawn:<title>`). */
export const CHART_DRAWN_MARK = 'om:chart-drawn:';

/** clearChartMarks forgets the chart marks, so the next page load marks its charts afresh. */
export function clearChartMarks(): void {
  if (typeof performance === 'undefined' || typeof performance.getEntriesByType !== 'function') {
    return;
  }
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith(CHART_DRAWN_MARK)) {
      performance.clearMarks(m.name);
    }
  }
}

/** markChartDrawn marks the first time since the last clearChartMarks() that a chart drew data. */
export function markChartDrawn(chart: string): void {
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') {
    return;
  }
  const name = CHART_DRAWN_MARK + chart;
  if (typeof performance.getEntriesByName === 'function' && performance.getEntriesByName(name, 'mark').length > 0) {
    return;
  }
  performance.mark(name);
}

/**
 * FLEET_RENDER_MARKS name the marks of a Fleet page's first full render after it mounted: `tiles` when every tile
 * shows live values, `full` when the CPU sparklines are drawn too (`npm run bench:ui` times navigation to them).
 */
export const FLEET_RENDER_MARKS = { tiles: 'om:fleet-tiles', full: 'om:fleet-full' } as const;

/** markOnce sets the User Timing mark `name` (a no-op where the API is missing, as in jsdom). */
export function markOnce(name: string): void {
  if (typeof performance !== 'undefined' && typeof performance.mark === 'function') {
    performance.mark(name);
  }
}
