/**
 * Pacer lets long work on the main thread give the event loop a turn: the work checks `due()` (one clock read)
 * as it goes and, when its slice is used up, awaits `yield()`, during which timers, I/O, other requests and the
 * hub's broadcasts run. A query over a week of data or a snapshot of every series then delays everything
 * else by at most about one slice instead of its whole run time.
 *
 * setImmediate is the right turn to give: it runs after the poll phase, so pending I/O callbacks and due
 * timers are served before the work continues (a resolved promise would not let anything else run).
 */

/** SLICE_MS is the default slice: a tenth of the 50 ms any periodic job may hold the loop, five times the lag timer's noise. */
export const SLICE_MS = 10;

/** Pacer tracks one piece of work's current slice. */
export class Pacer {
  private sliceStart = performance.now();
  /** yields counts the turns given, for tests and stats. */
  yields = 0;

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** due reports whether the current slice is used up. */
  due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** yield gives the event loop a turn, then starts a new slice. */
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.yields++;
    this.sliceStart = performance.now();
  }

  /** pace yields when the slice is used up; call it between units of work in an async loop. */
  async pace(): Promise<void> {
    if (this.due()) await this.yield();
  }
}
