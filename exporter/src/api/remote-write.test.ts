import { request as httpRequest } from 'node:http';
import type { ClientRequest, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import pino from 'pino';
import { Registry } from 'prom-client';
import { compressSync } from 'snappy';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { seriesKey } from '../util/labels.js';
import type { Labels } from '../util/labels.js';
import { SampleBuffer } from '../tsdb/sample-buffer.js';
import type { AppendResult, Appender, Storage } from '../tsdb/storage.js';
import {
  REMOTE_WRITE_ERRORS,
  REMOTE_WRITE_PATH,
  isRemoteWriteError,
  createRemoteWriteRouter,
  decodeRemoteWriteBody,
} from './remote-write.js';
import type { DecodeLimits, RemoteWriteErrorCode, RemoteWriteOptions } from './remote-write.js';
import { encodeWriteRequest } from './remote-write-proto.js';
import type { WriteRequestInput } from './remote-write-proto.js';
import { STALE_NAN } from '../util/stale-marker.js';
import type { ExporterError } from '../errors.js';
import { varint } from '../../test/varint.js';

/** FailureMode makes RecordingStore fail at one stage, as a broken backend would. */
type FailureMode = 'none' | 'appender' | 'append' | 'commit';

/** RecordingStore is the smallest Storage appender with a real in-order rule: it keeps what commits deliver. */
class RecordingStore implements Pick<Storage, 'appender'> {
  // Values in a typed array: a plain number[] would quiet the stale marker's signalling NaN.
  readonly samples = new Map<string, { labels: Labels; t: number[]; v: SampleBuffer }>();
  appendCalls = 0;
  failure: FailureMode = 'none';
  appender(): Appender {
    if (this.failure === 'appender') throw new Error('backend exploded: secret internal detail');
    const pending: { labels: Labels; t: number; v: number }[] = [];
    return {
      append: (_ref, labels, t, v) => {
        if (this.failure === 'append') throw new Error('ERR redis OOM: secret internal detail');
        this.appendCalls++;
        pending.push({ labels, t, v });
        return 1;
      },
      rollback: () => {
        pending.length = 0;
      },
      commit: (): Promise<AppendResult> => {
        if (this.failure === 'commit') return Promise.reject(new Error('EIO: secret internal detail'));
        let appended = 0;
        let outOfOrder = 0;
        let duplicate = 0;
        for (const p of pending) {
          const key = seriesKey(p.labels);
          let s = this.samples.get(key);
          if (s === undefined)
            this.samples.set(key, (s = { labels: p.labels, t: [], v: new SampleBuffer() }));
          const last = s.t[s.t.length - 1];
          if (last !== undefined && p.t === last) duplicate++;
          else if (last !== undefined && p.t < last) outOfOrder++;
          else {
            s.t.push(p.t);
            s.v.push(p.t, p.v);
            appended++;
          }
        }
        return Promise.resolve({ appended, outOfOrder, duplicate });
      },
    };
  }
}

const SCRATCH = new Float64Array(1);
function bitsOf(v: number): bigint {
  SCRATCH[0] = v;
  return new BigUint64Array(SCRATCH.buffer)[0]!;
}

const body = (req: WriteRequestInput): Uint8Array => compressSync(Buffer.from(encodeWriteRequest(req)));
const lbl = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));

/** field wraps bytes as a length-delimited protobuf field. */
const field = (num: number, bytes: number[]): number[] => [(num << 3) | 2, ...varint(bytes.length), ...bytes];
const ascii = (s: string): number[] => [...Buffer.from(s)];
/** rawLabel is an encoded Label message (prompb: name = 1, value = 2). */
const rawLabel = (name: string, value: string): number[] =>
  field(1, [...field(1, ascii(name)), ...field(2, ascii(value))]);

/** realisticRequest is what Prometheus sends: `series` node_exporter-like series, `perSeries` samples each. */
function realisticRequest(series: number, perSeries: number): WriteRequestInput {
  const names = ['node_cpu_seconds_total', 'node_memory_MemAvailable_bytes', 'node_load1'];
  return {
    timeseries: Array.from({ length: series }, (_, i) => ({
      labels: lbl({
        __name__: names[i % names.length]!,
        cpu: String(i % 16),
        instance: `10.0.${i >> 4}.${i & 15}:9100`,
        job: 'node',
        mode: ['idle', 'user', 'system'][i % 3]!,
      }),
      samples: Array.from({ length: perSeries }, (_, k) => ({
        value: i * 1.5 + k,
        timestamp: 1_700_000_000_000 + k * 15_000,
      })),
    })),
  };
}

/** TOKEN is the remote-write token of the authenticated receiver; it must never appear in a reply or a log. */
const TOKEN = 'rw-s3cret:with-colon';

/** Receiver is one receiver served in-process on 127.0.0.1, with its registry and captured log lines. */
interface Receiver {
  readonly url: string;
  readonly registry: Registry;
  readonly logs: string[];
  close(): Promise<void>;
}

let store = new RecordingStore();

async function startReceiver(options: Partial<RemoteWriteOptions>): Promise<Receiver> {
  const app = express();
  // Each test swaps in a fresh store; the router reads it through this indirection.
  const storage: Pick<Storage, 'appender'> = { appender: () => store.appender() };
  const registry = new Registry();
  const logs: string[] = [];
  app.use(
    createRemoteWriteRouter({
      storage,
      logger: pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) }),
      registry,
      ...options,
    }),
  );
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${REMOTE_WRITE_PATH}`,
    registry,
    logs,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** LIMITS are the open receiver's, small so that every cap can be reached with a small body. */
const LIMITS = {
  maxBodyBytes: 64 * 1024,
  maxDecodedBytes: 256 * 1024,
  maxSamplesPerRequest: 1000,
  maxLabelsPerRequest: 3000,
} as const;

let open: Receiver;
let authed: Receiver;

beforeAll(async () => {
  open = await startReceiver(LIMITS);
  authed = await startReceiver({ token: TOKEN });
});

afterAll(async () => {
  await open.close();
  await authed.close();
});

beforeEach(() => {
  store = new RecordingStore();
});

async function post(
  url: string,
  payload: Uint8Array,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    body: Buffer.from(payload),
    headers: {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      ...headers,
    },
  });
}

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  const hit = values.find((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  return hit?.value ?? 0;
}

/** seenCodes collects every error code a test saw answered, so the last test can check all were covered. */
const seenCodes = new Set<RemoteWriteErrorCode>();

/**
 * expectRejection asserts the whole Prometheus error envelope of a rejected request: the code's status and
 * errorType, `error` starting with the stable code, JSON content type, and no internal details.
 */
async function expectRejection(res: Response, code: RemoteWriteErrorCode, message: RegExp): Promise<string> {
  const { status } = REMOTE_WRITE_ERRORS[code];
  // Prometheus has no errorType for refused credentials or oversize requests: the client's to fix, bad_data.
  const errorType = status === 503 ? 'unavailable' : status >= 500 ? 'internal' : 'bad_data';
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const envelope = (await res.json()) as Record<string, unknown>;
  expect(Object.keys(envelope).sort()).toEqual(['error', 'errorType', 'status']);
  expect(envelope.status).toBe('error');
  expect(envelope.errorType).toBe(errorType);
  const error = String(envelope.error);
  expect(error.startsWith(`${code}: `)).toBe(true);
  expect(error).toMatch(message);
  expect(error).not.toMatch(/secret internal detail|\n\s+at /);
  seenCodes.add(code);
  return error;
}

describe('remote-write receiver', () => {
  it('stores valid samples unchanged and answers 204', async () => {
    const res = await post(
      open.url,
      body({
        timeseries: [
          {
            labels: lbl({ __name__: 'node_load1', instance: 'web-01', job: 'node', empty: '' }),
            samples: [
              { value: 0.25, timestamp: 1_700_000_000_000 },
              { value: -0, timestamp: 1_700_000_015_000 },
              { value: STALE_NAN, timestamp: 1_700_000_030_000 },
              { value: Infinity, timestamp: 1_700_000_045_000 },
              { value: 5e-324, timestamp: 1_700_000_060_000 },
            ],
          },
          {
            labels: lbl({ __name__: 'http_requests_total', code: '200' }),
            samples: [{ value: 12345678901234, timestamp: -1 }],
          },
        ],
      }),
    );
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const load = store.samples.get(seriesKey({ __name__: 'node_load1', instance: 'web-01', job: 'node' }));
    expect(load?.labels).toEqual({ __name__: 'node_load1', instance: 'web-01', job: 'node' });
    expect(load?.t).toEqual([
      1_700_000_000_000, 1_700_000_015_000, 1_700_000_030_000, 1_700_000_045_000, 1_700_000_060_000,
    ]);
    expect(Array.from(load!.v.vs.subarray(0, load!.v.n), bitsOf)).toEqual([
      0x3fd0000000000000n, // 0.25
      0x8000000000000000n, // -0
      0x7ff0000000000002n, // the stale marker, signalling NaN payload intact
      0x7ff0000000000000n, // +Inf
      0x0000000000000001n, // smallest subnormal
    ]);
    const reqs = store.samples.get(seriesKey({ __name__: 'http_requests_total', code: '200' }));
    expect(reqs?.t).toEqual([-1]);
    expect(Array.from(reqs!.v.vs.subarray(0, reqs!.v.n))).toEqual([12345678901234]);
    expect(
      await metric(open.registry, 'openmanager_exporter_remote_write_samples_total', { result: 'appended' }),
    ).toBe(6);
  });

  it('stores a realistic batch at the sample cap (1,000 samples over 250 series) in full', async () => {
    const res = await post(open.url, body(realisticRequest(250, 4)));
    expect(res.status).toBe(204);
    expect(store.samples.size).toBe(250);
    expect([...store.samples.values()].every((s) => s.t.length === 4)).toBe(true);
  });

  it('accepts labels and samples in either order within a series, and ignores unknown fields', async () => {
    const sample = [0x09, ...new Uint8Array(new Float64Array([2.5]).buffer), 0x10, ...varint(1234)];
    const series = [
      ...field(2, sample),
      0x28, // field 5, varint: unknown to prompb 1.0, skipped as protobuf requires
      0x07,
      ...rawLabel('__name__', 'late_labels'),
    ];
    const payload = [...field(1, series), ...field(3, [0x08, 0x01])]; // + a metadata entry (field 3)
    const res = await post(open.url, compressSync(Buffer.from(payload)));
    expect(res.status).toBe(204);
    const s = store.samples.get(seriesKey({ __name__: 'late_labels' }));
    expect(s?.t).toEqual([1234]);
    expect(s?.v.vs[0]).toBe(2.5);
  });

  it('merges repeated entries of one series when they stay in order', async () => {
    const labels = lbl({ __name__: 'up', job: 'a' });
    const res = await post(
      open.url,
      body({
        timeseries: [
          { labels, samples: [{ value: 1, timestamp: 1000 }] },
          { labels: lbl({ job: 'a', __name__: 'up' }), samples: [{ value: 0, timestamp: 2000 }] },
        ],
      }),
    );
    expect(res.status).toBe(204);
    expect(store.samples.get(seriesKey({ __name__: 'up', job: 'a' }))?.t).toEqual([1000, 2000]);
  });

  it('counts samples the store rejects as out of order or duplicate, still answering 204', async () => {
    const samples = (result: string) =>
      metric(open.registry, 'openmanager_exporter_remote_write_samples_total', { result });
    const labels = lbl({ __name__: 'up', job: 'ooo' });
    expect(
      (await post(open.url, body({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 5000 }] }] })))
        .status,
    ).toBe(204);
    const before = await samples('out_of_order');
    const dupBefore = await samples('duplicate');
    const res = await post(
      open.url,
      body({
        timeseries: [
          { labels, samples: [{ value: 2, timestamp: 4000 }] },
          { labels: lbl({ __name__: 'up', job: 'ooo', x: '1' }), samples: [{ value: 1, timestamp: 1 }] },
        ],
      }),
    );
    expect(res.status).toBe(204);
    expect(await samples('out_of_order')).toBe(before + 1);
    const res2 = await post(
      open.url,
      body({ timeseries: [{ labels, samples: [{ value: 2, timestamp: 5000 }] }] }),
    );
    expect(res2.status).toBe(204);
    expect(await samples('duplicate')).toBe(dupBefore + 1);
  });

  const valid = { labels: lbl({ __name__: 'ok_metric', a: 'b' }), samples: [{ value: 1, timestamp: 1000 }] };
  const badCases: {
    name: string;
    payload: () => Uint8Array;
    headers?: Record<string, string>;
    failure?: FailureMode;
    code: RemoteWriteErrorCode;
    message: RegExp;
  }[] = [
    {
      name: 'empty body',
      payload: () => new Uint8Array(0),
      code: 'RW_EMPTY_BODY',
      message: /empty body/,
    },
    {
      name: 'not snappy',
      payload: () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]),
      code: 'RW_BAD_SNAPPY',
      message: /snappy/,
    },
    {
      name: 'uncompressed protobuf sent as snappy',
      payload: () => encodeWriteRequest({ timeseries: [valid] }),
      code: 'RW_BAD_SNAPPY',
      message: /snappy/,
    },
    {
      name: 'truncated snappy',
      payload: () => body({ timeseries: [valid, valid] }).subarray(0, 12),
      code: 'RW_BAD_SNAPPY',
      message: /snappy block format/,
    },
    {
      // The body that used to hang the exporter: snappyjs read this literal's length as −5 and stepped back
      // onto the same tag forever.
      name: 'negative-literal trick',
      payload: () => new Uint8Array([0x40, 0xfc, 0xfa, 0xff, 0xff, 0xff, 0x00, 0x00]),
      code: 'RW_BAD_SNAPPY',
      message: /snappy block format/,
    },
    {
      name: 'header declaring 4 GiB in 7 bytes',
      payload: () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41]),
      code: 'RW_DECODED_TOO_LARGE',
      message: /declares 4294967295 uncompressed bytes, above the limit of 262144/,
    },
    {
      name: 'header declaring more than the body can expand to',
      payload: () => new Uint8Array([...varint(100_000), 0x00, 0x41, 0xfe, 0x01, 0x00]),
      code: 'RW_BAD_SNAPPY',
      message: /declares 100000 .* but 8 compressed bytes expand to at most 106/,
    },
    {
      name: 'snappy around garbage protobuf',
      payload: () => compressSync(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])),
      code: 'RW_BAD_PROTOBUF',
      message: /WriteRequest.*runs past its enclosing message/,
    },
    {
      name: 'protobuf group (wire type 3)',
      payload: () => compressSync(Buffer.from([0x0b, 0x0c])),
      code: 'RW_BAD_PROTOBUF',
      message: /wire type 3/,
    },
    {
      name: 'label field overrunning its series',
      payload: () => compressSync(Buffer.from([0x0a, 0x03, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x12, 0x00])),
      code: 'RW_BAD_PROTOBUF',
      message: /runs past its enclosing message/,
    },
    {
      name: 'Label message with a thousand fields',
      payload: () =>
        compressSync(
          Buffer.from(field(1, field(1, Array.from({ length: 1000 }, () => [0x18, 0x00]).flat()))),
        ),
      code: 'RW_BAD_PROTOBUF',
      message: /more than 16 fields/,
    },
    {
      name: 'more samples than the cap',
      payload: () => body(realisticRequest(251, 4)),
      code: 'RW_TOO_MANY_SAMPLES',
      message: /more than 1000 samples.*max_samples_per_send/,
    },
    {
      name: 'more labels than the cap',
      // 601 series of 5 labels and no samples: 3,005 labels.
      payload: () => body(realisticRequest(601, 0)),
      code: 'RW_TOO_MANY_LABELS',
      message: /more than 3000 labels/,
    },
    {
      name: 'missing __name__ (after a valid series)',
      payload: () =>
        body({ timeseries: [valid, { labels: lbl({ job: 'x' }), samples: [{ value: 1, timestamp: 1 }] }] }),
      code: 'RW_MISSING_METRIC_NAME',
      message: /series #1 .*missing __name__/,
    },
    {
      name: 'empty __name__ counts as missing',
      payload: () =>
        body({
          timeseries: [{ labels: lbl({ __name__: '', job: 'x' }), samples: [{ value: 1, timestamp: 1 }] }],
        }),
      code: 'RW_MISSING_METRIC_NAME',
      message: /missing __name__/,
    },
    {
      name: 'invalid metric name',
      payload: () =>
        body({ timeseries: [{ labels: lbl({ __name__: '1abc' }), samples: [{ value: 1, timestamp: 1 }] }] }),
      code: 'RW_INVALID_METRIC_NAME',
      message: /"1abc"/,
    },
    {
      name: 'label name with a dash',
      payload: () =>
        body({
          timeseries: [
            valid,
            { labels: lbl({ __name__: 'm', 'a-b': 'x' }), samples: [{ value: 1, timestamp: 1 }] },
          ],
        }),
      code: 'RW_INVALID_LABEL_NAME',
      message: /"a-b"/,
    },
    {
      name: 'label name starting with a digit',
      payload: () => body({ timeseries: [{ labels: lbl({ __name__: 'm', '0a': 'x' }), samples: [] }] }),
      code: 'RW_INVALID_LABEL_NAME',
      message: /"0a"/,
    },
    {
      name: 'a 50 KB invalid label name is quoted back cut short',
      payload: () =>
        body({ timeseries: [{ labels: lbl({ __name__: 'm', ['-'.repeat(50_000)]: 'x' }), samples: [] }] }),
      code: 'RW_INVALID_LABEL_NAME',
      message: /^.{0,300}$/,
    },
    {
      name: 'duplicate label name',
      payload: () =>
        body({
          timeseries: [
            {
              labels: [
                { name: '__name__', value: 'm' },
                { name: 'a', value: '1' },
                { name: 'a', value: '2' },
              ],
              samples: [{ value: 1, timestamp: 1 }],
            },
          ],
        }),
      code: 'RW_DUPLICATE_LABEL_NAME',
      message: /label "a" appears twice/,
    },
    {
      name: 'decreasing timestamps',
      payload: () =>
        body({
          timeseries: [
            valid,
            {
              labels: lbl({ __name__: 'm' }),
              samples: [
                { value: 1, timestamp: 2000 },
                { value: 2, timestamp: 1000 },
              ],
            },
          ],
        }),
      code: 'RW_NON_MONOTONIC',
      message: /strictly increase, got 1000 after 2000/,
    },
    {
      name: 'repeated timestamp',
      payload: () =>
        body({
          timeseries: [
            {
              labels: lbl({ __name__: 'm' }),
              samples: [
                { value: 1, timestamp: 7 },
                { value: 2, timestamp: 7 },
              ],
            },
          ],
        }),
      code: 'RW_NON_MONOTONIC',
      message: /got 7 after 7/,
    },
    {
      name: 'same series twice going back in time',
      payload: () =>
        body({
          timeseries: [
            { labels: lbl({ __name__: 'm', a: '1' }), samples: [{ value: 1, timestamp: 100 }] },
            { labels: lbl({ a: '1', __name__: 'm' }), samples: [{ value: 1, timestamp: 50 }] },
          ],
        }),
      code: 'RW_NON_MONOTONIC',
      message: /got 50 after 100/,
    },
    {
      name: 'timestamp beyond 2^53',
      payload: () =>
        body({
          timeseries: [{ labels: lbl({ __name__: 'm' }), samples: [{ value: 1, timestamp: 2 ** 60 }] }],
        }),
      code: 'RW_BAD_TIMESTAMP',
      message: /1152921504606846976 is outside the exactly representable range ±2\^53/,
    },
    {
      // Within ±2^53 but before JS Date's range: its hourly rollup bucket would start below -2^53.
      name: 'timestamp before the times the store holds',
      payload: () =>
        body({
          timeseries: [
            { labels: lbl({ __name__: 'm' }), samples: [{ value: 1, timestamp: -(2 ** 53) + 1 }] },
          ],
        }),
      code: 'RW_BAD_TIMESTAMP',
      message: /timestamp -9007199254740991 ms is outside the times the store holds/,
    },
    {
      name: 'gzip content encoding',
      payload: () => body({ timeseries: [valid] }),
      headers: { 'Content-Encoding': 'gzip' },
      code: 'RW_UNSUPPORTED_ENCODING',
      message: /"gzip"/,
    },
    {
      name: 'remote write 2.0 message',
      payload: () => body({ timeseries: [valid] }),
      headers: { 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' },
      code: 'RW_UNSUPPORTED_PROTOCOL',
      message: /io\.prometheus\.write\.v2\.Request/,
    },
    {
      name: 'body over the limit',
      payload: () => new Uint8Array(64 * 1024 + 1),
      code: 'RW_BODY_TOO_LARGE',
      message: /exceeds the limit/,
    },
    {
      name: 'append failure, details kept in the log',
      payload: () => body({ timeseries: [valid] }),
      failure: 'append',
      code: 'RW_STORAGE_FAILED',
      message: /^RW_STORAGE_FAILED: storage refused the samples; see the exporter log$/,
    },
    {
      name: 'commit failure, details kept in the log',
      payload: () => body({ timeseries: [valid] }),
      failure: 'commit',
      code: 'RW_STORAGE_FAILED',
      message: /^RW_STORAGE_FAILED: storage refused the samples; see the exporter log$/,
    },
    {
      name: 'unexpected failure',
      payload: () => body({ timeseries: [valid] }),
      failure: 'appender',
      code: 'RW_INTERNAL',
      message: /^RW_INTERNAL: internal error; see the exporter log$/,
    },
  ];

  it.each(badCases)(
    'rejects $name with $code in the Prometheus envelope and stores nothing',
    async ({ payload, headers, failure, code, message }) => {
      store.failure = failure ?? 'none';
      const status = String(REMOTE_WRITE_ERRORS[code].status);
      const requests = 'openmanager_exporter_remote_write_requests_total';
      const before = await metric(open.registry, requests, { code: status });
      await expectRejection(await post(open.url, payload(), headers), code, message);
      expect(store.samples.size).toBe(0);
      if (failure === undefined) expect(store.appendCalls).toBe(0);
      expect(await metric(open.registry, requests, { code: status })).toBe(before + 1);
      if (failure !== undefined) expect(open.logs.join('')).toMatch(/secret internal detail/);
      expect(await metric(open.registry, 'openmanager_exporter_remote_write_in_flight_bytes')).toBe(0);
    },
  );

  it('counts exemplars and native histograms it does not store', async () => {
    const ignored = (kind: string) =>
      metric(open.registry, 'openmanager_exporter_remote_write_ignored_total', { kind });
    const exemplars = await ignored('exemplar');
    const histograms = await ignored('histogram');
    const series = [
      ...rawLabel('__name__', 'with_extras'),
      ...field(2, [0x09, ...new Uint8Array(8), 0x10, 0x01]),
      ...field(3, [0x11, 0x00]), // TimeSeries.exemplars: opaque to this receiver
      ...field(3, []),
      ...field(4, [0x08, 0x01]), // TimeSeries.histograms
    ];
    const res = await post(open.url, compressSync(Buffer.from(field(1, series))));
    expect(res.status).toBe(204);
    expect(await ignored('exemplar')).toBe(exemplars + 2);
    expect(await ignored('histogram')).toBe(histograms + 1);
    expect(store.samples.size).toBe(1);
  });
});

describe('remote-write authentication', () => {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const cases: { name: string; authorization?: string; code?: RemoteWriteErrorCode }[] = [
    { name: 'no credentials', code: 'RW_UNAUTHORIZED' },
    { name: 'bearer token', authorization: `Bearer ${TOKEN}` },
    { name: 'bearer, scheme in lower case', authorization: `bearer ${TOKEN}` },
    { name: 'basic auth, token as password', authorization: basic('prometheus', TOKEN) },
    { name: 'basic auth, empty user name', authorization: basic('', TOKEN) },
    { name: 'wrong bearer token', authorization: 'Bearer nope', code: 'RW_FORBIDDEN' },
    { name: 'token as a prefix', authorization: `Bearer ${TOKEN}x`, code: 'RW_FORBIDDEN' },
    { name: 'wrong basic password', authorization: basic('prometheus', 'nope'), code: 'RW_FORBIDDEN' },
    { name: 'token as basic user name', authorization: basic(TOKEN, ''), code: 'RW_FORBIDDEN' },
    {
      name: 'basic credentials without a colon',
      authorization: `Basic ${Buffer.from(TOKEN.replace(':', '')).toString('base64')}`,
      code: 'RW_UNAUTHORIZED',
    },
    { name: 'another scheme', authorization: `Token ${TOKEN}`, code: 'RW_UNAUTHORIZED' },
  ];

  it.each(cases)('$name → $code', async ({ authorization, code }) => {
    const headers: Record<string, string> =
      authorization === undefined ? {} : { Authorization: authorization };
    const res = await post(authed.url, body(realisticRequest(2, 1)), headers);
    if (code === undefined) {
      expect(res.status).toBe(204);
      expect(store.samples.size).toBe(2);
      return;
    }
    const challenge = res.headers.get('www-authenticate');
    const error = await expectRejection(res, code, /REMOTE_WRITE_TOKEN/);
    expect(store.appendCalls).toBe(0);
    expect(error).not.toContain(TOKEN);
    if (code === 'RW_UNAUTHORIZED') {
      expect(challenge).toMatch(/Bearer realm="openmanager"/);
      expect(challenge).toMatch(/Basic realm="openmanager"/);
    } else {
      expect(challenge).toBeNull();
    }
  });

  it('rejects before reading the body', async () => {
    // 100 MB announced, nothing sent: the answer cannot have waited for the body.
    const res = await new Promise<{ status: number }>((resolve, reject) => {
      const req = httpRequest(authed.url, {
        method: 'POST',
        headers: { 'Content-Length': String(100_000_000), 'Content-Encoding': 'snappy' },
      });
      req.on('response', (r) => {
        resolve({ status: r.statusCode ?? 0 });
        r.resume();
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(res.status).toBe(401);
  });

  it('never writes the token or the Authorization header to the log', () => {
    const log = authed.logs.join('');
    expect(log).toMatch(/RW_FORBIDDEN|RW_UNAUTHORIZED/);
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(Buffer.from(`prometheus:${TOKEN}`).toString('base64'));
    expect(log.toLowerCase()).not.toContain('authorization"');
  });
});

describe('remote-write in-flight budget', () => {
  it('answers 503 while other requests hold the budget, and returns it when they go away', async () => {
    // maxInFlightBytes is raised to one request at both caps: 16 KiB body + 16 KiB decoded = 32 KiB.
    const busy = await startReceiver({
      maxBodyBytes: 16 * 1024,
      maxDecodedBytes: 16 * 1024,
      maxInFlightBytes: 0,
    });
    const inFlight = () => metric(busy.registry, 'openmanager_exporter_remote_write_in_flight_bytes');
    const partial: ClientRequest[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        // A body announced at the 16 KiB limit of which 16,000 bytes arrive: held until the client leaves.
        const req = httpRequest(busy.url, {
          method: 'POST',
          headers: { 'Content-Length': String(16 * 1024), 'Content-Encoding': 'snappy' },
        });
        req.on('error', () => undefined);
        req.write(Buffer.alloc(16_000));
        partial.push(req);
        await vi.waitFor(async () => expect(await inFlight()).toBe(16_000 * (i + 1)), { timeout: 10_000 });
      }
      // 768 bytes are left: less than this request's body and declared size together.
      const res = await post(busy.url, body(realisticRequest(20, 1)));
      await expectRejection(res, 'RW_BUSY', /retry later/);
      for (const req of partial) req.destroy();
      await vi.waitFor(async () => expect(await inFlight()).toBe(0), { timeout: 10_000 });
      expect((await post(busy.url, body(realisticRequest(20, 1)))).status).toBe(204);
      expect(await inFlight()).toBe(0);
    } finally {
      for (const req of partial) req.destroy();
      await busy.close();
    }
  });
});

describe('decodeRemoteWriteBody', () => {
  const limits: DecodeLimits = { maxDecodedBytes: 1 << 20, maxSamples: 10_000, maxLabels: 50_000 };

  /** settle runs one decode and returns its outcome; anything but a catalogue rejection fails the property. */
  async function settle(input: Uint8Array): Promise<'ok' | RemoteWriteErrorCode> {
    try {
      await decodeRemoteWriteBody(input, limits);
      return 'ok';
    } catch (err) {
      expect(isRemoteWriteError(err)).toBe(true);
      const code = (err as ExporterError).code as RemoteWriteErrorCode;
      expect(REMOTE_WRITE_ERRORS[code].status).toBeLessThan(500);
      return code;
    }
  }

  const validBody = body(realisticRequest(40, 3));

  it('settles every hostile body with a 4xx RemoteWriteError', async () => {
    const hostile = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      // A valid body with a few bytes overwritten…
      fc
        .array(fc.tuple(fc.nat(validBody.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        })
        .map((edits) => {
          const copy = Uint8Array.from(validBody);
          for (const [at, byte] of edits) copy[at] = byte;
          return copy;
        }),
      // …or cut short…
      fc.nat(validBody.length - 1).map((n) => validBody.subarray(0, n)),
      // …or valid snappy around random protobuf.
      fc.uint8Array({ maxLength: 4096 }).map((raw) => compressSync(Buffer.from(raw))),
      // A header declaring any length in front of a few bytes.
      fc
        .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 64 }))
        .map(([n, rest]) => new Uint8Array([...varint(n), ...rest])),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (input) => {
        await settle(input);
      }),
      { seed: 20240601, numRuns: 300 },
    );
  });

  it('refuses any header above the cap as RW_DECODED_TOO_LARGE, whatever follows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: limits.maxDecodedBytes + 1, max: 2 ** 32 - 1 }),
        fc.uint8Array({ maxLength: 64 }),
        async (declared, rest) => {
          expect(await settle(new Uint8Array([...varint(declared), ...rest]))).toBe('RW_DECODED_TOO_LARGE');
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('round-trips any valid request exactly, NaN payloads and signed zeros included', async () => {
    const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/).filter((n) => n !== '__name__');
    const bits = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.constantFrom(0x7ff0000000000002n, 0x8000000000000000n, 0x7ff8000000000001n, 0xfff0000000000000n),
    );
    const series = fc.record({
      name: fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/),
      labels: fc.dictionary(labelName, fc.string({ minLength: 1, maxLength: 20 }), { maxKeys: 5 }),
      start: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
      steps: fc.array(fc.tuple(fc.integer({ min: 1, max: 100_000 }), bits), { minLength: 1, maxLength: 20 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(series, { selector: (s) => s.name, maxLength: 8 }), async (all) => {
        const want = all.map((s) => {
          let t = s.start;
          const ts = s.steps.map(([dt]) => (t += dt));
          return { labels: { ...s.labels, __name__: s.name }, ts, bits: s.steps.map(([, b]) => b) };
        });
        const input: WriteRequestInput = {
          timeseries: want.map((w) => {
            const values = new Float64Array(new BigUint64Array(w.bits).buffer);
            return {
              labels: lbl(w.labels),
              samples: w.ts.map((t, i) => ({ timestamp: t, value: values[i]! })),
            };
          }),
        };
        const got = await decodeRemoteWriteBody(body(input), limits);
        expect(got.series).toHaveLength(want.length);
        got.series.forEach((s, i) => {
          const { ts, vs, n } = s.samples;
          expect(s.labels).toEqual(want[i]!.labels);
          expect(Array.from(ts.subarray(0, n))).toEqual(want[i]!.ts);
          expect(Array.from(new BigUint64Array(vs.buffer, 0, n))).toEqual(want[i]!.bits);
        });
      }),
      { seed: 99, numRuns: 200 },
    );
  });

  it('lets the event loop run while it decodes a large body', async () => {
    const big = body(realisticRequest(2000, 4));
    let turns = 0;
    let stop = false;
    const spin = (): void => {
      turns++;
      if (!stop) setImmediate(spin);
    };
    setImmediate(spin);
    // yieldAfterMs 0: pause at every check (every 64 steps), so the property holds on any machine speed.
    const got = await decodeRemoteWriteBody(big, { ...limits, maxSamples: 8000, maxLabels: 20_000 }, 0);
    stop = true;
    expect(got.samples).toBe(8000);
    // 2,000 series of 5 labels and 4 samples are ~24,000 steps: hundreds of pauses, each one turn of `spin`.
    expect(turns).toBeGreaterThan(100);
  });
});

describe('error catalogue', () => {
  it('every error code was answered, in the envelope, by some test above', () => {
    expect([...seenCodes].sort()).toEqual(Object.keys(REMOTE_WRITE_ERRORS).sort());
  });
});
