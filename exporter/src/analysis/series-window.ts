/**
 * SeriesWindow keeps the recent samples of one series in time order in two growable Float64Arrays, so the
 * detector reads them as views without copying; samples older than the window's span are dropped from the
 * front (amortised: the arrays are compacted when the dropped part exceeds the live one).
 */
export class SeriesWindow {
  private ts = new Float64Array(64);
  private xs = new Float64Array(64);
  private start = 0;
  private end = 0;

  constructor(readonly spanMs: number) {}

  /** push appends a sample; one not newer than the last is ignored (a re-read of an instant). */
  push(t: number, x: number): void {
    if (this.end > this.start && t <= (this.ts[this.end - 1] as number)) return;
    if (this.end === this.ts.length) this.grow();
    this.ts[this.end] = t;
    this.xs[this.end] = x;
    this.end++;
  }

  /** trim drops samples at or before `now − spanMs`. */
  trim(now: number): void {
    const cut = now - this.spanMs;
    while (this.start < this.end && (this.ts[this.start] as number) <= cut) this.start++;
  }

  /** t and x are views of the live samples (valid until the next push). */
  get t(): Float64Array {
    return this.ts.subarray(this.start, this.end);
  }

  get x(): Float64Array {
    return this.xs.subarray(this.start, this.end);
  }

  /** length is the number of live samples; lastT the newest time (NaN when empty). */
  get length(): number {
    return this.end - this.start;
  }

  get lastT(): number {
    return this.end > this.start ? (this.ts[this.end - 1] as number) : NaN;
  }

  private grow(): void {
    const live = this.end - this.start;
    if (this.start > live) {
      this.ts.copyWithin(0, this.start, this.end);
      this.xs.copyWithin(0, this.start, this.end);
    } else {
      const ts = new Float64Array(this.ts.length * 2);
      const xs = new Float64Array(this.xs.length * 2);
      ts.set(this.ts.subarray(this.start, this.end));
      xs.set(this.xs.subarray(this.start, this.end));
      this.ts = ts;
      this.xs = xs;
    }
    this.start = 0;
    this.end = live;
  }
}
