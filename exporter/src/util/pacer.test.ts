import { describe, expect, it } from 'vitest';
import { Pacer, nextTurn } from './pacer.js';

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

  it('resumes one yielding work per turn of the event loop, so timers run between them', async () => {
    const order: string[] = [];
    const a = new Pacer(1);
    const b = new Pacer(1);
    const c = nextTurn().then(() => order.push('c'));
    const doneA = a.yield().then(() => {
      order.push('a');
      // A timer that falls due during a's slice runs before b resumes: b waits for the next turn.
      setTimeout(() => order.push('timer'), 1);
      busy(5);
    });
    const doneB = b.yield().then(() => order.push('b'));
    await Promise.all([c, doneA, doneB]);
    expect(order).toEqual(['c', 'a', 'timer', 'b']);
    expect([a.yields, b.yields]).toEqual([1, 1]);
  });
});
