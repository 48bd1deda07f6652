/**
 * HeadQuerier is the Querier every backend can reuse: the shared Head answers matchers and the open samples,
 * a backend-specific ChunkReader supplies the stored chunks. Raw reads merge stored chunks with the open
 * chunk (they never overlap: the head cuts before it starts a new chunk); tier reads do the same with
 * rollup chunks and the head's pending/open buckets, returning the `hints.aggregate` value of each bucket
 * stamped with the bucket start.
 */
import type { Labels } from '../util/labels.js';
import type { Chunk } from './chunkenc/chunk.js';
import type { Matcher, Querier, SelectHints, SeriesData } from './storage.js';
import { TsdbError } from './errors.js';
import type { Head } from './head.js';
import { AGG_INDEX, type RollupChunk, type RollupTier } from './rollup.js';
import { Pacer } from '../util/pacer.js';
import { SampleBuffer } from './sample-buffer.js';

/** StoredChunk is a raw chunk outside the head with its time range. */
export interface StoredChunk {
  readonly minT: number;
  readonly maxT: number;
  readonly chunk: Chunk;
}

/** ChunkReader is what a backend provides to HeadQuerier: its stored (cut) chunks. */
export interface ChunkReader {
  /**
   * rawChunks returns the stored raw chunks of `ref` overlapping [mint, maxt], oldest first: those stored
   * when it is called (a promise's bytes may arrive later, but which chunks is settled synchronously).
   */
  rawChunks(
    ref: number,
    mint: number,
    maxt: number,
  ): Promise<readonly StoredChunk[]> | readonly StoredChunk[];
  /** rollupChunks returns the stored rollup chunks of `ref` and `tier` overlapping [mint, maxt], oldest first. */
  rollupChunks(
    ref: number,
    tier: RollupTier,
    mint: number,
    maxt: number,
  ): Promise<readonly RollupChunk[]> | readonly RollupChunk[];
  /** minTime returns the oldest timestamp the backend stores for `ref` in any tier (Infinity: none). */
  minTime(ref: number): number;
}

/** readChunkInto appends the samples of `chunk` in [mint, maxt] to `out`, throwing on corrupt bytes. */
export function readChunkInto(chunk: Chunk, mint: number, maxt: number, out: SampleBuffer): void {
  const it = chunk.iterator();
  if (it.seek(mint)) {
    do {
      const t = it.at();
      if (t > maxt) break;
      out.push(t, it.value());
    } while (it.next());
  }
  const err = it.err();
  if (err) throw new TsdbError('TSDB_CORRUPT', `corrupt chunk: ${err.message}`, { cause: err });
}

/** tooManySamples is the error of a select past its sample limit. */
function tooManySamples(limit: number): TsdbError {
  return new TsdbError(
    'TSDB_TOO_MANY_SAMPLES',
    `select would return more than ${limit} samples; narrow the selector or the time range`,
  );
}

/**
 * PACE_WORK is how much a scan reads between two looks at its pacer, counted in samples, a series counting
 * SERIES_WORK besides its samples: so every 16 series the head holds (about a microsecond each), or every
 * ~2,000 samples decoded from stored chunks — a series with a day of them decodes ~6,000 samples (~5 ms), and
 * looking only every 16 series held the loop for 80 ms (a rule's [1d] window at 20 servers).
 */
const PACE_WORK = 2_048;
const SERIES_WORK = PACE_WORK / 16;

/** NO_CHUNKS is the stored chunks of a window the head holds entirely. */
const NO_CHUNKS: readonly StoredChunk[] = [];

/**
 * spareBuffers are the sample buffers of finished scans, for the next scans: a rule group runs dozens of
 * small selects every interval, and two fresh buffers each were most of a small select's allocation. Only
 * buffers of at most MAX_SPARE_SAMPLES are kept (a week's read must not stay allocated), MAX_SPARES of them.
 * Emitted buffers are views valid during the callback only, so a finished scan's buffers are free.
 */
const spareBuffers: SampleBuffer[] = [];
const MAX_SPARES = 8;
const MAX_SPARE_SAMPLES = 4_096;

function takeBuffer(): SampleBuffer {
  const b = spareBuffers.pop() ?? new SampleBuffer(256);
  b.clear();
  return b;
}

function giveBack(b: SampleBuffer): void {
  if (b.ts.length <= MAX_SPARE_SAMPLES && spareBuffers.length < MAX_SPARES) spareBuffers.push(b);
}

/** HeadQuerier reads the window [mint, maxt] through a Head and a ChunkReader. */
export class HeadQuerier implements Querier {
  constructor(
    private readonly head: Head,
    private readonly reader: ChunkReader,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  /** historyGeneration is the head's (Head.historyGeneration): HeadQuerier honours SelectHints.from. */
  get historyGeneration(): number {
    return this.head.historyGeneration;
  }

  async select(matchers: readonly Matcher[], hints?: SelectHints): Promise<SeriesData[]> {
    const out: SeriesData[] = [];
    await this.scan(matchers, hints, (labels, buf) => out.push(buf.toSeriesData(labels)));
    return out;
  }

  selectEach(
    matchers: readonly Matcher[],
    hints: SelectHints | undefined,
    visit: (labels: Labels, ts: Float64Array, vs: Float64Array, n: number) => void,
  ): Promise<void> {
    return this.scan(matchers, hints, (labels, buf) => visit(labels, buf.ts, buf.vs, buf.n));
  }

  /** scan hands every matching series with samples in the window to `emit`, in a reused buffer. */
  private async scan(
    matchers: readonly Matcher[],
    hints: SelectHints | undefined,
    emit: (labels: Labels, buf: SampleBuffer) => void,
  ): Promise<void> {
    const mint = Math.max(this.mint, hints?.start ?? -Infinity);
    const maxt = Math.min(this.maxt, hints?.end ?? Infinity);
    const tier = hints?.tier ?? 'raw';
    let agg = 0;
    if (tier !== 'raw') {
      if (!hints?.aggregate) {
        throw new TsdbError(
          'TSDB_BAD_HINTS',
          `a read of tier ${tier} needs hints.aggregate (min, max, sum, count, last, increase)`,
        );
      }
      agg = AGG_INDEX[hints.aggregate];
    }
    if (mint > maxt) return;
    const buf = takeBuffer();
    const fromHead = takeBuffer();
    const from = tier === 'raw' ? hints?.from : undefined;
    const newest = tier === 'raw' && hints?.newest === true;
    try {
      const limit = hints?.maxSamples ?? Infinity;
      const deadline = hints?.deadline ?? Infinity;
      const pacer = new Pacer();
      let total = 0;
      const checkDeadline = (): void => {
        if (performance.now() > deadline)
          throw new TsdbError('TSDB_ABORTED', "select ran past its caller's deadline");
      };
      checkDeadline();
      let work = 0;
      for (const ref of this.head.index.select(matchers)) {
        // A read of many series decodes for a long time: give the loop a turn and honour the caller's deadline
        // (looking at the clock after every PACE_WORK of reading).
        if (work >= PACE_WORK) {
          work = 0;
          if (pacer.due()) {
            await pacer.yield();
            checkDeadline();
          }
        }
        work += SERIES_WORK;
        // The series' head state answers its labels (the index's object) and its open samples in one lookup
        // (a rule group selects thousands of series every interval).
        const s = this.head.memSeries(ref);
        if (!s) continue;
        const labels = s.labels;
        buf.clear();
        fromHead.clear();
        // Which chunks are stored and what the head holds are taken in one synchronous step, before awaiting
        // the stored bytes: a chunk the head hands its sink meanwhile (a cut, or a deferred encode landing)
        // is then read exactly once.
        // Stored chunks are awaited only when the backend returns a promise (the in-memory one does not):
        // awaiting a plain value still costs a turn of the microtask queue per series.
        let out = buf;
        if (tier === 'raw') {
          // A caller holding a series' older samples asks for the rest only (SelectHints.from); one that
          // wants the newest sample only gets it alone when the window reaches the series' newest.
          const last = s.lastT;
          let lo = from ? Math.max(mint, from(labels)) : mint;
          if (last < lo) continue;
          if (newest && last <= maxt) lo = last;
          // The usual read, a recent window of a series the head holds back to it, in one call.
          if (s.cuts === undefined && s.open.readRecent(lo, maxt, fromHead)) {
            total += fromHead.n;
            if (total > limit) throw tooManySamples(limit);
            if (fromHead.n > 0) emit(labels, fromHead);
            continue;
          }
          // Stored chunks all precede what the head holds: when that reaches back to lo, none is in the window.
          const pending = s.openMinTime() <= lo ? NO_CHUNKS : this.reader.rawChunks(ref, lo, maxt);
          s.readRaw(lo, maxt, fromHead);
          const stored = pending instanceof Promise ? await pending : pending;
          for (const c of stored) {
            const r = this.head.decodedChunks.read(ref, c, lo, maxt);
            buf.appendRange(r.ts, r.vs, r.lo, r.hi);
          }
          // Samples only in the head (recent windows, the usual read) go out without another copy.
          if (stored.length === 0) out = fromHead;
        } else {
          const pending = this.reader.rollupChunks(ref, tier, mint, maxt);
          s.readRollup(tier, agg, mint, maxt, fromHead);
          for (const rc of pending instanceof Promise ? await pending : pending) {
            const c = rc.chunks[agg];
            if (c) readChunkInto(c, mint, maxt, buf);
          }
        }
        if (out === buf) buf.appendFrom(fromHead);
        work += out.n;
        total += out.n;
        if (total > limit) throw tooManySamples(limit);
        if (out.n > 0) emit(labels, out);
      }
    } finally {
      giveBack(buf);
      giveBack(fromHead);
    }
  }

  /** refsInWindow returns the matching refs whose data overlaps the querier's window. */
  private refsInWindow(matchers: readonly Matcher[] | undefined): number[] {
    const refs = matchers && matchers.length > 0 ? this.head.index.select(matchers) : [...this.head.refs()];
    return refs.filter((ref) => {
      const minT = Math.min(this.reader.minTime(ref), this.head.openMinTime(ref));
      return minT <= this.maxt && this.head.lastTime(ref) >= this.mint;
    });
  }

  series(matchers: readonly Matcher[]): Promise<Labels[]> {
    const out: Labels[] = [];
    for (const ref of this.refsInWindow(matchers)) {
      const l = this.head.index.labels(ref);
      if (l) out.push(l);
    }
    return Promise.resolve(out);
  }

  labelNames(matchers?: readonly Matcher[]): Promise<string[]> {
    return Promise.resolve(this.head.index.labelNames(this.refsInWindow(matchers)));
  }

  labelValues(name: string, matchers?: readonly Matcher[]): Promise<string[]> {
    return Promise.resolve(this.head.index.labelValues(name, this.refsInWindow(matchers)));
  }
}
