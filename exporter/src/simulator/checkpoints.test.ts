import { describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoints.js';

/** STATE_DOUBLES is a made-up state size; only the byte budget it implies matters here. */
const STATE_DOUBLES = 100;
const STATE_BYTES = 8 * STATE_DOUBLES;

/** kept saves grid indexes 0..saves-1 for every server and returns, per server, the indexes still held. */
function kept(servers: number, budgetBytes: number, saves: number): number[][] {
  const store = new CheckpointStore(servers, STATE_DOUBLES, budgetBytes);
  const state = new Float64Array(STATE_DOUBLES * servers);
  for (let n = 0; n < saves; n++)
    for (let i = 0; i < servers; i++) store.save(i, n, state, i * STATE_DOUBLES, STATE_DOUBLES);
  return Array.from({ length: servers }, (_, i) => {
    const held: number[] = [];
    for (let n = saves - 1; n >= 0; n--) if (store.latest(i, n, n)) held.unshift(n);
    return held;
  });
}

describe('CheckpointStore', () => {
  it.each([
    // [servers, budget in states, saves per server, checkpoints each server keeps]
    [1, 5, 10, 5],
    [4, 20, 10, 5], // the budget is the whole fleet's: 20 states over 4 servers
    [20, 100, 10, 5],
    [4, 4, 10, 2], // never fewer than MIN_CHECKPOINTS_PER_SERVER
    [4, 400, 10, 10],
  ])(
    '%i servers, a budget of %i states, %i saves: each keeps its newest %i',
    (servers, budget, saves, each) => {
      const held = kept(servers, budget * STATE_BYTES, saves);
      const newest = Array.from({ length: each }, (_, k) => saves - each + k);
      for (const h of held) expect(h).toEqual(newest);
    },
  );

  it('a full server evicts its oldest and keeps what each kept index saved', () => {
    const store = new CheckpointStore(1, 1, 2 * 8); // two states
    for (const n of [10, 12, 11, 5, 13]) store.save(0, n, Float64Array.of(n * 100), 0, 1);
    // 10 then 11 were evicted (5 was older than both kept and not stored); evicted arrays are reused.
    expect(store.latest(0, 0, 11)).toBeUndefined();
    expect(store.latest(0, 0, 12)?.state[0]).toBe(1200);
    expect(store.latest(0, 0, 20)?.state[0]).toBe(1300);
  });

  it('latest returns the newest checkpoint in [lo, hi] and undefined when none is', () => {
    const store = new CheckpointStore(1, 1, 1024);
    for (const n of [3, 7, 11]) store.save(0, n, Float64Array.of(n), 0, 1);
    expect(store.latest(0, 0, 10)?.n).toBe(7);
    expect(store.latest(0, 0, 10)?.state[0]).toBe(7);
    expect(store.latest(0, 8, 10)).toBeUndefined();
    store.dropFrom(7);
    expect(store.latest(0, 0, 20)?.n).toBe(3);
  });
});
