/**
 * @jest-environment-options {"customExportConditions": ["node", "require"]}
 */
import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import type { AddressInfo } from 'net';

import { Fleet } from './Fleet';
import { testIds } from '../../components/testIds';
import { FakeBackend, promSuccess } from '../../test/backend';
import { analysisState, info, metrics, scenario, score, server, T0 } from '../../test/fixtures';
import { renderPage } from '../../test/render';

const SERVERS = [
  server('web-01'),
  server('web-02', { cpu: 85, status: 'warning', alerts: ['cpu > 80%'] }),
  server('db-01'),
];

describe('Fleet page', () => {
  let wss: WebSocketServer;
  let liveUrl: string;
  const sockets: WsSocket[] = [];

  beforeEach(async () => {
    sockets.length = 0;
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    liveUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
    wss.on('connection', (ws) => sockets.push(ws));
    new FakeBackend({
      'GET api/unified-metrics': () => ({ body: metrics(SERVERS) }),
      'GET api/servers': () => ({ body: [info('web-01', 'web'), info('web-02', 'web'), info('db-01', 'db')] }),
      'GET api/scenarios': () => ({ body: { active: [], history: [] } }),
      'GET api/analysis': () => ({
        body: analysisState({ scores: [score('db-01', { cpu: 0.1, memory: 0.91 }), score('web-01', { cpu: 0.2 })] }),
      }),
      'GET api/prometheus/api/v1/query_range': () =>
        promSuccess({
          resultType: 'matrix',
          result: [
            {
              metric: { server: 'web-01' },
              values: [
                [1, '10'],
                [2, '30'],
                [3, '20'],
              ],
            },
          ],
        }),
    }).install();
  });

  afterEach(async () => {
    for (const s of sockets) {
      s.terminate();
    }
    await new Promise((r) => wss.close(r));
  });

  const tiles = () => screen.getAllByTestId(testIds.fleet.tile);
  const tile = (id: string) => tiles().find((t) => t.getAttribute('data-server') === id) as HTMLElement;

  test('renders one tile per server with status, gauges, alerts, the summary and a sparkline', async () => {
    renderPage(<Fleet />, { settings: { liveUrl } });
    await waitFor(() => expect(tiles()).toHaveLength(3));
    expect(tile('web-02')).toHaveAttribute('data-status', 'warning');
    expect(within(tile('web-02')).getByRole('meter', { name: 'CPU' })).toHaveAttribute('aria-valuenow', '85');
    expect(tile('web-02')).toHaveTextContent('cpu > 80%');
    expect(screen.getByTestId(testIds.fleet.summary)).toHaveTextContent(/3\s*Servers/);
    await waitFor(() => expect(within(tile('web-01')).getByTestId(testIds.fleet.sparkline)).toBeInTheDocument());
  });

  test('applies live snapshots and scenario events from the hub, and shows the live state', async () => {
    renderPage(<Fleet />, { settings: { liveUrl } });
    await waitFor(() => expect(tiles()).toHaveLength(3));
    await waitFor(() => expect(sockets).toHaveLength(1));
    const before = tile('web-01');
    act(() => {
      sockets[0]?.send(
        JSON.stringify({
          type: 'data',
          channel: 'server-metrics',
          timestamp: Date.now(),
          data: metrics([server('web-01', { cpu: 99, status: 'critical' }), ...SERVERS.slice(1)]),
        })
      );
    });
    await waitFor(() => expect(tile('web-01')).toHaveAttribute('data-status', 'critical'));
    expect(tile('web-01')).toBe(before);
    expect(screen.getByTestId(testIds.live.indicator)).toHaveAttribute('data-state', 'live');
    const sc = scenario('s1', { kind: 'disk_fill', server: 'db-01', affected: ['db-01'] });
    act(() => {
      sockets[0]?.send(
        JSON.stringify({
          type: 'data',
          channel: 'alerts',
          timestamp: Date.now(),
          data: { event: 'scenario_started', scenario: sc, activeScenarios: [sc] },
        })
      );
    });
    await waitFor(() =>
      expect(within(tile('db-01')).getByTestId(testIds.fleet.tileScenario)).toHaveTextContent('disk_fill')
    );
  });

  test('filters by role and status, and sorts', async () => {
    renderPage(<Fleet />, { settings: { liveUrl } });
    await waitFor(() => expect(tiles()).toHaveLength(3));
    await waitFor(() => expect(screen.getByRole('radio', { name: 'db' })).toBeInTheDocument());
    fireEvent.click(screen.getByRole('radio', { name: 'db' }));
    expect(tiles().map((t) => t.getAttribute('data-server'))).toEqual(['db-01']);
    fireEvent.click(screen.getAllByRole('radio', { name: 'All' })[0] as HTMLElement);
    fireEvent.click(screen.getByRole('radio', { name: 'Warning' }));
    expect(tiles().map((t) => t.getAttribute('data-server'))).toEqual(['web-02']);
    fireEvent.click(screen.getByRole('radio', { name: 'Critical' }));
    expect(screen.getByTestId(testIds.fleet.empty)).toBeInTheDocument();
    fireEvent.click(screen.getAllByRole('radio', { name: 'All' })[1] as HTMLElement);
    fireEvent.click(screen.getByRole('radio', { name: 'CPU' }));
    expect(tiles()[0]).toHaveAttribute('data-server', 'web-02');
  });

  test('arrow keys move the focus between tiles and Enter opens the server page', async () => {
    renderPage(<Fleet />, { settings: { liveUrl } });
    await waitFor(() => expect(tiles()).toHaveLength(3));
    const first = tiles()[0] as HTMLElement;
    expect(first).toHaveAttribute('tabindex', '0');
    first.focus();
    fireEvent.keyDown(first, { key: 'ArrowRight' });
    expect(document.activeElement).toBe(tiles()[1]);
    expect(tiles()[1]).toHaveAttribute('tabindex', '0');
    expect(tiles()[0]).toHaveAttribute('tabindex', '-1');
    fireEvent.keyDown(tiles()[1] as HTMLElement, { key: 'Enter' });
    expect(await screen.findByTestId('navigated-away')).toBeInTheDocument();
  });

  test('marks the servers the analysis finds anomalous, from the API and then from each analysis run', async () => {
    renderPage(<Fleet />, { settings: { liveUrl } });
    await waitFor(() => expect(tiles()).toHaveLength(3));
    await waitFor(() =>
      expect(within(tile('db-01')).getByTestId(testIds.fleet.tileAnomaly)).toHaveTextContent('memory')
    );
    expect(tile('db-01')).toHaveAttribute('data-anomaly', 'memory');
    expect(tile('db-01')).toHaveAccessibleName(/anomalous memory/);
    expect(within(tile('web-01')).queryByTestId(testIds.fleet.tileAnomaly)).toBeNull();

    await waitFor(() => expect(sockets).toHaveLength(1));
    act(() => {
      sockets[0]?.send(
        JSON.stringify({
          type: 'data',
          channel: 'ai-analysis',
          timestamp: T0 + 30_000,
          data: {
            generatedAt: T0 + 30_000,
            window: { start: T0, end: T0 + 30_000 },
            findings: [],
            scores: [score('db-01', { memory: 0.2 }), score('web-01', { latency: 0.75 })],
          },
        })
      );
    });
    await waitFor(() => expect(tile('web-01')).toHaveAttribute('data-anomaly', 'latency'));
    expect(within(tile('db-01')).queryByTestId(testIds.fleet.tileAnomaly)).toBeNull();
  });

  test('sparklines read the recording rule, and the per-core series when the rule has not recorded any', async () => {
    const fake = new FakeBackend({
      'GET api/unified-metrics': () => ({ body: metrics(SERVERS) }),
      'GET api/servers': () => ({ body: [info('web-01', 'web')] }),
      'GET api/scenarios': () => ({ body: { active: [], history: [] } }),
      'GET api/prometheus/api/v1/query_range': (req) =>
        promSuccess({
          resultType: 'matrix',
          result: String(req.params?.query).startsWith('server:')
            ? []
            : [
                {
                  metric: { server: 'web-01' },
                  values: [
                    [1, '10'],
                    [2, '30'],
                  ],
                },
              ],
        }),
    }).install();
    renderPage(<Fleet />, { settings: { liveUrl } });
    await waitFor(() => expect(within(tile('web-01')).getByTestId(testIds.fleet.sparkline)).toBeInTheDocument());
    expect(fake.requests.filter((r) => r.url.endsWith('/query_range')).map((r) => r.params?.query)).toEqual([
      'server:openmanager_cpu_usage_percent:avg',
      'avg by (server) (openmanager_cpu_usage_percent)',
    ]);
  });
});
