/**
 * measureCodec: the codec figures the store benchmark reports (issue 3, requirement 12) — bytes per sample of
 * our lossless builder against Gorilla/Prometheus XOR on the same chunk boundaries, the lossy deadband mode's
 * size and largest error, and encode/decode throughput. Throughput is measured in process CPU time, so a
 * busy machine slows the clock less than it slows wall time.
 */

import { LosslessChunkBuilder } from './builder.js';
import { type Chunk, Encoding } from './chunk.js';
import { DeadbandChunkBuilder } from './deadband.js';
import { decodeChunk } from './decode.js';
import type { SeriesSamples } from './workloads.js';

/** DEFAULT_CHUNK_SAMPLES matches the head's cut: 480 samples = 2 h of 15 s ticks (Prometheus's chunk range). */
export const DEFAULT_CHUNK_SAMPLES = 480;

/** MeasureOptions tunes measureCodec. */
export interface MeasureOptions {
  /** chunkSamples cuts each series into chunks of this many samples (the head's cut size). */
  chunkSamples?: number;
  /** deadbandPct is the lossy mode's threshold; 0 skips the deadband measurement. Default: the seed's 5 %. */
  deadbandPct?: number;
}

/** CodecMeasurement is what measureCodec reports. */
export interface CodecMeasurement {
  samples: number;
  chunks: number;
  /** bytesPerSample: our lossless builder (all chunk bytes, headers included). */
  bytesPerSample: number;
  /** gorillaBytesPerSample: XOR only, the same chunks. */
  gorillaBytesPerSample: number;
  /** decimalChunkShare: fraction of chunks the builder encoded as Decimal (the rest XOR). */
  decimalChunkShare: number;
  /** encodeMsamplesPerS: builder append + finish, million samples per CPU second. */
  encodeMsamplesPerS: number;
  /** decodeMsamplesPerS: decodeChunk + full iteration. */
  decodeMsamplesPerS: number;
  gorillaEncodeMsamplesPerS: number;
  gorillaDecodeMsamplesPerS: number;
  /** deadband: size per original sample, the largest relative error (%) it introduced, the kept share. */
  deadband?: { thresholdPct: number; bytesPerSample: number; maxErrorPct: number; keptShare: number };
}

/** cpuMs returns this process's user + system CPU time in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** encodeAll cuts every series into chunks of `size` samples with builders from `make`. */
function encodeAll(
  series: readonly SeriesSamples[],
  size: number,
  make: () => LosslessChunkBuilder,
): Chunk[] {
  const out: Chunk[] = [];
  const b = make();
  for (const s of series) {
    const n = s.ts.length;
    for (let from = 0; from < n; from += size) {
      b.reset();
      const to = Math.min(n, from + size);
      for (let i = from; i < to; i++) b.append(s.ts[i] ?? 0, s.vs[i] ?? 0);
      out.push(b.finish());
    }
  }
  return out;
}

/** decodeAll iterates every sample of every chunk; returns a checksum so the work cannot be optimised away. */
function decodeAll(chunks: readonly Chunk[]): number {
  let sum = 0;
  for (const c of chunks) {
    const it = decodeChunk(c.bytes()).iterator();
    while (it.next()) sum += it.at();
  }
  return sum;
}

/** totalBytes sums the chunks' sizes. */
function totalBytes(chunks: readonly Chunk[]): number {
  let n = 0;
  for (const c of chunks) n += c.bytes().length;
  return n;
}

/** timed runs f and returns its result with the CPU ms it took. */
function timed<T>(f: () => T): { r: T; ms: number } {
  const t = cpuMs();
  const r = f();
  return { r, ms: Math.max(1e-3, cpuMs() - t) };
}

/** measureCodec encodes the series in chunks both ways, decodes them, and reports sizes and speeds. */
export function measureCodec(series: readonly SeriesSamples[], opts: MeasureOptions = {}): CodecMeasurement {
  const size = opts.chunkSamples ?? DEFAULT_CHUNK_SAMPLES;
  const samples = series.reduce((a, s) => a + s.ts.length, 0);
  const msps = (ms: number): number => samples / ms / 1000;

  // Warm up the JIT on a slice so the first measured pass is not the interpreter's.
  const warm = series.slice(0, Math.min(series.length, 20));
  decodeAll(encodeAll(warm, size, () => new LosslessChunkBuilder()));
  decodeAll(encodeAll(warm, size, () => new LosslessChunkBuilder({ encodings: [Encoding.XOR] })));

  const ours = timed(() => encodeAll(series, size, () => new LosslessChunkBuilder()));
  const oursDec = timed(() => decodeAll(ours.r));
  const xor = timed(() =>
    encodeAll(series, size, () => new LosslessChunkBuilder({ encodings: [Encoding.XOR] })),
  );
  const xorDec = timed(() => decodeAll(xor.r));
  if (oursDec.r !== xorDec.r) throw new Error('codec self-check failed: the encodings decode differently');

  const result: CodecMeasurement = {
    samples,
    chunks: ours.r.length,
    bytesPerSample: totalBytes(ours.r) / samples,
    gorillaBytesPerSample: totalBytes(xor.r) / samples,
    decimalChunkShare:
      ours.r.filter((c) => c.encoding === Encoding.Decimal).length / Math.max(1, ours.r.length),
    encodeMsamplesPerS: msps(ours.ms),
    decodeMsamplesPerS: msps(oursDec.ms),
    gorillaEncodeMsamplesPerS: msps(xor.ms),
    gorillaDecodeMsamplesPerS: msps(xorDec.ms),
  };

  const pct = opts.deadbandPct ?? 5;
  if (pct > 0) {
    let bytes = 0;
    let kept = 0;
    let maxErr = 0;
    for (const s of series) {
      const b = new DeadbandChunkBuilder({ thresholdPct: pct });
      const n = s.ts.length;
      for (let from = 0; from < n; from += size) {
        b.reset();
        const to = Math.min(n, from + size);
        for (let i = from; i < to; i++) b.append(s.ts[i] ?? 0, s.vs[i] ?? 0);
        const c = b.finish();
        bytes += c.bytes().length;
        kept += c.numSamples();
      }
      maxErr = Math.max(maxErr, b.maxErrorPct());
    }
    result.deadband = {
      thresholdPct: pct,
      bytesPerSample: bytes / samples,
      maxErrorPct: maxErr,
      keptShare: kept / samples,
    };
  }
  return result;
}
