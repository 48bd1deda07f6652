import { ExporterClient } from './client';
import { CLIENT_ERROR_CODES, ExporterApiError } from './errors';
import { FakeBackend, promSuccess } from '../test/backend';
import { metrics, scenario, server } from '../test/fixtures';

describe('ExporterClient', () => {
  const client = new ExporterClient();

  test('calls the exporter through the plugin proxy route and returns the body', async () => {
    const backend = new FakeBackend({
      'GET api/unified-metrics': () => ({ body: metrics([server('web-01')]) }),
    }).install();
    const m = await client.unifiedMetrics();
    expect(m.servers.map((s) => s.id)).toEqual(['web-01']);
    expect(backend.requests[0]?.url).toBe('api/plugin-proxy/openmanager-fleet-app/api/unified-metrics');
    expect(backend.requests[0]?.showErrorAlert).toBe(false);
  });

  test('health goes through the healthz route', async () => {
    const backend = new FakeBackend({ 'GET healthz': () => ({ body: { status: 'ok' } }) }).install();
    await expect(client.health()).resolves.toEqual({ status: 'ok' });
    expect(backend.requests[0]?.url).toBe('api/plugin-proxy/openmanager-fleet-app/healthz');
  });

  test('injectScenario POSTs the request body and stopScenario DELETEs by id', async () => {
    const created = scenario('sc-1');
    const backend = new FakeBackend({
      'POST api/scenarios': () => ({ status: 201, body: created }),
      'DELETE api/scenarios/sc%2F1': () => ({ status: 204, body: '' }),
    }).install();
    const req = { kind: 'cpu_spike' as const, server: 'web-01', durationSeconds: 60, intensity: 0.5 };
    await expect(client.injectScenario(req)).resolves.toEqual(created);
    await client.stopScenario('sc/1');
    expect(backend.requests.map((r) => [r.method, r.url, r.data])).toEqual([
      ['POST', 'api/plugin-proxy/openmanager-fleet-app/api/scenarios', req],
      ['DELETE', 'api/plugin-proxy/openmanager-fleet-app/api/scenarios/sc%2F1', undefined],
    ]);
  });

  test('hubTicket POSTs to the ticket route (the proxy adds the hub token) and returns the ticket', async () => {
    const backend = new FakeBackend({
      'POST api/hub/ticket': () => ({ body: { ticket: 'abc', expiresAt: 5 } }),
    }).install();
    await expect(client.hubTicket()).resolves.toEqual({ ticket: 'abc', expiresAt: 5 });
    expect(backend.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', 'api/plugin-proxy/openmanager-fleet-app/api/hub/ticket'],
    ]);
  });

  test('silences: list through the GET route, create and expire through the token-carrying routes', async () => {
    const backend = new FakeBackend({
      'GET api/silences': () => ({ body: { silences: [] } }),
      'POST api/silences': () => ({ status: 201, body: { silenceID: 'sil-1' } }),
      'DELETE api/silences/sil%2F1': () => ({ body: {} }),
    }).install();
    await expect(client.silences()).resolves.toEqual([]);
    const body = {
      matchers: [{ name: 'alertname', value: 'A', isRegex: false, isEqual: true }],
      duration: '1h',
      createdBy: 'admin',
      comment: '',
    };
    await expect(client.createSilence(body)).resolves.toBe('sil-1');
    await client.expireSilence('sil/1');
    expect(backend.requests.map((r) => [r.method, r.url])).toEqual([
      ['GET', 'api/plugin-proxy/openmanager-fleet-app/api/silences'],
      ['POST', 'api/plugin-proxy/openmanager-fleet-app/api/silences'],
      ['DELETE', 'api/plugin-proxy/openmanager-fleet-app/api/silences/sil%2F1'],
    ]);
  });

  test('queryRange sends PromQL params to the Prometheus API and unwraps the envelope', async () => {
    const series = [{ metric: { server: 'web-01' }, values: [[1, '2']] }];
    const backend = new FakeBackend({
      'GET api/prometheus/api/v1/query_range': () => promSuccess({ resultType: 'matrix', result: series }),
    }).install();
    await expect(client.queryRange({ expr: 'up', start: 10, end: 20, step: 5 })).resolves.toEqual(series);
    expect(backend.requests[0]?.params).toEqual({ query: 'up', start: 10, end: 20, step: 5 });
  });

  test('servers accepts a bare array or {servers}', async () => {
    new FakeBackend({ 'GET api/servers': () => ({ body: { servers: [{ id: 'a' }] } }) }).install();
    await expect(client.servers()).resolves.toEqual([{ id: 'a' }]);
    new FakeBackend({ 'GET api/servers': () => ({ body: [{ id: 'b' }] }) }).install();
    await expect(client.servers()).resolves.toEqual([{ id: 'b' }]);
  });

  test.each([
    [
      'the exporter JSON API error',
      { status: 401, body: { error: { code: 'OM_UNAUTHORIZED', message: 'missing bearer token' } } },
      { status: 401, code: 'OM_UNAUTHORIZED', message: 'missing bearer token' },
    ],
    [
      'a bad-input error naming the field',
      { status: 400, body: { error: { code: 'OM_BAD_REQUEST', message: 'intensity: must be ≤ 1' } } },
      { status: 400, code: 'OM_BAD_REQUEST', message: 'intensity: must be ≤ 1' },
    ],
    [
      'the Prometheus envelope',
      { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' } },
      { status: 400, code: 'bad_data', message: 'parse error at char 3' },
    ],
    [
      "the hub's refusal",
      { status: 401, body: { type: 'error', code: 'unauthorized', message: 'A ticket costs the hub token' } },
      { status: 401, code: 'unauthorized', message: 'A ticket costs the hub token' },
    ],
    [
      "Grafana's proxy message",
      { status: 502, body: { message: 'Bad Gateway' } },
      { status: 502, code: CLIENT_ERROR_CODES.http, message: 'Bad Gateway' },
    ],
    [
      'no answer at all',
      { status: 0, body: undefined },
      { status: 0, code: CLIENT_ERROR_CODES.unreachable, message: 'the exporter could not be reached' },
    ],
  ])('surfaces %s with its message', async (_name, reply, expected) => {
    new FakeBackend({ 'POST api/scenarios': () => reply }).install();
    const err = await client
      .injectScenario({ kind: 'cpu_spike', server: 'x', durationSeconds: 1, intensity: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExporterApiError);
    expect({
      status: (err as ExporterApiError).status,
      code: (err as ExporterApiError).code,
      message: (err as Error).message,
    }).toEqual(expected);
  });

  test('a Prometheus error envelope with HTTP 200 still rejects', async () => {
    new FakeBackend({
      'GET api/prometheus/api/v1/query': () => ({
        body: { status: 'error', errorType: 'timeout', error: 'query timed out' },
      }),
    }).install();
    await expect(client.query('up')).rejects.toMatchObject({ code: 'timeout', message: 'query timed out' });
  });

  test('analysis reads the state through the GET route and refuses an answer without one', async () => {
    const state = {
      generatedAt: 1,
      intervalMs: 30_000,
      runs: 1,
      lastRunMs: 5,
      fleetAnomalyRate: 0,
      scores: [],
      findings: [],
      rootCauses: [],
      forecasts: [],
    };
    const fake = new FakeBackend({ 'GET api/analysis': () => ({ body: state }) }).install();
    await expect(client.analysis()).resolves.toEqual(state);
    expect(fake.requests[0]?.url).toBe('api/plugin-proxy/openmanager-fleet-app/api/analysis');
    new FakeBackend({ 'GET api/analysis': () => ({ body: { findings: [] } }) }).install();
    await expect(client.analysis()).rejects.toMatchObject({ code: CLIENT_ERROR_CODES.badResponse });
  });

  test('alerts and rules unwrap their lists', async () => {
    new FakeBackend({
      'GET api/prometheus/api/v1/alerts': () => promSuccess({ alerts: [] }),
      'GET api/prometheus/api/v1/rules': () => promSuccess({ groups: [{ name: 'g', file: 'f', rules: [] }] }),
    }).install();
    await expect(client.alerts()).resolves.toEqual([]);
    await expect(client.rules()).resolves.toEqual([{ name: 'g', file: 'f', rules: [] }]);
  });
});
