/**
 * A chunk the head has cut but not yet handed to its sink: its encoding is in flight on the encoder, or it waits
 * behind one that is. Reads see its samples through the series that owns it until the sink has it.
 */
import type { Chunk } from './chunkenc/chunk.js';
import type { SampleBuffer } from './sample-buffer.js';

/** RAW_TIER is Cut.tier for a raw chunk; rollup cuts hold their index in ROLLUP_TIERS. */
export const RAW_TIER = -1;

/** CutOwner is what owns cuts: a series, whose reads include them until they are delivered. */
export interface CutOwner {
  readonly ref: number;
  /** cuts are the owner's cuts not yet in the sink, oldest first (undefined: none, the usual case). */
  cuts: Cut[] | undefined;
}

/**
 * Batch collects the samples of deferred cuts as encode-batch.ts lays them out, in memory shared with the
 * encoder (nothing writes it after dispatch, so both sides read it without a copy).
 */
export interface Batch {
  readonly data: Float64Array;
  len: number;
  readonly cuts: Cut[];
  /** undelivered counts the batch's cuts not yet in the sink; at 0 its buffer can be reused. */
  undelivered: number;
}

/** Cut is one cut chunk: `n` timestamps at src.data[off] followed by `k` value columns of `n`. */
export interface Cut {
  readonly owner: CutOwner;
  /** tier is RAW_TIER or an index in ROLLUP_TIERS. */
  readonly tier: number;
  readonly minT: number;
  readonly maxT: number;
  readonly src: { readonly data: Float64Array };
  /** batch is the deferred batch holding the samples (undefined for a cut encoded at once). */
  readonly batch: Batch | undefined;
  readonly off: number;
  readonly n: number;
  readonly k: number;
  /** chunks are the encoded columns, once encoded. */
  chunks: Chunk[] | undefined;
}

/** readCut appends column `col` of a cut's samples with timestamps in [mint, maxt] to `out`. */
export function readCut(c: Cut, col: number, mint: number, maxt: number, out: SampleBuffer): void {
  if (c.maxT < mint || c.minT > maxt) return;
  const d = c.src.data;
  const vo = c.off + (1 + col) * c.n;
  for (let i = 0; i < c.n; i++) {
    const t = d[c.off + i] ?? 0;
    if (t < mint) continue;
    if (t > maxt) break;
    out.push(t, d[vo + i] ?? 0);
  }
}
