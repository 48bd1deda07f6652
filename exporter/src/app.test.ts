/* eslint-disable @typescript-eslint/no-unsafe-assignment -- vitest's asymmetric matchers (expect.any…) are typed any */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, promtoolCheckMetrics, type ParsedFamily } from '../test/exposition-parser.js';
import { createApp, type App, type ScenarioEvent } from './app.js';
import { createSelfRegistry } from './metrics/self-metrics.js';
import { DEFAULT_OPTIONS, type ExporterOptions } from './options.js';
import { Fleet } from './simulator/index.js';
import { ManualClock } from './util/clock.js';
import { silentLogger } from './util/logger.js';
import { SEED_FAMILIES } from '../test/seed-families.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const TOKEN = 'test-token';

interface Harness {
  app: App;
  clock: ManualClock;
  dir: string;
  events: ScenarioEvent[];
}

async function harness(
  opts: Partial<ExporterOptions> = {},
  dir = mkdtempSync(join(tmpdir(), 'om-app-')),
): Promise<Harness> {
  const options: ExporterOptions = { ...DEFAULT_OPTIONS, port: 0, dataDir: dir, apiToken: TOKEN, ...opts };
  const clock = new ManualClock(T0);
  // A recent epoch keeps the first frame cheap (the model replays from the last boot, at most the epoch).
  const fleet = new Fleet({ seed: 7, scenarioRatePerHour: 0, epoch: T0 - 3_600_000 });
  const app = createApp({
    options,
    logger: silentLogger(),
    registry: createSelfRegistry(),
    fleet,
    clock,
    wallClock: clock,
  });
  const events: ScenarioEvent[] = [];
  app.onScenario((e) => events.push(e));
  await app.start({ schedule: false });
  return { app, clock, dir, events };
}

async function get(h: Harness, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(h.app.url + path, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function send(h: Harness, method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(h.app.url + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** rawGzip fetches with Accept-Encoding: gzip and returns the undecoded bytes (fetch would decode them). */
function rawGzip(url: string, accept: string): Promise<{ status: number; encoding: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { 'accept-encoding': 'gzip', accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          encoding: String(res.headers['content-encoding']),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function checkRanges(fams: Map<string, ParsedFamily>): void {
  for (const f of fams.values()) {
    if (!f.name.startsWith('openmanager_') || f.name.startsWith('openmanager_exporter_')) continue;
    for (const s of f.samples) {
      expect(Number.isFinite(s.value), `${s.name} ${JSON.stringify(s.labels)}`).toBe(true);
      expect(s.value, s.name).toBeGreaterThanOrEqual(0);
      if (f.name.endsWith('_percent')) expect(s.value, s.name).toBeLessThanOrEqual(100);
      if (f.name === 'openmanager_service_up' || f.name === 'openmanager_scenario_active') {
        expect([0, 1]).toContain(s.value);
      }
    }
  }
}

describe('app over HTTP (in-process)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h.app.stop();
    rmSync(h.dir, { recursive: true, force: true });
  });

  it('is live at once and ready only after the first tick', async () => {
    expect((await get(h, '/healthz')).status).toBe(200);
    const before = await get(h, '/readyz');
    expect(before.status).toBe(503);
    expect(JSON.parse(before.text)).toMatchObject({ status: 'not_ready', checks: { tick: { ok: false } } });
    const m = await get(h, '/api/prometheus/metrics');
    expect(m.status).toBe(503);
    expect(JSON.parse(m.text)).toMatchObject({ error: { code: 'OM_NOT_READY' } });
    // The exporter's own metrics answer while it starts: not ready, no fleet families yet.
    const self = await get(h, '/metrics');
    expect(self.status).toBe(200);
    expect(self.text).toMatch(/^openmanager_exporter_ready 0$/m);
    expect(self.text).toMatch(
      /^openmanager_exporter_build_info\{version="[^"]+",revision="[^"]+",nodeversion="v[^"]+"\} 1$/m,
    );
    expect(self.text).not.toContain('openmanager_cpu_usage_percent');
    await h.app.tick();
    expect((await get(h, '/readyz')).status).toBe(200);
    expect((await get(h, '/metrics')).text).toMatch(/^openmanager_exporter_ready 1$/m);
  });

  it.each([
    ['/api/prometheus/metrics', false],
    ['/metrics', true],
    ['/probe?target=web-01', false],
  ])(
    '%s: every seed family with HELP/TYPE, values in range, promtool silent, OpenMetrics valid',
    async (path, self) => {
      const text = await get(h, path);
      expect(text.status).toBe(200);
      expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const fams = parseExposition(text.text, 'text');
      for (const name of SEED_FAMILIES) expect(fams.has(name), name).toBe(true);
      expect(fams.has('process_cpu_user_seconds_total')).toBe(self);
      expect(fams.has('openmanager_exporter_scrapes_total')).toBe(self);
      checkRanges(fams);
      expect(promtoolCheckMetrics(text.text)).toEqual({ status: 0, output: '' });

      const om = await get(h, path, {
        accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5',
      });
      expect(om.headers.get('content-type')).toBe(
        'application/openmetrics-text; version=1.0.0; charset=utf-8',
      );
      const omFams = parseExposition(om.text, 'openmetrics');
      expect(omFams.get('openmanager_http_requests')?.type).toBe('counter');
      expect(omFams.get('openmanager_memory_used_bytes')?.unit).toBe('bytes');

      for (const [accept, format] of [
        ['text/plain', 'text'],
        ['application/openmetrics-text', 'openmetrics'],
      ] as const) {
        const gz = await rawGzip(h.app.url + path, accept);
        expect(gz.encoding).toBe('gzip');
        const plain = gunzipSync(gz.body).toString();
        expect(parseExposition(plain, format).size).toBe(format === 'text' ? fams.size : omFams.size);
      }
    },
  );

  it('/probe checks its target: 400 missing or malformed, 404 unknown', async () => {
    for (const [path, status, code] of [
      ['/probe', 400, 'OM_BAD_PARAM'],
      ['/probe?target=', 400, 'OM_BAD_PARAM'],
      ['/probe?target=a&target=b', 400, 'OM_BAD_PARAM'],
      ['/probe?target=%3Cscript%3E', 400, 'OM_BAD_PARAM'],
      ['/probe?target=nope-99', 404, 'OM_UNKNOWN_SERVER'],
    ] as const) {
      const r = await get(h, path);
      expect([path, r.status, JSON.parse(r.text)]).toMatchObject([path, status, { error: { code } }]);
    }
  });

  it.each<[string, string, RequestInit, number]>([
    ['a broken %-escape in the path', '/api/servers/%ZZ', {}, 400],
    ['a lone % in the path', '/api/servers/%', { method: 'DELETE' }, 400],
    [
      'a JSON body in a charset it cannot be read in',
      '/api/scenarios',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=latin1', authorization: `Bearer ${TOKEN}` },
        body: '{}',
      },
      415,
    ],
    [
      'a body that claims gzip but is not',
      '/api/scenarios',
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          authorization: `Bearer ${TOKEN}`,
        },
        body: 'not gzip',
      },
      400,
    ],
  ])('a request it cannot read is a client error, not a 500: %s', async (_name, path, init, status) => {
    const res = await fetch(h.app.url + path, init);
    expect(res.status).toBe(status);
    const code = status === 415 ? 'OM_UNSUPPORTED_MEDIA' : 'OM_BAD_REQUEST';
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('/api/sd lists one probe target group per server', async () => {
    const r = await get(h, '/api/sd');
    const groups = JSON.parse(r.text) as { targets: string[]; labels: Record<string, string> }[];
    expect(groups).toHaveLength(20);
    expect(groups[0]).toEqual({
      targets: [new URL(h.app.url).host],
      labels: {
        __metrics_path__: '/probe',
        __param_target: 'lb-01',
        instance: 'lb-01',
        server: 'lb-01',
        role: 'lb',
        zone: expect.any(String),
      },
    });
  });

  it('/api/unified-metrics has exactly the seed shape', async () => {
    const body = JSON.parse((await get(h, '/api/unified-metrics')).text) as {
      servers: Record<string, unknown>[];
      summary: Record<string, unknown>;
    };
    expect(Object.keys(body).sort()).toEqual(['servers', 'summary']);
    expect(body.servers).toHaveLength(20);
    for (const s of body.servers) {
      expect(Object.keys(s).sort()).toEqual(['alerts', 'cpu', 'disk', 'id', 'memory', 'network', 'status']);
      expect(Object.keys(s.network as object).sort()).toEqual(['in', 'out']);
    }
    expect(Object.keys(body.summary).sort()).toEqual(
      ['avg_cpu', 'avg_memory', 'critical', 'healthy', 'total_servers', 'warning'].sort(),
    );
    expect(body.summary.total_servers).toBe(20);
  });

  it('/api/servers and /api/servers/:id', async () => {
    const all = JSON.parse((await get(h, '/api/servers')).text) as {
      servers: { id: string; status: string }[];
    };
    expect(all.servers.map((s) => s.id)).toContain('db-01');
    expect(all.servers.every((s) => ['healthy', 'warning', 'critical', 'down'].includes(s.status))).toBe(
      true,
    );
    const one = await get(h, '/api/servers/db-01');
    expect(JSON.parse(one.text)).toMatchObject({ server: { id: 'db-01', role: 'db', up: true } });
    const missing = await get(h, '/api/servers/zzz');
    expect(missing.status).toBe(404);
    expect((JSON.parse(missing.text) as { error: { message: string } }).error.message).toMatch(
      /GET \/api\/servers lists/,
    );
  });

  it.each<[string, string, unknown, string | null, number, string, RegExp?]>([
    ['no token', 'POST', { kind: 'cpu_spike', server: 'web-01' }, null, 401, 'OM_UNAUTHORIZED'],
    ['wrong token', 'POST', { kind: 'cpu_spike', server: 'web-01' }, 'nope', 403, 'OM_FORBIDDEN'],
    ['bad kind', 'POST', { kind: 'meteor', server: 'web-01' }, TOKEN, 400, 'OM_SCENARIO_INVALID', /kind/],
    [
      'bad intensity',
      'POST',
      { kind: 'cpu_spike', server: 'web-01', intensity: 2 },
      TOKEN,
      400,
      'OM_SCENARIO_INVALID',
      /intensity/,
    ],
    [
      'bad duration',
      'POST',
      { kind: 'cpu_spike', server: 'web-01', durationSeconds: -1 },
      TOKEN,
      400,
      'OM_SCENARIO_INVALID',
      /durationSeconds/,
    ],
    [
      'unknown server',
      'POST',
      { kind: 'cpu_spike', server: 'nope' },
      TOKEN,
      404,
      'OM_UNKNOWN_SERVER',
      /nope/,
    ],
    ['bad JSON', 'POST', '{"kind":', TOKEN, 400, 'OM_BAD_JSON'],
    ['too large', 'POST', JSON.stringify({ pad: 'x'.repeat(2_000_000) }), TOKEN, 413, 'OM_BODY_TOO_LARGE'],
    ['unknown scenario', 'DELETE', undefined, TOKEN, 404, 'OM_SCENARIO_NOT_FOUND'],
  ])('scenario API refuses: %s', async (_name, method, body, token, status, code, message) => {
    const path = method === 'DELETE' ? '/api/scenarios/inj-999' : '/api/scenarios';
    const r = await send(h, method, path, body, token);
    expect(r.status).toBe(status);
    expect(r.json).toEqual({ error: { code, message: expect.any(String) } });
    if (message) expect((r.json.error as { message: string }).message).toMatch(message);
  });

  it('injects server_down: the probe answers 503, the combined body omits it but for server_up 0, events and history record it', async () => {
    const r = await send(h, 'POST', '/api/scenarios', {
      kind: 'server_down',
      server: 'web-02',
      durationSeconds: 600,
    });
    expect(r.status).toBe(201);
    const scenario = r.json.scenario as { id: string; kind: string; server: string };
    expect(scenario).toMatchObject({ kind: 'server_down', server: 'web-02' });
    h.clock.advance(15_000);
    await h.app.tick();
    const probe = await get(h, '/probe?target=web-02');
    expect(probe.status).toBe(503);
    expect(JSON.parse(probe.text)).toMatchObject({ error: { code: 'OM_SERVER_DOWN' } });
    expect((await get(h, '/probe?target=web-01')).status).toBe(200);
    const combined = parseExposition((await get(h, '/api/prometheus/metrics')).text, 'text');
    const servers = new Set(
      combined.get('openmanager_cpu_usage_percent')?.samples.map((s) => s.labels.server),
    );
    expect(servers.has('web-02')).toBe(false);
    expect(servers.size).toBe(19);
    // Its up series stays, at 0, and its info series still names its role.
    const up = combined.get('openmanager_server_up')?.samples ?? [];
    expect(up.find((s) => s.labels.server === 'web-02')?.value).toBe(0);
    expect(up.filter((s) => s.value === 1)).toHaveLength(19);
    expect(
      combined.get('openmanager_server_info')?.samples.find((s) => s.labels.server === 'web-02')?.labels,
    ).toMatchObject({ role: 'web' });
    const list = JSON.parse((await get(h, '/api/scenarios')).text) as {
      active: { id: string }[];
      history: { id: string }[];
    };
    expect(list.active.map((s) => s.id)).toContain(scenario.id);
    expect(list.history.map((s) => s.id)).toContain(scenario.id);
    expect(h.events.map((e) => [e.type, e.scenario.id])).toEqual([['started', scenario.id]]);

    const del = await send(h, 'DELETE', `/api/scenarios/${scenario.id}`);
    expect(del.status).toBe(200);
    expect(del.json.scenario).toMatchObject({ id: scenario.id, stoppedAt: expect.any(Number) });
    h.clock.advance(15_000);
    await h.app.tick();
    expect((await get(h, '/probe?target=web-02')).status).toBe(200);
    expect(h.events.map((e) => e.type)).toEqual(['started', 'stopped']);
  });

  it('concurrent scrapes of one frame render each body once', async () => {
    h.clock.advance(15_000);
    await h.app.tick();
    const before = { ...h.app.exposition.renders };
    await Promise.all(
      Array.from({ length: 20 }, () => [
        rawGzip(h.app.url + '/metrics', 'text/plain'),
        get(h, '/api/prometheus/metrics'),
        get(h, '/probe?target=db-01'),
      ]).flat(),
    );
    const after = h.app.exposition.renders;
    // text: the combined body was rendered by the tick, the probe body once. gzip: fetch asks for gzip too,
    // so the combined body (shared by /metrics and /api/prometheus/metrics) and the probe body, once each.
    expect([after.text - before.text, after.gzip - before.gzip]).toEqual([1, 2]);
  });

  it('serves the landing page, JSON 404s and keeps frame-listener failures isolated', async () => {
    const landing = await get(h, '/');
    expect(landing.headers.get('content-type')).toMatch(/text\/html/);
    for (const path of ['/metrics', '/api/sd', '/api/unified-metrics', '/healthz', '/readyz']) {
      expect(landing.text).toContain(`href="${path}"`);
    }
    const nf = await get(h, '/nope');
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.text)).toEqual({
      error: { code: 'OM_NOT_FOUND', message: expect.stringContaining('GET /nope') },
    });

    const seen: number[] = [];
    const offA = h.app.onFrame('broken', () => {
      throw new Error('listener bug');
    });
    const offB = h.app.onFrame('ok', (f) => void seen.push(f.t));
    h.clock.advance(15_000);
    await h.app.tick();
    expect(seen).toEqual([h.app.latestFrame()?.t]);
    const m = await get(h, '/metrics');
    expect(m.text).toContain('openmanager_exporter_frame_listener_failures_total{listener="broken"} 1');
    offA();
    offB();
  });

  it('catches up missed tick slots, each frame on the tick grid', async () => {
    const seen: number[] = [];
    const off = h.app.onFrame('grid', (f) => void seen.push(f.t));
    const last = h.app.latestFrame()?.t ?? 0;
    h.clock.set(last + 3 * 15_000 + 7_000);
    await h.app.tick();
    expect(seen).toEqual([last + 15_000, last + 30_000, last + 45_000]);
    off();
  });

  it('mounts routers added after construction before the 404 handler', async () => {
    const { Router } = await import('express');
    const r = Router();
    r.get('/hello', (_req, res) => void res.json({ hi: true }));
    h.app.use('/ext', r, [{ method: 'GET', path: '/ext/hello', description: 'test' }]);
    expect(JSON.parse((await get(h, '/ext/hello')).text)).toEqual({ hi: true });
    expect((await get(h, '/')).text).toContain('href="/ext/hello"');
  });
});

describe('app lifecycle', () => {
  it('refuses mutations when no token is configured, saying how to set one', async () => {
    const h = await harness({ apiToken: undefined });
    try {
      const r = await send(h, 'POST', '/api/scenarios', { kind: 'cpu_spike', server: 'web-01' }, 'anything');
      expect(r.status).toBe(403);
      expect(r.json.error).toEqual({
        code: 'OM_MUTATIONS_DISABLED',
        message: expect.stringMatching(/API_TOKEN=/),
      });
    } finally {
      await h.app.stop();
      rmSync(h.dir, { recursive: true, force: true });
    }
  });

  it('rate-limits mutations per client: 429 with Retry-After after the limit, counted by route', async () => {
    const h = await harness({ rateLimitPerMinute: 2 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await send(h, 'DELETE', `/api/scenarios/inj-${i}`, undefined, 'wrong')).status);
      expect(statuses).toEqual([403, 403, 429]);
      const res = await fetch(h.app.url + '/api/scenarios', { method: 'POST' });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.json()).toEqual({
        error: { code: 'OM_RATE_LIMITED', message: expect.stringMatching(/RATE_LIMIT_PER_MINUTE/) },
      });
      // Reads are not limited.
      expect((await get(h, '/api/scenarios')).status).toBe(200);
      await h.app.tick();
      expect((await get(h, '/metrics')).text).toMatch(
        /^openmanager_exporter_rate_limited_total\{route="scenarios"\} 2$/m,
      );
    } finally {
      await h.app.stop();
      rmSync(h.dir, { recursive: true, force: true });
    }
  });

  it.each<[string, string[], string | undefined, string | null]>([
    [
      'an allowed origin gets CORS headers',
      ['http://grafana.example:3000'],
      'http://grafana.example:3000',
      'http://grafana.example:3000',
    ],
    ['another origin gets none', ['http://grafana.example:3000'], 'http://evil.example', null],
    ['an empty allow-list sends none', [], 'http://grafana.example:3000', null],
    ['no Origin header, no CORS headers', ['http://grafana.example:3000'], undefined, null],
  ])('CORS: %s; nosniff everywhere', async (_name, allowedOrigins, origin, want) => {
    const h = await harness({ allowedOrigins });
    try {
      for (const path of ['/', '/api/servers', '/metrics', '/api/prometheus/api/v1/labels', '/nope']) {
        const r = await get(h, path, origin === undefined ? {} : { origin });
        expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(r.headers.get('access-control-allow-origin'), path).toBe(want);
      }
      const pre = await fetch(h.app.url + '/api/scenarios', {
        method: 'OPTIONS',
        headers: {
          ...(origin === undefined ? {} : { origin }),
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(pre.headers.get('access-control-allow-origin')).toBe(want);
      if (want !== null) expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    } finally {
      await h.app.stop();
      rmSync(h.dir, { recursive: true, force: true });
    }
  });

  it('/api/scenarios returns the newest `limit` scenarios of any window and refuses a bad limit', async () => {
    const h = await harness();
    try {
      for (const [path, status] of [
        ['/api/scenarios?limit=0', 400],
        ['/api/scenarios?limit=5001', 400],
        ['/api/scenarios?limit=1.5', 400],
        ['/api/scenarios?limit=1&limit=2', 400],
        ['/api/scenarios?since=-1e20', 200],
        ['/api/scenarios?since=0&limit=5000', 200],
      ] as const) {
        const r = await get(h, path);
        expect([path, r.status]).toEqual([path, status]);
        if (status === 400)
          expect(JSON.parse(r.text)).toEqual({
            error: { code: 'OM_BAD_PARAM', message: expect.stringContaining('"limit"') },
          });
      }
      const ids: string[] = [];
      for (const server of ['web-01', 'web-02', 'web-03']) {
        const r = await send(h, 'POST', '/api/scenarios', { kind: 'cpu_spike', server, durationSeconds: 60 });
        ids.push((r.json.scenario as { id: string }).id);
        h.clock.advance(1_000);
      }
      const page = JSON.parse((await get(h, '/api/scenarios?since=0&limit=2')).text) as {
        history: { id: string }[];
        truncated: boolean;
      };
      expect(page.history.map((s) => s.id)).toEqual(ids.slice(1));
      expect(page.truncated).toBe(true);
    } finally {
      await h.app.stop();
      rmSync(h.dir, { recursive: true, force: true });
    }
  });

  it('injected scenarios survive a restart (journal under the data dir)', async () => {
    const h1 = await harness();
    await h1.app.tick();
    const r = await send(h1, 'POST', '/api/scenarios', {
      kind: 'memory_leak',
      server: 'db-01',
      durationSeconds: 3600,
    });
    const id = (r.json.scenario as { id: string }).id;
    await h1.app.stop();
    const h2 = await harness({}, h1.dir);
    try {
      const list = JSON.parse((await get(h2, '/api/scenarios')).text) as {
        active: { id: string; server: string }[];
      };
      expect(list.active).toContainEqual(expect.objectContaining({ id, server: 'db-01' }));
    } finally {
      await h2.app.stop();
      rmSync(h1.dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a corrupt scenario journal, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-app-'));
    writeFileSync(join(dir, 'scenarios.json'), '{"version":1,');
    const options: ExporterOptions = { ...DEFAULT_OPTIONS, port: 0, dataDir: dir };
    expect(() =>
      createApp({ options, logger: silentLogger(), registry: new Registry(), fleet: new Fleet({ seed: 1 }) }),
    ).toThrow(/scenarios\.json.*fix or remove that file/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stop() runs startup-registered stop hooks, closes keep-alive sockets and resolves', async () => {
    const h = await harness();
    await h.app.tick();
    const order: string[] = [];
    h.app.onStop('a', () => void order.push('a'));
    h.app.onStop('b', () => void order.push('b'));
    // open a keep-alive connection and leave it idle
    const agentRes = await fetch(h.app.url + '/healthz', { keepalive: true });
    await agentRes.text();
    await h.app.stop();
    expect(order).toEqual(['b', 'a']);
    expect(h.app.server.listening).toBe(false);
    rmSync(h.dir, { recursive: true, force: true });
  });

  it.each([
    [1, 15, 15_000],
    [10, 15, 1_500],
    [60, 15, 250],
    [1, 1, 1_000],
  ])(
    'speed %d with a %d s tick runs generation every %d wall ms, other jobs on wall time',
    async (speed, tick, ms) => {
      const h = await harness({ speed, tickSeconds: tick });
      try {
        const jobs = Object.fromEntries(h.app.scheduler.stats().map((j) => [j.name, j]));
        expect(jobs.generation).toMatchObject({ intervalMs: ms, priority: 'high' });
        expect(jobs.health?.intervalMs).toBe(60_000);
        expect(jobs.cleanup).toBeUndefined(); // no storage part
      } finally {
        await h.app.stop();
        rmSync(h.dir, { recursive: true, force: true });
      }
    },
  );

  it('with --job-clock simulated every job period is simulated time', async () => {
    const h = await harness({ speed: 60, tickSeconds: 15, jobClock: 'simulated' });
    try {
      const jobs = Object.fromEntries(h.app.scheduler.stats().map((j) => [j.name, j.intervalMs]));
      expect(jobs).toMatchObject({ generation: 15_000, health: 60_000 });
      expect(h.app.jobClock).toBe(h.clock);
    } finally {
      await h.app.stop();
      rmSync(h.dir, { recursive: true, force: true });
    }
  });

  it('startup tasks hold readiness until they finish', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-app-'));
    const options: ExporterOptions = { ...DEFAULT_OPTIONS, port: 0, dataDir: dir };
    const clock = new ManualClock(T0);
    const app = createApp({
      options,
      logger: silentLogger(),
      registry: new Registry(),
      fleet: new Fleet({ seed: 1, epoch: T0 - 3_600_000 }),
      clock,
      wallClock: clock,
    });
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    app.addStartupTask('backfill', () => gate);
    const starting = app.start({ schedule: false });
    for (let i = 0; i < 100 && app.url === ''; i++) await new Promise((r) => setImmediate(r));
    const r = await fetch(app.url + '/readyz');
    const body = (await r.json()) as { checks: { startup: { detail: { pending: string[] } } } };
    expect(r.status).toBe(503);
    expect(body.checks.startup.detail.pending).toEqual(['backfill']);
    release();
    await starting;
    await app.tick();
    expect((await fetch(app.url + '/readyz')).status).toBe(200);
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
