/**
 * Codec benchmark: `npx tsx src/tsdb/chunkenc/chunkenc.bench.ts` (env BENCH_SAMPLES = samples per series,
 * default one day of 15 s ticks). Prints a table per workload and chunk size, then one JSON line with the
 * codec keys of issue 3's `bench:store` output (the store benchmark reuses measureCodec for those).
 */

import { DEFAULT_CHUNK_SAMPLES, measureCodec, type CodecMeasurement } from './measure.js';
import { randomWalk, syntheticFleet } from './workloads.js';

const samples = Number(process.env.BENCH_SAMPLES ?? 5760);
const fleet = syntheticFleet({ samples });
const jittered = syntheticFleet({ samples, jitterMs: 25, seed: 7 });
const walk = randomWalk({ samples, series: 100 });

const f = (x: number, d = 3): string => x.toFixed(d).padStart(8);
const rows: string[] = [];
const header = `${'workload'.padEnd(28)}${'chunk'.padStart(6)}${'ours B/s'.padStart(10)}${'gorilla'.padStart(10)}${'ratio'.padStart(8)}${'dec%'.padStart(7)}${'enc M/s'.padStart(9)}${'dec M/s'.padStart(9)}${'xor enc'.padStart(9)}${'xor dec'.padStart(9)}${'db B/s'.padStart(9)}${'db err%'.padStart(9)}`;
function row(name: string, size: number, m: CodecMeasurement): void {
  rows.push(
    `${name.padEnd(28)}${String(size).padStart(6)}${f(m.bytesPerSample).padStart(10)}${f(m.gorillaBytesPerSample).padStart(10)}` +
      `${f(m.bytesPerSample / m.gorillaBytesPerSample, 2).padStart(8)}${f(m.decimalChunkShare * 100, 0).padStart(7)}` +
      `${f(m.encodeMsamplesPerS, 2).padStart(9)}${f(m.decodeMsamplesPerS, 2).padStart(9)}` +
      `${f(m.gorillaEncodeMsamplesPerS, 2).padStart(9)}${f(m.gorillaDecodeMsamplesPerS, 2).padStart(9)}` +
      `${f(m.deadband?.bytesPerSample ?? NaN).padStart(9)}${f(m.deadband?.maxErrorPct ?? NaN, 2).padStart(9)}`,
  );
}

let main: CodecMeasurement | undefined;
for (const size of [120, 240, DEFAULT_CHUNK_SAMPLES]) {
  const m = measureCodec(fleet, { chunkSamples: size });
  if (size === DEFAULT_CHUNK_SAMPLES) main = m;
  row(`fleet ${fleet.length} series`, size, m);
}
row(
  'fleet, 0-25 ms scrape jitter',
  DEFAULT_CHUNK_SAMPLES,
  measureCodec(jittered, { chunkSamples: DEFAULT_CHUNK_SAMPLES }),
);
const float = measureCodec(walk, { chunkSamples: DEFAULT_CHUNK_SAMPLES, deadbandPct: 0 });
row('full-precision random walk', DEFAULT_CHUNK_SAMPLES, float);

console.log(`codec benchmark: ${samples} samples per series; throughput in million samples per CPU second`);
console.log(header);
for (const r of rows) console.log(r);
if (main === undefined) throw new Error('default chunk size not measured');
console.log(
  JSON.stringify({
    bytes_per_sample: +main.bytesPerSample.toFixed(4),
    gorilla_bytes_per_sample: +main.gorillaBytesPerSample.toFixed(4),
    float_bytes_per_sample: +float.bytesPerSample.toFixed(4),
    float_gorilla_bytes_per_sample: +float.gorillaBytesPerSample.toFixed(4),
    deadband_bytes_per_sample: +(main.deadband?.bytesPerSample ?? NaN).toFixed(4),
    deadband_max_error_pct: +(main.deadband?.maxErrorPct ?? NaN).toFixed(3),
    encode_msamples_s: +main.encodeMsamplesPerS.toFixed(3),
    decode_msamples_s: +main.decodeMsamplesPerS.toFixed(3),
  }),
);
