/** Clock is the one source of "now" in the exporter: injected everywhere so tests and demos control time. */
export interface Clock {
  /** now returns the current time in Unix milliseconds. */
  now(): number;
}

/** systemClock is the wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * ScaledClock runs simulated time `speed`× faster than the wall clock, starting at `origin`
 * (both in Unix ms), for demos (`--speed N`).
 */
export class ScaledClock implements Clock {
  private readonly wallStart: number;
  constructor(
    private readonly speed: number,
    private readonly origin: number = Date.now(),
    private readonly wall: Clock = systemClock,
  ) {
    this.wallStart = wall.now();
  }
  now(): number {
    return Math.floor(this.origin + (this.wall.now() - this.wallStart) * this.speed);
  }
}

/** ManualClock is a clock that only moves when told to: for tests. */
export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
