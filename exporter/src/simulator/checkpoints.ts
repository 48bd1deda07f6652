/**
 * Saved server states on the grid, so that reaching an arbitrary past instant replays at most one
 * checkpoint interval instead of everything since the server booted. States are pure functions of
 * (seed, fleet, scenarios, index), so any stepper may use a checkpoint any other stepper saved.
 */

/** CHECKPOINT_INTERVAL_MS is the spacing of checkpoints: hourly (240 steps of 15 s). */
export const CHECKPOINT_INTERVAL_MS = 3_600_000;

/**
 * DEFAULT_CHECKPOINT_BUDGET_BYTES bounds the memory all checkpoints of a fleet may use (1 MiB: ~20 hours of
 * hourly states at 20 servers; the exporter targets 80 MB RSS). The exporter itself only goes back to the
 * newest one (a scenario injected or stopped now); older states serve random access to the past, which its
 * queries do not need (they read the TSDB), so they are evicted first.
 */
export const DEFAULT_CHECKPOINT_BUDGET_BYTES = 1024 * 1024;

/** MIN_CHECKPOINTS_PER_SERVER keeps a few even for huge fleets (live ticks plus one recent past). */
const MIN_CHECKPOINTS_PER_SERVER = 2;

/** CheckpointStore keeps, per server, the states at some grid indexes (one per CHECKPOINT_INTERVAL_MS). */
export class CheckpointStore {
  private readonly indexes: number[][];
  private readonly states: Map<number, Float64Array>[];
  private readonly perServer: number;

  /**
   * `stateDoubles` is one server's state size; `budgetBytes` bounds the states of all `servers` together, so
   * each server keeps budgetBytes / (servers × 8 × stateDoubles) checkpoints (at least
   * MIN_CHECKPOINTS_PER_SERVER).
   */
  constructor(servers: number, stateDoubles: number, budgetBytes: number) {
    this.indexes = Array.from({ length: servers }, () => []);
    this.states = Array.from({ length: servers }, () => new Map<number, Float64Array>());
    const per = Math.floor(budgetBytes / (8 * Math.max(1, stateDoubles) * Math.max(1, servers)));
    this.perServer = Math.max(MIN_CHECKPOINTS_PER_SERVER, per);
  }

  /**
   * save stores a copy of `state[from, from + size)` as server i's state at grid index n. A full server evicts
   * its oldest checkpoint (recent history is what live ticks, restarts and dashboards revisit) and copies into
   * that array, so a long replay leaves no evicted arrays behind for the GC.
   */
  save(i: number, n: number, state: Float64Array, from: number, size: number): void {
    const map = this.states[i];
    const idx = this.indexes[i];
    if (!map || !idx || map.has(n)) return;
    // Keep indexes sorted; saves come nearly always in increasing order.
    let k = idx.length;
    while (k > 0 && (idx[k - 1] ?? 0) > n) k--;
    let copy: Float64Array | undefined;
    if (idx.length >= this.perServer) {
      if (k === 0) return; // older than everything kept: it would be the one evicted
      const old = idx.shift() ?? n;
      copy = map.get(old);
      map.delete(old);
      k--;
    }
    if (copy?.length === size) copy.set(state.subarray(from, from + size));
    else copy = state.slice(from, from + size);
    map.set(n, copy);
    idx.splice(k, 0, n);
  }

  /** latest returns server i's checkpoint with the largest index in [lo, hi], or undefined. */
  latest(i: number, lo: number, hi: number): { n: number; state: Float64Array } | undefined {
    const idx = this.indexes[i];
    const map = this.states[i];
    if (!idx || !map) return undefined;
    for (let k = idx.length - 1; k >= 0; k--) {
      const n = idx[k] ?? -1;
      if (n > hi) continue;
      if (n < lo) return undefined;
      const state = map.get(n);
      return state ? { n, state } : undefined;
    }
    return undefined;
  }

  /** dropFrom forgets every checkpoint at grid index ≥ n (its inputs changed). */
  dropFrom(n: number): void {
    this.indexes.forEach((idx, i) => {
      const map = this.states[i];
      while (idx.length > 0 && (idx[idx.length - 1] ?? 0) >= n) {
        const k = idx.pop();
        if (k !== undefined) map?.delete(k);
      }
    });
  }
}
