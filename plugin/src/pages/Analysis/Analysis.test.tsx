/**
 * @jest-environment-options {"customExportConditions": ["node", "require"]}
 */
import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import type { AddressInfo } from 'net';

import { Analysis } from './Analysis';
import { AnalysisCharts } from './AnalysisCharts';
import { testIds } from '../../components/testIds';
import { FakeBackend, type Handler } from '../../test/backend';
import { analysisState, finding, forecast, rootCause, T0 } from '../../test/fixtures';
import { renderPage } from '../../test/render';

// The charts are a Grafana scene (location service, data sources, uPlot): they are tested in Chromium, in
// harness/pages.e2e.test.ts; here they are a placeholder, so the page's own parts are tested in jsdom.
jest.mock('./AnalysisCharts', () => ({ AnalysisCharts: jest.fn(() => null) }));

function backend(analysis: Handler): FakeBackend {
  return new FakeBackend({ 'GET api/analysis': analysis }).install();
}

const findingsShown = () =>
  screen
    .queryAllByTestId(testIds.analysis.finding)
    .map((r) => `${r.dataset.state} ${r.dataset.server} ${r.dataset.signal}`);

describe('Analysis page', () => {
  let wss: WebSocketServer;
  let liveUrl: string;
  const sockets: WsSocket[] = [];

  beforeEach(async () => {
    sockets.length = 0;
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    liveUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
    wss.on('connection', (ws) => sockets.push(ws));
  });

  afterEach(async () => {
    for (const s of sockets) {
      s.terminate();
    }
    await new Promise((r) => wss.close(r));
  });

  test('shows the findings, root-cause hints and forecasts, soonest ETA first, and the fleet anomaly rate', async () => {
    backend(() => ({
      body: analysisState({
        findings: [
          finding('f1'),
          finding('f2', { server: 'web-02', signal: 'disk', severity: 'critical', score: 1 }),
          finding('f3', { server: 'api-01', signal: 'latency', state: 'resolved' }),
        ],
        rootCauses: [rootCause('db-01', 'api-02')],
        forecasts: [forecast('web-02', 5, 40), forecast('db-01', undefined, 1.5), forecast('web-01', 30)],
      }),
    }));
    renderPage(<Analysis />, { route: 'analysis', settings: { liveUrl } });
    await waitFor(() => expect(findingsShown()).toEqual(['open web-02 disk', 'open db-01 memory']));
    expect(screen.getByTestId(testIds.analysis.status)).toHaveTextContent(/Fleet anomaly rate 1\.3 %.*2 open findings/);
    expect(AnalysisCharts).toHaveBeenCalled();

    // The resolved finding shows with "Open and recent".
    fireEvent.click(screen.getByRole('radio', { name: 'Open and recent' }));
    expect(findingsShown()).toEqual(['open web-02 disk', 'open db-01 memory', 'resolved api-01 latency']);

    const hint = screen.getByTestId(testIds.analysis.rootCause);
    expect(hint).toHaveAttribute('data-origin', 'db-01');
    expect(hint).toHaveTextContent(/db-01 memory leak since 11:50 UTC; api-02 latency rose 40 s later/);
    expect(within(hint).getByRole('link', { name: 'api-02' })).toHaveAttribute(
      'href',
      '/a/openmanager-fleet-app/server/api-02'
    );

    const etas = screen
      .getAllByTestId(testIds.analysis.eta)
      .map((r) => `${r.dataset.resource} ${r.dataset.server} ${r.dataset.soon}`);
    expect(etas).toEqual(['disk web-02 true', 'disk web-01 false', 'memory db-01 true', 'memory web-02 false']);
    expect(screen.getAllByTestId(testIds.analysis.eta)[0]).toHaveTextContent('5h (95 %: 2h 30m – 10h)');
  });

  test("a finding's server link opens the Server page over the finding's time", async () => {
    backend(() => ({ body: analysisState({ findings: [finding('f1')] }) }));
    renderPage(<Analysis />, { route: 'analysis', settings: { liveUrl } });
    const row = await screen.findByTestId(testIds.analysis.finding);
    const href = within(row).getByRole('link', { name: 'db-01' }).getAttribute('href') ?? '';
    const url = new URL(href, 'http://grafana');
    expect(url.pathname).toBe('/a/openmanager-fleet-app/server/db-01');
    expect(url.searchParams.get('from')).toBe(String(T0 - 600_000 - 15 * 60_000));
    expect(url.searchParams.get('to')).toBe('now');
  });

  test('applies a run from the hub at once, then re-reads the state for its forecasts', async () => {
    let answer = analysisState({ findings: [finding('f1')] });
    const fake = backend(() => ({ body: answer }));
    renderPage(<Analysis />, { route: 'analysis', settings: { liveUrl } });
    await waitFor(() => expect(findingsShown()).toEqual(['open db-01 memory']));
    await waitFor(() => expect(sockets).toHaveLength(1));
    const reads = () => fake.requests.filter((r) => r.url.endsWith('/api/analysis')).length;
    const send = (generatedAt: number) =>
      act(() => {
        sockets[0]?.send(
          JSON.stringify({
            type: 'data',
            channel: 'ai-analysis',
            timestamp: generatedAt,
            data: {
              generatedAt,
              window: { start: generatedAt - 3_600_000, end: generatedAt },
              findings: [finding('f1'), finding('f9', { server: 'lb-01', signal: 'network' })],
              fleetAnomalyRate: 0.1,
            },
          })
        );
      });

    // The API still answers with the older state: the run shows, and the older answer does not undo it.
    const before = reads();
    send(T0 + 30_000);
    await waitFor(() => expect(findingsShown()).toEqual(['open db-01 memory', 'open lb-01 network']));
    await waitFor(() => expect(reads()).toBe(before + 1));
    expect(findingsShown()).toEqual(['open db-01 memory', 'open lb-01 network']);
    expect(screen.getByTestId(testIds.analysis.status)).toHaveTextContent(/Fleet anomaly rate 10\.0 %/);
    expect(screen.getByTestId(testIds.live.indicator)).toHaveAttribute('data-state', 'live');
    expect(screen.queryAllByTestId(testIds.analysis.eta)).toEqual([]);

    // The next run's re-read brings its forecasts.
    answer = analysisState({
      generatedAt: T0 + 60_000,
      findings: [finding('f1'), finding('f9', { server: 'lb-01', signal: 'network' })],
      forecasts: [forecast('lb-01', 3)],
    });
    send(T0 + 60_000);
    await waitFor(() =>
      expect(screen.getAllByTestId(testIds.analysis.eta).map((r) => r.dataset.server)).toEqual(['lb-01'])
    );
  });

  test.each([
    ['off', { status: 404, body: { error: { code: 'OM_NOT_FOUND', message: 'no route' } } }, /analysis is off/i],
    ['not-run', { body: analysisState({ generatedAt: null, runs: 0 }) }, /no analysis run yet/i],
    ['quiet', { body: analysisState() }, /no open finding/i],
  ])('says why nothing shows (%s)', async (reason, reply, text) => {
    backend(() => reply);
    renderPage(<Analysis />, { route: 'analysis', settings: { liveUrl } });
    const empty = await screen.findByTestId(testIds.analysis.empty);
    expect(empty).toHaveAttribute('data-reason', reason);
    expect(empty).toHaveTextContent(text);
  });

  test('shows the exporter error when the analysis cannot be read', async () => {
    backend(() => ({ status: 502, body: { message: 'Bad Gateway' } }));
    renderPage(<Analysis />, { route: 'analysis', settings: { liveUrl } });
    expect(await screen.findByText('Bad Gateway')).toBeInTheDocument();
    expect(screen.queryByTestId(testIds.analysis.findings)).not.toBeInTheDocument();
  });
});
