import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import pino from 'pino';
import { Registry } from 'prom-client';
import snappy from 'snappyjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seriesKey } from '../util/labels.js';
import type { Labels } from '../util/labels.js';
import { SampleBuffer } from '../tsdb/sample-buffer.js';
import type { AppendResult, Appender, Storage } from '../tsdb/storage.js';
import { REMOTE_WRITE_PATH, createRemoteWriteRouter } from './remote-write.js';
import { encodeWriteRequest } from './remote-write-proto.js';
import type { WriteRequestInput } from './remote-write-proto.js';

/** RecordingStore is the smallest Storage appender with a real in-order rule: it keeps what commits deliver. */
class RecordingStore implements Pick<Storage, 'appender'> {
  // Values in a typed array: a plain number[] would quiet the stale marker's signalling NaN.
  readonly samples = new Map<string, { labels: Labels; t: number[]; v: SampleBuffer }>();
  appendCalls = 0;
  appender(): Appender {
    const pending: { labels: Labels; t: number; v: number }[] = [];
    return {
      append: (_ref, labels, t, v) => {
        this.appendCalls++;
        pending.push({ labels, t, v });
        return 1;
      },
      rollback: () => {
        pending.length = 0;
      },
      commit: (): Promise<AppendResult> => {
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

const STALE_NAN = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;

const SCRATCH = new Float64Array(1);
function bitsOf(v: number): bigint {
  SCRATCH[0] = v;
  return new BigUint64Array(SCRATCH.buffer)[0]!;
}

const body = (req: WriteRequestInput): Uint8Array => snappy.compress(encodeWriteRequest(req));
const lbl = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));

let server: Server;
let url: string;
let store: RecordingStore;
let registry: Registry;

beforeAll(async () => {
  const app = express();
  // Each test swaps in a fresh store; the router reads it through this indirection.
  const storage: Pick<Storage, 'appender'> = { appender: () => store.appender() };
  registry = new Registry();
  app.use(
    createRemoteWriteRouter({
      storage,
      logger: pino({ level: 'silent' }),
      registry,
      maxBodyBytes: 64 * 1024,
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${REMOTE_WRITE_PATH}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  store = new RecordingStore();
});

async function post(payload: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
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

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  const hit = metric.find((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  return hit?.value ?? 0;
}

describe('remote-write receiver', () => {
  it('stores valid samples unchanged and answers 204', async () => {
    const res = await post(
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
    expect(await counter('openmanager_exporter_remote_write_samples_total', { result: 'appended' })).toBe(6);
  });

  it('merges repeated entries of one series when they stay in order', async () => {
    const labels = lbl({ __name__: 'up', job: 'a' });
    const res = await post(
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
    const labels = lbl({ __name__: 'up', job: 'ooo' });
    expect(
      (await post(body({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 5000 }] }] }))).status,
    ).toBe(204);
    const before = await counter('openmanager_exporter_remote_write_samples_total', {
      result: 'out_of_order',
    });
    const dupBefore = await counter('openmanager_exporter_remote_write_samples_total', {
      result: 'duplicate',
    });
    const res = await post(
      body({
        timeseries: [
          { labels, samples: [{ value: 2, timestamp: 4000 }] },
          { labels: lbl({ __name__: 'up', job: 'ooo', x: '1' }), samples: [{ value: 1, timestamp: 1 }] },
        ],
      }),
    );
    expect(res.status).toBe(204);
    expect(await counter('openmanager_exporter_remote_write_samples_total', { result: 'out_of_order' })).toBe(
      before + 1,
    );
    const res2 = await post(body({ timeseries: [{ labels, samples: [{ value: 2, timestamp: 5000 }] }] }));
    expect(res2.status).toBe(204);
    expect(await counter('openmanager_exporter_remote_write_samples_total', { result: 'duplicate' })).toBe(
      dupBefore + 1,
    );
  });

  const valid = { labels: lbl({ __name__: 'ok_metric', a: 'b' }), samples: [{ value: 1, timestamp: 1000 }] };
  const badCases: {
    name: string;
    payload: () => Uint8Array;
    headers?: Record<string, string>;
    status: number;
    code: string;
    message: RegExp;
  }[] = [
    {
      name: 'empty body',
      payload: () => new Uint8Array(0),
      status: 400,
      code: 'RW_EMPTY_BODY',
      message: /empty body/,
    },
    {
      name: 'not snappy',
      payload: () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]),
      status: 400,
      code: 'RW_BAD_SNAPPY',
      message: /snappy/,
    },
    {
      name: 'uncompressed protobuf sent as snappy',
      payload: () => encodeWriteRequest({ timeseries: [valid] }),
      status: 400,
      code: 'RW_BAD_SNAPPY',
      message: /snappy/,
    },
    {
      name: 'snappy around garbage protobuf',
      payload: () => snappy.compress(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])),
      status: 400,
      code: 'RW_BAD_PROTOBUF',
      message: /WriteRequest/,
    },
    {
      name: 'missing __name__ (after a valid series)',
      payload: () =>
        body({ timeseries: [valid, { labels: lbl({ job: 'x' }), samples: [{ value: 1, timestamp: 1 }] }] }),
      status: 400,
      code: 'RW_MISSING_METRIC_NAME',
      message: /series #1 .*missing __name__/,
    },
    {
      name: 'empty __name__ counts as missing',
      payload: () =>
        body({
          timeseries: [{ labels: lbl({ __name__: '', job: 'x' }), samples: [{ value: 1, timestamp: 1 }] }],
        }),
      status: 400,
      code: 'RW_MISSING_METRIC_NAME',
      message: /missing __name__/,
    },
    {
      name: 'invalid metric name',
      payload: () =>
        body({ timeseries: [{ labels: lbl({ __name__: '1abc' }), samples: [{ value: 1, timestamp: 1 }] }] }),
      status: 400,
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
      status: 400,
      code: 'RW_INVALID_LABEL_NAME',
      message: /"a-b"/,
    },
    {
      name: 'label name starting with a digit',
      payload: () => body({ timeseries: [{ labels: lbl({ __name__: 'm', '0a': 'x' }), samples: [] }] }),
      status: 400,
      code: 'RW_INVALID_LABEL_NAME',
      message: /"0a"/,
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
      status: 400,
      code: 'RW_DUPLICATE_LABEL_NAME',
      message: /label a appears twice/,
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
      status: 400,
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
      status: 400,
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
      status: 400,
      code: 'RW_NON_MONOTONIC',
      message: /got 50 after 100/,
    },
    {
      name: 'timestamp beyond 2^53',
      payload: () =>
        body({
          timeseries: [{ labels: lbl({ __name__: 'm' }), samples: [{ value: 1, timestamp: 2 ** 60 }] }],
        }),
      status: 400,
      code: 'RW_BAD_TIMESTAMP',
      message: /2\^53/,
    },
    {
      name: 'gzip content encoding',
      payload: () => body({ timeseries: [valid] }),
      headers: { 'Content-Encoding': 'gzip' },
      status: 400,
      code: 'RW_UNSUPPORTED_ENCODING',
      message: /"gzip"/,
    },
    {
      name: 'remote write 2.0 message',
      payload: () => body({ timeseries: [valid] }),
      headers: { 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' },
      status: 415,
      code: 'RW_UNSUPPORTED_PROTOCOL',
      message: /io\.prometheus\.write\.v2\.Request/,
    },
    {
      name: 'body over the limit',
      payload: () => new Uint8Array(64 * 1024 + 1),
      status: 413,
      code: 'RW_BODY_TOO_LARGE',
      message: /exceeds the limit/,
    },
  ];

  it.each(badCases)(
    'rejects $name with $status $code and appends nothing',
    async ({ payload, headers, status, code, message }) => {
      const before = await counter('openmanager_exporter_remote_write_requests_total', {
        code: String(status),
      });
      const res = await post(payload(), headers);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text.startsWith(`${code}: `)).toBe(true);
      expect(text).toMatch(message);
      expect(store.appendCalls).toBe(0);
      expect(store.samples.size).toBe(0);
      expect(
        await counter('openmanager_exporter_remote_write_requests_total', { code: String(status) }),
      ).toBe(before + 1);
    },
  );

  it('counts exemplars and native histograms it does not store', async () => {
    const before = await counter('openmanager_exporter_remote_write_ignored_total', { kind: 'exemplar' });
    // An exemplar is an opaque submessage to this receiver; field 3 of TimeSeries carries it.
    const withExemplar = encodeWriteRequest({ timeseries: [valid] });
    const exemplar = new Uint8Array([0x1a, 0x02, 0x11, 0x00]);
    // Append the exemplar field inside the TimeSeries: rebuild the outer length prefix.
    const inner = withExemplar.subarray(2);
    const series = new Uint8Array([...inner, ...exemplar]);
    const payload = new Uint8Array([0x0a, series.length, ...series]);
    const res = await post(snappy.compress(payload));
    expect(res.status).toBe(204);
    expect(await counter('openmanager_exporter_remote_write_ignored_total', { kind: 'exemplar' })).toBe(
      before + 1,
    );
    expect(store.samples.size).toBe(1);
  });
});
