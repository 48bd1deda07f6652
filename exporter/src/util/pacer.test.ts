import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer.js';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* work */
  }
}

describe('Pacer', () => {
  it('lets a callback queued before long work run before the work ends', async () => {
    const pacer = new Pacer(5);
    const order: string[] = [];
    setImmediate(() => order.push('other'));
    for (let i = 0; i < 20; i++) {
      busy(1);
      await pacer.pace();
    }
    order.push('work done');
    expect(order).toEqual(['other', 'work done']);
    expect(pacer.yields).toBeGreaterThanOrEqual(2);
  });

  it('does not yield while the slice lasts', async () => {
    const pacer = new Pacer(10_000);
    for (let i = 0; i < 100; i++) await pacer.pace();
    expect(pacer.yields).toBe(0);
    expect(pacer.due()).toBe(false);
  });
});
