/**
 * Timers for the scheduler: the real one (setTimeout) and a manual one driven by a ManualClock, so tests run
 * schedules of hours in microseconds and never sleep.
 */
import type { ManualClock } from '../util/clock.js';

/** TimerHandle identifies a pending timer (undefined = none). */
export type TimerHandle = unknown;

/** Timer arms one-shot callbacks `delayMs` of its clock from now. */
export interface Timer {
  set(fn: () => void, delayMs: number): TimerHandle;
  clear(handle: TimerHandle): void;
}

/** systemTimer is setTimeout; its handles are unref'd so a pending job never keeps the process alive. */
export const systemTimer: Timer = {
  set(fn, delayMs) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return t;
  },
  clear(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/**
 * scaledTimer is setTimeout for delays measured on a clock that runs `speed`× faster than the wall clock
 * (ScaledClock): a delay of `d` simulated ms fires after d / speed wall ms.
 */
export function scaledTimer(speed: number): Timer {
  if (!(speed > 0)) throw new Error(`scaledTimer: speed must be positive, got ${speed}`);
  return {
    set: (fn, delayMs) => systemTimer.set(fn, delayMs / speed),
    clear: (handle) => systemTimer.clear(handle),
  };
}

interface Pending {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/** ManualTimer fires callbacks only when `advance` moves its ManualClock past their due time, in due order. */
export class ManualTimer implements Timer {
  private pending: Pending[] = [];
  private nextId = 1;

  constructor(private readonly clock: ManualClock) {}

  set(fn: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, due: this.clock.now() + Math.max(0, delayMs), fn });
    return id;
  }

  clear(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** size is the number of armed timers. */
  get size(): number {
    return this.pending.length;
  }

  /** advance moves the clock by `ms`, firing each due callback with the clock set to its due time. */
  advance(ms: number): void {
    const target = this.clock.now() + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending) {
        if (
          p.due <= target &&
          (next === undefined || p.due < next.due || (p.due === next.due && p.id < next.id))
        )
          next = p;
      }
      if (next === undefined) break;
      const fire = next;
      this.pending = this.pending.filter((p) => p !== fire);
      if (fire.due > this.clock.now()) this.clock.set(fire.due);
      fire.fn();
    }
    this.clock.set(target);
  }
}
