/**
 * bench:remote-write — the remote-write receiver's snappy decoding, before and after: snappyjs (the pure-JS
 * decoder the receiver used, unbounded output and a signed-length bug) against the native napi-rs `snappy`
 * package behind our header check (snappy-block.ts), on valid and on hostile bodies.
 *
 * Valid bodies are WriteRequests as Prometheus 2.42 sends them (max_samples_per_send = 2,000): 2,000 samples
 * over 500 node_exporter-like series, the same over 2,000 series (one sample each, the usual shape), and a
 * 20,000-sample agent batch at the receiver's sample cap. Throughput is decoded (uncompressed) MB per second
 * at the median per-body time. The receiver row is the whole decode: snappy + protobuf walk + validation.
 *
 * Hostile bodies: random bytes, random elements behind a plausible header, mutated and truncated valid
 * bodies, headers declaring huge lengths, the negative-literal trick (a literal whose 4-byte length snappyjs
 * reads as negative, so its position walks backwards: −5 loops forever, −2^31 walks 2^31 bytes), and long
 * back-references (the most expansive block the format allows, and the same after a header declaring 1 byte).
 *
 * snappyjs runs in a worker thread (time measured inside it) that is terminated when one body exceeds
 * SNAPPYJS_TIMEOUT_MS: it can hang for good. A hostile body's time is its fastest of HOSTILE_REPEATS runs. snappyjs gets the old receiver's cap (64 MiB), the native
 * decoder the current one (DEFAULT_MAX_DECODED_BYTES). Native times are wall time per body on the main
 * thread, awaiting the thread-pool decode.
 *
 * Also the receiver on large bodies: its time, the longest event-loop block while it decodes (it pauses every
 * 10 ms) and its peak heap growth, for the 20,000-sample batch and for the costliest body it accepts
 * (DEFAULT_MAX_DECODED_BYTES of long label values) — the figures DEFAULT_MAX_DECODED_BYTES was chosen by.
 *
 * Output: tables, then as the last line one JSON object: valid_mb_s_* (2,000 samples / 500 series body),
 * receiver_max_loop_block_ms and receiver_heap_mib_at_cap, hostile_max_ms_* (the slowest single hostile body;
 * a timed-out one counts as SNAPPYJS_TIMEOUT_MS) and the number of snappyjs timeouts.
 */
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { compressSync, uncompress, uncompressSync } from 'snappy';
import { DEFAULT_MAX_DECODED_BYTES, decodeRemoteWriteBody } from '../src/api/remote-write.js';
import { encodeWriteRequest } from '../src/api/remote-write-proto.js';
import type { WriteRequestInput } from '../src/api/remote-write-proto.js';
import { uncompressSnappyBlock } from '../src/api/snappy-block.js';
import { varint } from '../test/varint.js';
import { mulberry32 } from '../src/util/prng.js';

/** SNAPPYJS_TIMEOUT_MS is the hard per-body bound on snappyjs; the old receiver had none. */
const SNAPPYJS_TIMEOUT_MS = Number(process.env.BENCH_RW_TIMEOUT_MS ?? 3000);
/** OLD_MAX_DECODED_BYTES is the cap the old receiver passed to snappyjs (its DEFAULT_MAX_DECODED_BYTES). */
const OLD_MAX_DECODED_BYTES = 64 * 1024 * 1024;
/** HOSTILE_PER_KIND is how many bodies each generated hostile kind has. */
const HOSTILE_PER_KIND = Number(process.env.BENCH_RW_HOSTILE ?? 200);
/**
 * HOSTILE_REPEATS: each hostile body is decoded this many times and its fastest time kept, so a body's figure
 * is its own cost and not a pause of the machine (GC, another process); a timed-out body is not repeated.
 */
const HOSTILE_REPEATS = 3;
/** MIN_BENCH_MS: each valid body is decoded until this much time has passed (at least 5 times). */
const MIN_BENCH_MS = 1000;

const rand = mulberry32(2024);
const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));

/** prometheusBatch is a WriteRequest as Prometheus sends it: node_exporter-like series plus external labels. */
function prometheusBatch(series: number, perSeries: number): Uint8Array {
  const metrics = [
    'node_cpu_seconds_total',
    'node_memory_MemAvailable_bytes',
    'node_network_receive_bytes_total',
    'node_filesystem_avail_bytes',
    'node_disk_io_time_seconds_total',
    'node_load1',
  ];
  const modes = ['idle', 'user', 'system', 'iowait', 'irq', 'softirq', 'steal', 'nice'];
  const request: WriteRequestInput = {
    timeseries: Array.from({ length: series }, (_, i) => ({
      labels: [
        { name: '__name__', value: metrics[i % metrics.length]! },
        { name: 'cluster', value: 'prod-eu-west-1' },
        { name: 'cpu', value: String(i % 32) },
        { name: 'instance', value: `10.12.${(i >> 5) & 255}.${i & 31}:9100` },
        { name: 'job', value: 'node' },
        { name: 'mode', value: modes[(i >> 2) % modes.length]! },
        { name: 'replica', value: 'prometheus-0' },
      ],
      samples: Array.from({ length: perSeries }, (_, k) => ({
        value: Math.round(rand() * 1e9) / 1000,
        timestamp: 1_700_000_000_000 + k * 15_000 + (i % 997),
      })),
    })),
  };
  return encodeWriteRequest(request);
}

/** maximalBlock: a 1-byte literal then copies of 64 bytes at offset 1 (3 bytes each), the densest expansion. */
function maximalBlock(copies: number, declared = 1 + 64 * copies): Uint8Array {
  const out = new Uint8Array(varint(declared).length + 2 + 3 * copies);
  const header = varint(declared);
  out.set(header);
  out.set([0x00, 0x61], header.length);
  for (let i = 0, at = header.length + 2; i < copies; i++, at += 3) out.set([0xfe, 0x01, 0x00], at);
  return out;
}

/** negativeLiteral: a literal (tag 0xfc, 4-byte length) whose length snappyjs reads as `len` (negative). */
function negativeLiteral(len: number): Uint8Array {
  const raw = (len - 1) >>> 0;
  return new Uint8Array([0x40, 0xfc, raw & 0xff, (raw >>> 8) & 0xff, (raw >>> 16) & 0xff, raw >>> 24, 0, 0]);
}

// --- snappyjs in a terminable worker ---------------------------------------------------------------------

const SNAPPYJS_PATH = createRequire(import.meta.url).resolve('snappyjs');
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const snappyjs = require(${JSON.stringify(SNAPPYJS_PATH)});
parentPort.on('message', ({ body, iterations, max }) => {
  const times = [];
  let ok = true;
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    try { snappyjs.uncompress(body, max); } catch { ok = false; }
    times.push(performance.now() - t);
  }
  parentPort.postMessage({ times, ok });
});`;

/** SnappyjsRunner decodes bodies with snappyjs in a worker, replacing the worker when one exceeds the timeout. */
class SnappyjsRunner {
  private worker = new Worker(WORKER_SOURCE, { eval: true });
  timeouts = 0;

  /** run decodes `body` `iterations` times; times are per decode, or undefined when it timed out. */
  run(body: Uint8Array, iterations = 1): Promise<{ times: number[]; ok: boolean } | undefined> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.timeouts++;
        this.worker.removeAllListeners();
        void this.worker.terminate();
        this.worker = new Worker(WORKER_SOURCE, { eval: true });
        resolve(undefined);
      }, SNAPPYJS_TIMEOUT_MS * iterations);
      const onMessage = (m: { times: number[]; ok: boolean }): void => {
        clearTimeout(timer);
        this.worker.off('error', onError);
        resolve(m);
      };
      const onError = (err: Error): void => {
        clearTimeout(timer);
        this.worker.off('message', onMessage);
        reject(err);
      };
      this.worker.once('message', onMessage);
      this.worker.once('error', onError);
      this.worker.postMessage({ body, iterations, max: OLD_MAX_DECODED_BYTES });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

// --- measurement -----------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function timeRepeated(run: () => unknown): Promise<number[]> {
  const times: number[] = [];
  const until = performance.now() + MIN_BENCH_MS;
  while (times.length < 5 || performance.now() < until) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times;
}

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

/**
 * receiverRun decodes `body` in the receiver while a setImmediate chain records the longest gap between two
 * turns of the event loop and the peak heap (sampled at each turn; the decode pauses every 10 ms).
 */
async function receiverRun(body: Uint8Array): Promise<{ ms: number; loopBlockMs: number; heapMiB: number }> {
  gc();
  const heapBefore = getHeapStatistics().used_heap_size;
  let peak = heapBefore;
  let last = performance.now();
  let longest = 0;
  let stop = false;
  const turn = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
    if (!stop) setImmediate(turn);
  };
  setImmediate(turn);
  const started = performance.now();
  const request = await decodeRemoteWriteBody(body);
  const ms = performance.now() - started;
  stop = true;
  peak = Math.max(peak, getHeapStatistics().used_heap_size);
  if (request.samples === 0) throw new Error('decoded nothing');
  const loopBlockMs = Math.max(longest, performance.now() - last);
  return { ms, loopBlockMs, heapMiB: (peak - heapBefore) / 2 ** 20 };
}

/**
 * labelHeavyBatch is the costliest body the receiver accepts: just under DEFAULT_MAX_DECODED_BYTES of series
 * with ten 160-byte label values and one sample each (~1.8 KB per series, within the sample and label caps).
 */
function labelHeavyBatch(): Uint8Array {
  const series = (i: number): WriteRequestInput['timeseries'][number] => ({
    labels: [
      { name: '__name__', value: `m${i % 50}` },
      ...Array.from({ length: 10 }, (_, k) => ({ name: `l${k}`, value: `${i}_${k}_`.padEnd(160, 'x') })),
    ],
    samples: [{ value: i, timestamp: 1_700_000_000_000 + i }],
  });
  // Sized by one encoded series (plus a margin for the longer numbers of later ones) to end under the cap.
  const each = encodeWriteRequest({ timeseries: [series(99_999)] }).length;
  const count = Math.floor((DEFAULT_MAX_DECODED_BYTES - 65_536) / each);
  return encodeWriteRequest({ timeseries: Array.from({ length: count }, (_, i) => series(i)) });
}

async function main(): Promise<void> {
  const snappyjs = new SnappyjsRunner();
  console.log(
    `remote-write decode bench — node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, snappyjs timeout ${SNAPPYJS_TIMEOUT_MS} ms`,
  );

  // Valid bodies.
  const valid = [
    { name: '2,000 samples / 500 series', raw: prometheusBatch(500, 4) },
    { name: '2,000 samples / 2,000 series', raw: prometheusBatch(2000, 1) },
    { name: '20,000 samples / 20,000 series', raw: prometheusBatch(20_000, 1) },
  ].map((v) => ({ ...v, body: new Uint8Array(compressSync(Buffer.from(v.raw))) }));

  console.log('');
  console.log('valid bodies          decoded     body  decoder                  per body      MB/s');
  const validRows: { body: string; decoder: string; ms: number; mbs: number }[] = [];
  for (const v of valid) {
    const mb = v.raw.length / 1e6;
    const warm = await snappyjs.run(v.body, 3);
    const iterations = Math.max(5, Math.ceil(MIN_BENCH_MS / Math.max(0.01, median(warm?.times ?? [1]))));
    const js = await snappyjs.run(v.body, iterations);
    const rows: [string, number[]][] = [
      ['snappyjs', js?.times ?? [Infinity]],
      ['native async', await timeRepeated(() => uncompress(v.body))],
      ['native sync', await timeRepeated(() => uncompressSync(v.body))],
      ['receiver (native+proto)', await timeRepeated(() => decodeRemoteWriteBody(v.body))],
    ];
    for (const [decoder, times] of rows) {
      const ms = median(times);
      validRows.push({ body: v.name, decoder, ms, mbs: mb / (ms / 1000) });
      console.log(
        `${v.name.padEnd(31)} ${(v.raw.length / 1024).toFixed(0).padStart(6)} KiB ${(v.body.length / 1024)
          .toFixed(0)
          .padStart(5)} KiB  ${decoder.padEnd(24)} ${ms.toFixed(3).padStart(9)} ms ${(mb / (ms / 1000))
          .toFixed(0)
          .padStart(8)}`,
      );
    }
  }

  // The receiver pauses for the event loop every 10 ms: the longest stretch between two turns of the loop,
  // the time and the peak heap growth for the largest valid body and for the costliest body it accepts (best
  // of three runs each, to leave out pauses of the machine itself).
  const heavy = labelHeavyBatch();
  const largest = valid[valid.length - 1]!;
  const large = [
    { name: largest.name, body: largest.body, decoded: largest.raw.length },
    {
      name: 'label-heavy at the decoded cap',
      body: new Uint8Array(compressSync(Buffer.from(heavy))),
      decoded: heavy.length,
    },
  ];
  console.log('');
  console.log('receiver, large bodies          decoded   total ms  longest loop block ms  heap growth MiB');
  let loopBlock = 0;
  let capHeap = 0;
  for (const b of large) {
    const runs = [await receiverRun(b.body), await receiverRun(b.body), await receiverRun(b.body)];
    const ms = Math.min(...runs.map((r) => r.ms));
    const blockMs = Math.min(...runs.map((r) => r.loopBlockMs));
    const heapMiB = Math.min(...runs.map((r) => r.heapMiB));
    loopBlock = Math.max(loopBlock, blockMs);
    capHeap = heapMiB;
    console.log(
      `${b.name.padEnd(31)} ${(b.decoded / 2 ** 20).toFixed(1).padStart(5)} MiB ${ms.toFixed(0).padStart(9)} ` +
        `${blockMs.toFixed(1).padStart(22)} ${heapMiB.toFixed(0).padStart(16)}`,
    );
  }

  // Hostile bodies.
  const reference = valid[0]!.body;
  const hostile: { kind: string; bodies: Uint8Array[] }[] = [
    { kind: 'random 1 KiB', bodies: Array.from({ length: HOSTILE_PER_KIND }, () => randomBytes(1024)) },
    {
      kind: 'random elements, small header',
      bodies: Array.from({ length: HOSTILE_PER_KIND }, () => {
        const declared = 1 + Math.floor(rand() * 65_536);
        return new Uint8Array([...varint(declared), ...randomBytes(1024)]);
      }),
    },
    {
      kind: 'mutated valid (1–8 bytes)',
      bodies: Array.from({ length: HOSTILE_PER_KIND }, () => {
        const copy = Uint8Array.from(reference);
        const edits = 1 + Math.floor(rand() * 8);
        for (let i = 0; i < edits; i++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
        return copy;
      }),
    },
    {
      kind: 'truncated valid',
      bodies: Array.from({ length: HOSTILE_PER_KIND }, () =>
        reference.subarray(0, Math.floor(rand() * reference.length)),
      ),
    },
    {
      kind: 'huge declared length',
      bodies: [2 ** 32 - 1, 2 ** 30, OLD_MAX_DECODED_BYTES, DEFAULT_MAX_DECODED_BYTES + 1].map(
        (n) => new Uint8Array([...varint(n), 0x00, 0x41]),
      ),
    },
    { kind: 'negative literal −5 (loop)', bodies: [negativeLiteral(-5)] },
    { kind: 'negative literal −2^31', bodies: [negativeLiteral(-(2 ** 31) + 1)] },
    {
      kind: 'long back-references',
      bodies: [
        maximalBlock(Math.floor((DEFAULT_MAX_DECODED_BYTES - 1) / 64)), // valid: 16 MiB from 768 KiB
        maximalBlock(Math.floor((DEFAULT_MAX_DECODED_BYTES - 1) / 64), 1), // declares 1 byte, copies 16 MiB
      ],
    },
  ];

  console.log('');
  console.log(
    'hostile bodies                  count | snappyjs  max ms  timeouts  accepted | native  p50 ms  max ms  accepted',
  );
  let hostileMaxJs = 0;
  let hostileMaxNative = 0;
  for (const h of hostile) {
    // snappyjs first, then native: a worker replaced after a timeout starts up on another thread and would
    // otherwise compete with the native timings.
    let jsMax = 0;
    let jsTimeouts = 0;
    let jsAccepted = 0;
    for (const body of h.bodies) {
      const js = await snappyjs.run(body);
      if (js === undefined) {
        jsTimeouts++;
        jsMax = Math.max(jsMax, SNAPPYJS_TIMEOUT_MS);
        continue;
      }
      let best = js.times[0] ?? 0;
      for (let r = 1; r < HOSTILE_REPEATS; r++)
        best = Math.min(best, (await snappyjs.run(body))?.times[0] ?? best);
      jsMax = Math.max(jsMax, best);
      if (js.ok) jsAccepted++;
    }
    const nativeTimes: number[] = [];
    let nativeAccepted = 0;
    for (const body of h.bodies) {
      let best = Infinity;
      for (let r = 0; r < HOSTILE_REPEATS; r++) {
        const t = performance.now();
        try {
          await uncompressSnappyBlock(body, DEFAULT_MAX_DECODED_BYTES);
          if (r === 0) nativeAccepted++;
        } catch {
          // Rejected, as it should be: only the time matters here.
        }
        best = Math.min(best, performance.now() - t);
      }
      nativeTimes.push(best);
    }
    const nativeMax = Math.max(...nativeTimes);
    hostileMaxJs = Math.max(hostileMaxJs, jsMax);
    hostileMaxNative = Math.max(hostileMaxNative, nativeMax);
    const jsText = jsTimeouts > 0 ? `≥${jsMax.toFixed(0)}` : jsMax.toFixed(2);
    console.log(
      `${h.kind.padEnd(31)} ${String(h.bodies.length).padStart(5)} | ${jsText.padStart(15)} ${String(jsTimeouts).padStart(9)} ${String(
        jsAccepted,
      ).padStart(
        9,
      )} | ${median(nativeTimes).toFixed(3).padStart(14)} ${nativeMax.toFixed(2).padStart(7)} ${String(
        nativeAccepted,
      ).padStart(9)}`,
    );
  }
  const timeouts = snappyjs.timeouts;
  await snappyjs.close();

  const headline = (decoder: string): number =>
    validRows.find((r) => r.body === valid[0]!.name && r.decoder === decoder)?.mbs ?? NaN;
  console.log(
    JSON.stringify({
      valid_mb_s_snappyjs: Number(headline('snappyjs').toFixed(1)),
      valid_mb_s_native: Number(headline('native async').toFixed(1)),
      valid_mb_s_native_sync: Number(headline('native sync').toFixed(1)),
      valid_mb_s_receiver: Number(headline('receiver (native+proto)').toFixed(1)),
      receiver_max_loop_block_ms: Number(loopBlock.toFixed(1)),
      receiver_heap_mib_at_cap: Number(capHeap.toFixed(0)),
      hostile_max_ms_snappyjs: Number(hostileMaxJs.toFixed(2)),
      hostile_max_ms_native: Number(hostileMaxNative.toFixed(2)),
      hostile_timeouts_snappyjs: timeouts,
      snappyjs_timeout_ms: SNAPPYJS_TIMEOUT_MS,
    }),
  );
}

await main();
