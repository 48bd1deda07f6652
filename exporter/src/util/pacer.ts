/**
 * Pacer lets long work on the main thread give the event loop a turn: the work checks `due()` (one clock read)
 * as it goes and, when its slice is used up, awaits `yield()`, during which timers, I/O, other requests and the
 * hub's broadcasts run. A query over a week of data or a snapshot of every series then delays everything
 * else by at most about one slice instead of its whole run time.
 *
 * setImmediate is the right turn to give: it runs after the poll phase, so pending I/O callbacks and due
 * timers are served before the work continues (a resolved promise would not let anything else run).
 *
 * Paced works take turns: every yield joins one queue, and each turn of the event loop resumes only the
 * first in it (`nextTurn`). Node runs every immediate queued before its check phase in that one phase, so
 * with one setImmediate each, a flush, a snapshot capture, a query and a commit yielding together resumed
 * one after the other with no timer or I/O in between — one block of four slices (59.5 ms measured at
 * 20 servers: a flush slice, a capture slice and a collection). Taking turns keeps a block to about one
 * slice however many paced works are in flight; each gets its share of the loop as before.
 */

/** SLICE_MS is the default slice: a tenth of the 50 ms any periodic job may hold the loop, five times the lag timer's noise. */
export const SLICE_MS = 10;

/** waiting are the resolvers of the paced works waiting for a turn, first come first served. */
const waiting: (() => void)[] = [];
/** armed says a setImmediate that resumes the first waiting work is queued. */
let armed = false;

/** resumeFirst resumes the first waiting work; the next one waits for the next turn of the loop. */
function resumeFirst(): void {
  armed = false;
  const first = waiting.shift();
  // Armed before resuming: an immediate queued from inside the check phase runs in the next turn.
  if (waiting.length > 0) arm();
  first?.();
}

function arm(): void {
  if (armed) return;
  armed = true;
  setImmediate(resumeFirst);
}

/**
 * nextTurn resolves in a later turn of the event loop, after the works that asked for a turn before it
 * (see the file comment); for long work that paces itself without a Pacer.
 */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    arm();
  });
}

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
    await nextTurn();
    this.yields++;
    this.sliceStart = performance.now();
  }

  /** pace yields when the slice is used up; call it between units of work in an async loop. */
  async pace(): Promise<void> {
    if (this.due()) await this.yield();
  }
}
