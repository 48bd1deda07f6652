/**
 * Ingest: simulator frames into the store — the one place that joins the simulator and the TSDB (neither
 * imports the other). The fleet's layout is fixed, so the Ingestor keeps one series
 * ref per layout series and appends by ref (no label hashing per tick). A server that goes down gets one
 * Prometheus stale marker per series, once per outage, so queries stop returning it right away instead of
 * after the 5 min lookback. `backfill` generates history (default 7 d) through a bulk appender, resuming
 * after `storage.lastTimestamp()` when a previous run got that far, and reports progress through a callback
 * (drawing a progress bar is the app's business).
 */
import { SCENARIO_ACTIVE_FAMILY } from '../simulator/layout.js';
import { serverMetaLabels, serverMetaValues } from '../simulator/server-meta.js';
import type { FleetFrame, FleetLayout } from '../simulator/types.js';
import type { Appender, AppendResult, Storage } from '../tsdb/storage.js';
import type { Labels } from '../util/labels.js';
import { STALE_NAN } from '../util/stale-marker.js';
import { nextTurn } from '../util/pacer.js';

/** DEFAULT_BACKFILL_MS is how much history a first start generates: 7 days (the raw retention). */
export const DEFAULT_BACKFILL_MS = 7 * 86_400_000;

/**
 * FRAMES_PER_COMMIT batches backfill frames into one commit: 40 frames (10 min of 15 s ticks, ~80 k samples
 * for the 20-server fleet) amortise commit overhead while keeping the event loop responsive between them.
 */
const FRAMES_PER_COMMIT = 40;

/** Ingestor turns frames into appends; one per layout (it caches series refs). */
export class Ingestor {
  private readonly refs: Float64Array;
  private readonly down: Uint8Array;
  /** truth[k] is 1 for a ground-truth series (scenario activity): stored for a server that is down too. */
  private readonly truth: Uint8Array;
  /** metaRefs[server * 2 + m] is the ref of a server's meta series m (up, info); metaLabels their labels. */
  private readonly metaRefs: Float64Array;
  private readonly metaLabels: (readonly [Labels, Labels])[];
  /** kept[k] is 1 when layout series k is written; keptMeta[server * 2 + m] likewise for meta series. */
  private readonly kept: Uint8Array;
  private readonly keptMeta: Uint8Array;

  /**
   * `keep`, when given, selects the series to write by their labels (decided once here, not per frame): a
   * reader that needs only some families (the coverage run's rules) spares the store the rest.
   */
  constructor(
    private readonly storage: Storage,
    readonly layout: FleetLayout,
    keep: (labels: Labels) => boolean = () => true,
  ) {
    this.refs = new Float64Array(layout.series.length);
    this.down = new Uint8Array(layout.servers.length);
    const truthFamily = layout.families.findIndex((f) => f.name === SCENARIO_ACTIVE_FAMILY);
    this.truth = Uint8Array.from(layout.series, (d) => (d.family === truthFamily ? 1 : 0));
    this.metaRefs = new Float64Array(layout.servers.length * 2);
    this.metaLabels = layout.servers.map(serverMetaLabels);
    this.kept = Uint8Array.from(layout.series, (d) => (keep(d.labels) ? 1 : 0));
    this.keptMeta = Uint8Array.from(this.metaLabels.flat(), (l) => (keep(l) ? 1 : 0));
  }

  /** ingest appends one live frame and commits it; resolves when the samples are acknowledged. */
  ingest(frame: FleetFrame): Promise<AppendResult> {
    const app = this.storage.appender();
    this.appendFrame(app, frame);
    return app.commit();
  }

  /**
   * appendFrame adds one frame's samples to `app` (no commit): every kept series of every up server, a stale
   * marker for each series of a server that just went down, and every server's up and info series and
   * scenario ground truth (a down server's included: its server_down is ground truth too).
   */
  appendFrame(app: Appender, frame: FleetFrame): number {
    const { series, serverSeries } = this.layout;
    const refs = this.refs;
    const values = frame.values;
    const t = frame.t;
    let n = 0;
    for (let s = 0; s < serverSeries.length; s++) {
      const range = serverSeries[s];
      if (!range) continue;
      const up = frame.summaries[s]?.up !== false;
      const meta = serverMetaValues(frame.summaries[s]);
      for (let m = 0; m < 2; m++) {
        const labels = this.metaLabels[s]?.[m];
        if (!labels || this.keptMeta[s * 2 + m] === 0) continue;
        this.metaRefs[s * 2 + m] = app.append(this.metaRefs[s * 2 + m] ?? 0, labels, t, meta[m] ?? 0);
        n++;
      }
      const wasDown = this.down[s] === 1;
      this.down[s] = up ? 0 : 1;
      for (let k = range[0]; k < range[1]; k++) {
        const desc = series[k];
        const truth = this.truth[k] === 1;
        if (!desc || this.kept[k] === 0 || (!up && wasDown && !truth)) continue;
        refs[k] = app.append(refs[k] ?? 0, desc.labels, t, up || truth ? (values[k] ?? NaN) : STALE_NAN);
        n++;
      }
    }
    return n;
  }
}

/** seriesPerFrame is how many series one frame of `layout` writes: the model's plus each server's up and info. */
export function seriesPerFrame(layout: FleetLayout): number {
  return layout.series.length + 2 * layout.servers.length;
}

/** FrameSource is what backfill needs from the simulator's Fleet. */
export interface FrameSource {
  readonly layout: FleetLayout;
  frames(from: number, to: number, stepMs: number, opts?: { reuse?: boolean }): Iterable<FleetFrame>;
  /** prepare, when the source has it, brings it up to `t` in turns before frames() starts there. */
  prepare?(t: number, turn: () => Promise<void>): Promise<void>;
}

/** BackfillProgress is reported after every commit. */
export interface BackfillProgress {
  /** from/to/t are the range and the newest frame written (ms). */
  readonly from: number;
  readonly to: number;
  readonly t: number;
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly samples: number;
  readonly elapsedMs: number;
}

/** BackfillOptions configures backfill. */
export interface BackfillOptions {
  readonly from: number;
  readonly to: number;
  readonly stepMs: number;
  readonly onProgress?: (p: BackfillProgress) => void;
  readonly signal?: AbortSignal;
}

/** BackfillResult says what backfill did. */
export interface BackfillResult {
  /** resumedFrom is where writing started (after lastTimestamp), or undefined when nothing was left to do. */
  readonly resumedFrom: number | undefined;
  readonly frames: number;
  readonly samples: number;
  readonly rejected: number;
  readonly elapsedMs: number;
}

/**
 * backfill writes the fleet's frames at from, from + step, … ≤ to into `storage` with a bulk appender,
 * starting after the store's newest sample when it already reaches into the range, then flushes.
 */
export async function backfill(
  fleet: FrameSource,
  storage: Storage,
  opts: BackfillOptions,
): Promise<BackfillResult> {
  const started = performance.now();
  const { from, to, stepMs } = opts;
  const last = await storage.lastTimestamp();
  let start = from;
  if (last !== undefined && last >= from) start = from + (Math.floor((last - from) / stepMs) + 1) * stepMs;
  if (start > to) return { resumedFrom: undefined, frames: 0, samples: 0, rejected: 0, elapsedMs: 0 };
  const framesTotal = Math.floor((to - start) / stepMs) + 1;
  const ingestor = new Ingestor(storage, fleet.layout);
  const app = storage.appender({ bulk: true });
  let frames = 0;
  let samples = 0;
  let rejected = 0;
  let lastT = start;
  const commit = async () => {
    const r = await app.commit();
    samples += r.appended;
    rejected += r.outOfOrder + r.duplicate;
    opts.onProgress?.({
      from: start,
      to,
      t: lastT,
      framesDone: frames,
      framesTotal,
      samples,
      elapsedMs: performance.now() - started,
    });
    await nextTurn();
  };
  // The simulator's first frame would otherwise replay from every server's last boot in one go.
  await fleet.prepare?.(start, () => nextTurn());
  for (const frame of fleet.frames(start, to, stepMs, { reuse: true })) {
    ingestor.appendFrame(app, frame);
    lastT = frame.t;
    frames++;
    if (frames % FRAMES_PER_COMMIT === 0) {
      await commit();
      if (opts.signal?.aborted) break;
    }
  }
  if (frames % FRAMES_PER_COMMIT !== 0) await commit();
  await storage.flush?.();
  return { resumedFrom: start, frames, samples, rejected, elapsedMs: performance.now() - started };
}
