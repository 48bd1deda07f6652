import { describe, expect, it } from 'vitest';
import { scaledTimer } from './timer.js';

describe('scaledTimer', () => {
  it('fires a delay of simulated time after delay / speed of wall time', async () => {
    const timer = scaledTimer(1_000);
    const began = performance.now();
    // 60 s of simulated time at 1,000× is 60 ms of wall time.
    const firedAfter = await new Promise<number>((resolve) =>
      timer.set(() => resolve(performance.now() - began), 60_000),
    );
    expect(firedAfter).toBeGreaterThanOrEqual(59);
    expect(firedAfter).toBeLessThan(5_000);
  });

  it('clear cancels, and a non-positive speed is refused', async () => {
    const timer = scaledTimer(10);
    let fired = false;
    timer.clear(timer.set(() => (fired = true), 10));
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(false);
    expect(() => scaledTimer(0)).toThrow(/positive/);
  });
});
