import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import express from 'express';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../tsdb/storage.js';
import { MemoryQueryable } from '../../promql/promqltest/memory-queryable.js';
import { createPrometheusApiRouter, type PrometheusApiOptions } from './router.js';

const run = promisify(execFile);
const MOUNT = '/api/prometheus/api/v1';

/** startApi serves the router in-process on an ephemeral 127.0.0.1 port. */
async function startApi(
  opts: Omit<PrometheusApiOptions, 'logger'>,
): Promise<{ base: string; close: () => Promise<void> }> {
  const app = express();
  app.use(MOUNT, createPrometheusApiRouter({ logger: pino({ level: 'silent' }), ...opts }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}${MOUNT}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function form(body: Record<string, string | string[]>): {
  method: string;
  headers: Record<string, string>;
  body: string;
} {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: p.toString(),
  };
}

const db = new MemoryQueryable();
// 20 minutes of two counters and a gauge at 15 s, starting at t = 1000 s.
const T0 = 1_000_000;
for (let i = 0; i <= 80; i++) {
  const t = T0 + i * 15_000;
  db.add({ __name__: 'node_requests_total', job: 'node', instance: 'a' }, t, i * 30);
  db.add({ __name__: 'node_requests_total', job: 'node', instance: 'b' }, t, i * 60);
  db.add({ __name__: 'node_temp_celsius', job: 'node', instance: 'a' }, t, 40 + (i % 4));
}

const registry = new Registry();
let api: { base: string; close: () => Promise<void> };
const metadata = (): Record<string, { type: string; help: string; unit: string }[]> => ({
  node_requests_total: [{ type: 'counter', help: 'Requests served.', unit: '' }],
  node_temp_celsius: [{ type: 'gauge', help: 'Temperature.', unit: 'celsius' }],
});

beforeAll(async () => {
  api = await startApi({ queryable: db, registry, metadata, cacheOptions: { now: () => T0 + 3_600_000 } });
});
afterAll(async () => {
  await api.close();
});

interface Case {
  name: string;
  path: string;
  init?: RequestInit;
  status: number;
  body: unknown;
}

const cases: Case[] = [
  {
    name: 'Save & test: 1+1 at time=4',
    path: '/query?query=1%2B1&time=4',
    status: 200,
    body: { status: 'success', data: { resultType: 'scalar', result: [4, '2'] } },
  },
  {
    name: 'instant vector query (POST form, RFC 3339 time)',
    path: '/query',
    init: form({ query: 'node_temp_celsius', time: '1970-01-01T00:16:40Z' }),
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { __name__: 'node_temp_celsius', job: 'node', instance: 'a' }, value: [1000, '40'] },
        ],
      },
    },
  },
  {
    name: 'form-POST query_range with a float step, as Grafana sends it',
    path: '/query_range',
    init: form({
      query: 'sum by (job) (rate(node_requests_total[1m]))',
      start: '1060',
      end: '1180.000',
      step: '60.0',
    }),
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { job: 'node' },
            values: [
              [1060, '6'],
              [1120, '6'],
              [1180, '6'],
            ],
          },
        ],
      },
    },
  },
  {
    name: 'GET query_range with a duration step',
    path: '/query_range?query=node_temp_celsius&start=1000&end=1030&step=15s',
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { __name__: 'node_temp_celsius', job: 'node', instance: 'a' },
            values: [
              [1000, '40'],
              [1015, '41'],
              [1030, '42'],
            ],
          },
        ],
      },
    },
  },
  {
    name: 'scalar range query',
    path: '/query_range?query=time()&start=0&end=1&step=0.5',
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: {},
            values: [
              [0, '0'],
              [0.5, '0.5'],
              [1, '1'],
            ],
          },
        ],
      },
    },
  },
  {
    name: 'labels with match[], start and end',
    path: '/labels',
    init: form({ 'match[]': 'node_temp_celsius', start: '1000', end: '2000' }),
    status: 200,
    body: { status: 'success', data: ['__name__', 'instance', 'job'] },
  },
  {
    name: 'labels without match[]',
    path: '/labels',
    status: 200,
    body: { status: 'success', data: ['__name__', 'instance', 'job'] },
  },
  {
    name: 'series with two match[] selectors',
    path: '/series?match[]=node_temp_celsius&match[]=node_requests_total%7Binstance%3D%22b%22%7D&start=1000&end=2000',
    status: 200,
    body: {
      status: 'success',
      data: [
        { __name__: 'node_requests_total', instance: 'b', job: 'node' },
        { __name__: 'node_temp_celsius', instance: 'a', job: 'node' },
      ],
    },
  },
  {
    name: 'series outside the data window',
    path: '/series?match[]=node_temp_celsius&start=5000&end=6000',
    status: 200,
    body: { status: 'success', data: [] },
  },
  {
    name: 'label values',
    path: '/label/instance/values',
    status: 200,
    body: { status: 'success', data: ['a', 'b'] },
  },
  {
    name: 'metric names through __name__ values with match[]',
    path: '/label/__name__/values?match[]=%7Bjob%3D%22node%22%7D&start=1000&end=2000',
    status: 200,
    body: { status: 'success', data: ['node_requests_total', 'node_temp_celsius'] },
  },
  {
    name: 'metadata',
    path: '/metadata',
    status: 200,
    body: {
      status: 'success',
      data: {
        node_requests_total: [{ type: 'counter', help: 'Requests served.', unit: '' }],
        node_temp_celsius: [{ type: 'gauge', help: 'Temperature.', unit: 'celsius' }],
      },
    },
  },
  {
    name: 'metadata for one metric',
    path: '/metadata?metric=node_temp_celsius',
    status: 200,
    body: {
      status: 'success',
      data: { node_temp_celsius: [{ type: 'gauge', help: 'Temperature.', unit: 'celsius' }] },
    },
  },
  {
    name: 'buildinfo (2.x, no features)',
    path: '/status/buildinfo',
    status: 200,
    body: {
      status: 'success',
      data: {
        version: '2.42.0',
        revision: 'openmanager',
        branch: 'HEAD',
        buildUser: 'openmanager',
        buildDate: '20260101-00:00:00',
        goVersion: 'go1.20',
      },
    },
  },
  {
    name: 'query_exemplars',
    path: '/query_exemplars?query=node_temp_celsius&start=0&end=10',
    status: 200,
    body: { status: 'success', data: [] },
  },
  { name: 'rules', path: '/rules', status: 200, body: { status: 'success', data: { groups: [] } } },
  { name: 'alerts', path: '/alerts', status: 200, body: { status: 'success', data: { alerts: [] } } },
  {
    name: 'format_query',
    path: '/format_query?query=sum(rate(x%7Bb%3D%22c%22%7D%5B5m%5D))by(job)',
    status: 200,
    body: { status: 'success', data: 'sum by (job) (rate(x{b="c"}[5m]))' },
  },
  {
    name: 'parse error',
    path: '/query?query=sum(rate(x))',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error:
        'invalid parameter "query": 1:10: parse error: expected type range vector in call to function "rate", got instant vector',
    },
  },
  {
    name: 'missing query',
    path: '/query',
    status: 400,
    body: { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": no query provided' },
  },
  {
    name: 'bad time',
    path: '/query?query=1&time=yesterday',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "time": cannot parse "yesterday" to a valid timestamp',
    },
  },
  {
    name: 'form body over the limit: 413 in the envelope',
    path: '/query',
    init: form({ query: 'x'.repeat(1_100_000) }),
    status: 413,
    body: { status: 'error', errorType: 'bad_data', error: 'request body exceeds 1048576 bytes' },
  },
  {
    name: 'unsupported body encoding: 415 in the envelope',
    path: '/query',
    init: {
      ...form({ query: '1' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'br2' },
    },
    status: 415,
    body: { status: 'error', errorType: 'bad_data', error: 'unsupported content encoding "br2"' },
  },
  {
    name: 'a broken %-escape in the path: 400 in the envelope',
    path: '/label/%ZZ/values',
    status: 400,
    body: { status: 'error', errorType: 'bad_data', error: "Failed to decode param '%ZZ'" },
  },
  {
    name: 'NaN time',
    path: '/query?query=1&time=NaN',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "time": cannot parse "NaN" to a valid timestamp',
    },
  },
  {
    // Far-future times are clamped to the maximum time: an empty answer, not a step loop that never ends.
    name: 'query_range of a matching selector at start=end=1e20',
    path: '/query_range?query=node_temp_celsius&start=1e20&end=1e20&step=15',
    status: 200,
    body: { status: 'success', data: { resultType: 'matrix', result: [] } },
  },
  {
    name: 'series over the whole representable range',
    path: '/series?match[]=node_temp_celsius&start=-1e20&end=1e20',
    status: 200,
    body: { status: 'success', data: [{ __name__: 'node_temp_celsius', job: 'node', instance: 'a' }] },
  },
  {
    name: 'missing start',
    path: '/query_range?query=1&end=10&step=1',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "start": cannot parse "" to a valid timestamp',
    },
  },
  {
    name: 'end before start',
    path: '/query_range?query=1&start=10&end=5&step=1',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "end": end timestamp must not be before start time',
    },
  },
  {
    name: 'zero step',
    path: '/query_range?query=1&start=0&end=5&step=0',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error:
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
    },
  },
  {
    name: 'bad step',
    path: '/query_range?query=1&start=0&end=5&step=often',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "step": cannot parse "often" to a valid duration',
    },
  },
  {
    name: 'more than 11,000 points',
    path: '/query_range?query=1&start=0&end=11001&step=1',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error:
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    },
  },
  {
    name: 'range vector in a range query',
    path: '/query_range?query=node_temp_celsius%5B1m%5D&start=0&end=5&step=1',
    status: 400,
    body: {
      status: 'error',
      errorType: 'bad_data',
      error:
        'invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    },
  },
  {
    name: 'matching error is an execution error',
    path: '/query?query=node_requests_total%20%2B%20on()%20node_requests_total&time=1100',
    status: 422,
    body: {
      status: 'error',
      errorType: 'execution',
      error:
        'found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="node_requests_total", instance="b", job="node"}, {__name__="node_requests_total", instance="a", job="node"}];many-to-many matching not allowed: matching labels must be unique on one side',
    },
  },
  {
    name: 'series without match[]',
    path: '/series',
    status: 400,
    body: { status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' },
  },
  {
    name: 'invalid label name',
    path: '/label/not-a-label/values',
    status: 400,
    body: { status: 'error', errorType: 'bad_data', error: 'invalid label name: "not-a-label"' },
  },
  {
    name: 'unknown endpoint',
    path: '/nope',
    status: 404,
    body: { status: 'error', errorType: 'not_found', error: 'not found' },
  },
];

describe('Prometheus API v1 router', () => {
  it.each(cases)('$name', async ({ path, init, status, body }) => {
    const res = await fetch(api.base + path, init);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual(body);
  });

  it.each([
    [
      'too many samples → 422 execution',
      { engineOptions: { maxSamples: 10 } },
      422,
      'execution',
      'query processing would load too many samples into memory in query execution',
    ],
    [
      'timeout → 503 timeout',
      { engineOptions: { timeoutMs: -1 } },
      503,
      'timeout',
      'query timed out in query execution',
    ],
  ] as const)('%s', async (_name, extra, status, errorType, error) => {
    const other = await startApi({ queryable: db, cache: false, ...extra });
    try {
      const res = await fetch(
        `${other.base}/query_range?query=node_requests_total&start=1000&end=1200&step=15`,
      );
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ status: 'error', errorType, error });
    } finally {
      await other.close();
    }
  });

  it('hides internal errors behind a generic message', async () => {
    const broken: Queryable = { querier: () => Promise.reject(new Error('disk on fire at /var/secret')) };
    const other = await startApi({ queryable: broken, cache: false });
    try {
      const res = await fetch(`${other.base}/query?query=up&time=1`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({
        status: 'error',
        errorType: 'internal',
        error: 'internal server error',
      });
    } finally {
      await other.close();
    }
  });

  it('serves a shifted dashboard refresh from cached windows and exports the hit ratio', async () => {
    const q = (start: number): string =>
      `/query_range?query=rate(node_requests_total%5B1m%5D)&start=${start}&end=${start + 600}&step=15`;
    const first = (await (await fetch(api.base + q(1000))).json()) as unknown;
    const second = (await (await fetch(api.base + q(1015))).json()) as unknown;
    expect(first).toMatchObject({ status: 'success' });
    expect(second).toMatchObject({ status: 'success' });
    const metrics = await registry.getSingleMetricAsString('openmanager_exporter_query_cache_hit_ratio');
    const ratio = Number(/^openmanager_exporter_query_cache_hit_ratio (\S+)$/m.exec(metrics)?.[1]);
    expect(ratio).toBeGreaterThan(0);
    // The shifted query equals an uncached evaluation of the same range.
    const uncached = await startApi({ queryable: db, cache: false });
    try {
      expect(await (await fetch(uncached.base + q(1015))).json()).toEqual(second);
    } finally {
      await uncached.close();
    }
  });

  it.each([
    ['instant', ['query', 'instant', '--time=1100', 'sum(node_requests_total)'], /=> 540 @\[1100\]/],
    [
      'range',
      ['query', 'range', '--start=1000', '--end=1030', '--step=15s', 'node_temp_celsius'],
      /40 @\[1000\][\s\S]*41 @\[1015\][\s\S]*42 @\[1030\]/,
    ],
  ])('promtool query %s works against the API', async (_kind, args, expected) => {
    const url = api.base.slice(0, -'/api/v1'.length);
    const [cmd, sub, ...rest] = args as [string, string, ...string[]];
    const { stdout } = await run('/usr/bin/promtool', [cmd, sub, url, ...rest]).catch((e: unknown) => {
      throw new Error(`promtool (Debian's prometheus package) must be installed: ${String(e)}`);
    });
    expect(stdout).toMatch(expected);
  });
});

describe('familiesMetadata', () => {
  it('keys counters by their sample name and keeps units', async () => {
    const { familiesMetadata } = await import('./metadata.js');
    const provider = familiesMetadata([
      { name: 'openmanager_http_requests', help: 'HTTP requests.', type: 'counter', unit: '' },
      { name: 'openmanager_memory_used_bytes', help: 'Memory used.', type: 'gauge', unit: 'bytes' },
    ]);
    expect(await provider()).toEqual({
      openmanager_http_requests_total: [{ type: 'counter', help: 'HTTP requests.', unit: '' }],
      openmanager_memory_used_bytes: [{ type: 'gauge', help: 'Memory used.', unit: 'bytes' }],
    });
    expect(await provider('openmanager_memory_used_bytes')).toEqual({
      openmanager_memory_used_bytes: [{ type: 'gauge', help: 'Memory used.', unit: 'bytes' }],
    });
    expect(await provider('nope')).toEqual({});
  });
});
