/**
 * @jest-environment-options {"customExportConditions": ["node", "require"]}
 */
import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import type { AddressInfo } from 'net';
import { config } from '@grafana/runtime';

import { Alerts, PAGE_SIZE } from './Alerts';
import { testIds } from '../../components/testIds';
import { FakeBackend, promSuccess, type Handler } from '../../test/backend';
import { alertInfo, promAlert, ruleGroup } from '../../test/fixtures';
import { renderPage } from '../../test/render';

const NOW_S = Date.now() / 1000;

function backend(over: Record<string, Handler> = {}): FakeBackend {
  return new FakeBackend({
    'GET api/prometheus/api/v1/alerts': () => promSuccess({ alerts: [] }),
    'GET api/prometheus/api/v1/rules': () => promSuccess({ groups: [ruleGroup('cpu', ['HighCPUUsage'])] }),
    'GET api/prometheus/api/v1/query': () => promSuccess({ resultType: 'vector', result: [] }),
    'GET api/silences': () => ({ body: { silences: [] } }),
    ...over,
  }).install();
}

const rowsShown = () =>
  screen
    .queryAllByTestId(testIds.alerts.row)
    .map((r) => `${r.dataset.state} ${r.dataset.alertname} ${r.dataset.server}`);

describe('Alerts page', () => {
  test('says no rules are loaded when the exporter has none', async () => {
    backend({ 'GET api/prometheus/api/v1/rules': () => promSuccess({ groups: [] }) });
    renderPage(<Alerts />, { route: 'alerts' });
    const empty = await screen.findByTestId(testIds.alerts.empty);
    expect(empty).toHaveAttribute('data-reason', 'no-rules');
    expect(empty).toHaveTextContent(/no alert rules are loaded/i);
  });

  test('says all is quiet, with the number of rules evaluated, when rules exist but nothing fires', async () => {
    backend();
    renderPage(<Alerts />, { route: 'alerts' });
    const empty = await screen.findByTestId(testIds.alerts.empty);
    expect(empty).toHaveAttribute('data-reason', 'quiet');
    expect(empty).toHaveTextContent(/1 alerting rule is evaluated/);
  });

  test('lists firing, pending and recently resolved alerts with severity, server, summary, value and links', async () => {
    const fake = backend({
      'GET api/prometheus/api/v1/alerts': () =>
        promSuccess({
          alerts: [
            promAlert(
              'HighCPUUsage',
              { server: 'web-02', severity: 'warning' },
              { state: 'pending', value: '8.512e+01' }
            ),
            promAlert('CriticalCPUUsage', { server: 'web-01', severity: 'critical' }),
          ],
        }),
      'GET api/prometheus/api/v1/query': () =>
        promSuccess({
          resultType: 'vector',
          result: [
            {
              metric: { alertname: 'ServerDown', alertstate: 'firing', server: 'db-01', severity: 'critical' },
              value: [NOW_S, String(NOW_S - 120)],
            },
          ],
        }),
    });
    renderPage(<Alerts />, { route: 'alerts' });
    await waitFor(() => expect(screen.getAllByTestId(testIds.alerts.row)).toHaveLength(3));
    expect(rowsShown()).toEqual([
      'firing CriticalCPUUsage web-01',
      'resolved ServerDown db-01',
      'pending HighCPUUsage web-02',
    ]);
    const [critical, resolved, pending] = screen.getAllByTestId(testIds.alerts.row) as HTMLElement[];
    expect(critical).toHaveTextContent('CriticalCPUUsage on web-01');
    expect(pending).toHaveTextContent('85.12');
    expect(resolved).toHaveTextContent(/resolved 2m ago/);
    expect(within(critical!).getByTestId(testIds.alerts.serverLink)).toHaveAttribute(
      'href',
      '/a/openmanager-fleet-app/server/web-01'
    );
    const alertList = within(critical!).getByTestId(testIds.alerts.alertListLink).getAttribute('href') ?? '';
    expect(alertList.startsWith('/alerting/list?')).toBe(true);
    expect(new URLSearchParams(alertList.split('?')[1]).get('search')).toBe(
      'rule:"CriticalCPUUsage" label:server=web-01'
    );
    expect(screen.getByTestId(testIds.alerts.counts)).toHaveTextContent('1 firing1 pending1 resolved in the last hour');
    const history = fake.requests.find((r) => r.url.endsWith('/api/v1/query'));
    expect(history?.params?.query).toBe('max_over_time(timestamp(ALERTS{alertstate="firing"})[3600s:])');
  });

  test('filters from the URL, and says when the filters hide everything', async () => {
    backend({
      'GET api/prometheus/api/v1/alerts': () =>
        promSuccess({
          alerts: [
            promAlert('HighCPUUsage', { server: 'web-02', severity: 'warning' }),
            promAlert('CriticalCPUUsage', { server: 'web-01', severity: 'critical' }),
          ],
        }),
    });
    renderPage(<Alerts />, { route: 'alerts?severity=critical', path: 'alerts' });
    await waitFor(() => expect(rowsShown()).toEqual(['firing CriticalCPUUsage web-01']));
    fireEvent.click(screen.getByRole('radio', { name: 'Pending' }));
    const empty = await screen.findByTestId(testIds.alerts.empty);
    expect(empty).toHaveAttribute('data-reason', 'filtered');
    fireEvent.click(within(empty).getByRole('button', { name: /clear filters/i }));
    await waitFor(() => expect(rowsShown()).toHaveLength(2));
  });

  test('shows 100 alerts a page, with the range shown, and pages through the rest', async () => {
    const many = Array.from({ length: 150 }, (_, i) =>
      promAlert('BenchCoreBusy', { server: `web-${String(i).padStart(3, '0')}`, severity: 'info' })
    );
    backend({ 'GET api/prometheus/api/v1/alerts': () => promSuccess({ alerts: many }) });
    renderPage(<Alerts />, { route: 'alerts' });
    await waitFor(() => expect(rowsShown()).toHaveLength(PAGE_SIZE));
    expect(rowsShown()[0]).toBe('firing BenchCoreBusy web-000');
    expect(screen.getByTestId(testIds.alerts.pageInfo)).toHaveTextContent('1–100 of 150 alerts');
    expect(screen.getByTestId(testIds.alerts.counts)).toHaveTextContent('150 firing');
    fireEvent.click(screen.getByRole('button', { name: '2' }));
    expect(rowsShown()).toHaveLength(50);
    expect(rowsShown()[0]).toBe('firing BenchCoreBusy web-100');
    expect(screen.getByTestId(testIds.alerts.pageInfo)).toHaveTextContent('101–150 of 150 alerts');
  });

  test("shows the exporter's error plainly", async () => {
    backend({ 'GET api/prometheus/api/v1/alerts': () => ({ status: 502, body: { message: 'the exporter is down' } }) });
    renderPage(<Alerts />, { route: 'alerts' });
    expect(await screen.findByText(/the exporter is down/)).toBeInTheDocument();
  });

  describe('silences', () => {
    const user = config.bootData.user;
    afterEach(() => {
      config.bootData.user = user;
    });
    const firing = () => promSuccess({ alerts: [promAlert('ServerDown', { server: 'web-05', severity: 'critical' })] });

    test('an editor silences an alert: the silence is created for its rule and server, then listed', async () => {
      config.bootData.user = { ...user, login: 'ed', orgRole: 'Editor' as never, permissions: undefined };
      let created: unknown;
      const active = {
        id: 'sil-1',
        matchers: [
          { name: 'alertname', value: 'ServerDown', isRegex: false, isEqual: true },
          { name: 'server', value: 'web-05', isRegex: false, isEqual: true },
        ],
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        updatedAt: new Date().toISOString(),
        createdBy: 'ed',
        comment: 'maintenance',
        status: { state: 'active' },
      };
      const fake = backend({
        'GET api/prometheus/api/v1/alerts': firing,
        'GET api/silences': () => ({ body: { silences: created ? [active] : [] } }),
        'POST api/silences': (req) => {
          created = req.data;
          return { status: 201, body: { silenceID: 'sil-1' } };
        },
      });
      renderPage(<Alerts />, { route: 'alerts' });
      fireEvent.click(await screen.findByRole('button', { name: 'Silence ServerDown on web-05' }));
      const modal = await screen.findByTestId(testIds.silences.modal);
      fireEvent.click(within(modal).getByRole('radio', { name: '4h' }));
      fireEvent.change(within(modal).getByRole('textbox'), { target: { value: 'maintenance' } });
      fireEvent.click(within(modal).getByTestId(testIds.silences.submit));
      await waitFor(() => expect(screen.getAllByTestId(testIds.silences.row)).toHaveLength(1));
      expect(created).toEqual({
        matchers: active.matchers,
        duration: '4h',
        createdBy: 'ed',
        comment: 'maintenance',
      });
      expect(fake.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/silences'))).toHaveLength(1);
      expect(screen.getByTestId(testIds.silences.list)).toHaveTextContent('alertname="ServerDown", server="web-05"');
      await waitFor(() => expect(screen.getByTestId(testIds.alerts.row)).toHaveAttribute('data-silenced', 'true'));
      expect(screen.queryByTestId(testIds.silences.action)).not.toBeInTheDocument();
    });

    test('a viewer sees alerts and silences but no silence or expire action', async () => {
      config.bootData.user = { ...user, orgRole: 'Viewer' as never, permissions: undefined };
      backend({ 'GET api/prometheus/api/v1/alerts': firing });
      renderPage(<Alerts />, { route: 'alerts' });
      await waitFor(() => expect(rowsShown()).toEqual(['firing ServerDown web-05']));
      expect(screen.queryByTestId(testIds.silences.action)).not.toBeInTheDocument();
      expect(screen.getByTestId(testIds.silences.list)).toHaveTextContent(/no silence in force/i);
    });

    test('with RBAC permissions in the boot data, the action follows the permission', async () => {
      config.bootData.user = {
        ...user,
        orgRole: 'Viewer' as never,
        permissions: { 'openmanager-fleet-app.silences:write': true },
      };
      backend({ 'GET api/prometheus/api/v1/alerts': firing });
      renderPage(<Alerts />, { route: 'alerts' });
      expect(await screen.findByTestId(testIds.silences.action)).toBeInTheDocument();
    });

    test('an exporter without the silences API: no list, no action', async () => {
      config.bootData.user = { ...user, orgRole: 'Editor' as never, permissions: undefined };
      backend({
        'GET api/prometheus/api/v1/alerts': firing,
        'GET api/silences': () => ({ status: 404, body: { error: { code: 'OM_NOT_FOUND', message: 'no endpoint' } } }),
      });
      renderPage(<Alerts />, { route: 'alerts' });
      await waitFor(() => expect(rowsShown()).toEqual(['firing ServerDown web-05']));
      expect(screen.queryByTestId(testIds.silences.list)).not.toBeInTheDocument();
      expect(screen.queryByTestId(testIds.silences.action)).not.toBeInTheDocument();
    });
  });

  describe('live over the hub', () => {
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

    test('applies alert_state_changed events: a new firing alert, then its resolution', async () => {
      backend();
      renderPage(<Alerts />, { route: 'alerts', settings: { liveUrl } });
      await screen.findByTestId(testIds.alerts.empty);
      await waitFor(() => expect(sockets).toHaveLength(1));
      const firing = alertInfo('ServerDown', { server: 'web-03', severity: 'critical' });
      const send = (data: unknown) =>
        act(() => {
          sockets[0]?.send(JSON.stringify({ type: 'data', channel: 'alerts', timestamp: Date.now(), data }));
        });
      await send({
        event: 'alert_state_changed',
        alert: firing,
        previousState: 'pending',
        changedAt: Date.now(),
        activeAlerts: [firing],
      });
      await waitFor(() => expect(rowsShown()).toEqual(['firing ServerDown web-03']));
      expect(screen.getByTestId(testIds.live.indicator)).toHaveAttribute('data-state', 'live');
      const resolved = { ...firing, state: 'inactive' as const, resolvedAt: Date.now() };
      await send({
        event: 'alert_state_changed',
        alert: resolved,
        previousState: 'firing',
        changedAt: Date.now(),
        activeAlerts: [],
      });
      await waitFor(() => expect(rowsShown()).toEqual(['resolved ServerDown web-03']));
      expect(screen.getByTestId(testIds.alerts.row)).toHaveTextContent('ServerDown on web-03');
    });

    test('an update that changes only values shows them in place; filters and the silence action still work', async () => {
      const user = config.bootData.user;
      config.bootData.user = { ...user, login: 'ed', orgRole: 'Editor' as never, permissions: undefined };
      try {
        backend();
        renderPage(<Alerts />, { route: 'alerts', settings: { liveUrl } });
        await screen.findByTestId(testIds.alerts.empty);
        await waitFor(() => expect(sockets).toHaveLength(1));
        const event = (value: number) => {
          const active = ['web-03', 'web-04', 'web-10'].map((server) =>
            alertInfo(
              'HighCPUUsage',
              { server, severity: 'warning' },
              {
                value,
                annotations: { summary: `CPU at ${value} % on ${server}` },
              }
            )
          );
          return {
            event: 'alert_state_changed',
            alert: active[0],
            previousState: 'firing',
            changedAt: Date.now(),
            activeAlerts: active,
          };
        };
        const send = (data: unknown) =>
          act(() => {
            sockets[0]?.send(JSON.stringify({ type: 'data', channel: 'alerts', timestamp: Date.now(), data }));
          });
        const values = () => screen.getAllByTestId(testIds.alerts.row).map((r) => r.textContent ?? '');
        await send(event(95));
        await waitFor(() => expect(values()).toHaveLength(3));
        expect(values()[2]).toContain('CPU at 95 % on web-10');
        await send(event(42));
        await waitFor(() => expect(values()[2]).toContain('CPU at 42 % on web-10'));
        expect(rowsShown()).toEqual([
          'firing HighCPUUsage web-03',
          'firing HighCPUUsage web-04',
          'firing HighCPUUsage web-10',
        ]);
        fireEvent.click(screen.getByRole('button', { name: 'Silence HighCPUUsage on web-04' }));
        const modal = await screen.findByTestId(testIds.silences.modal);
        expect(modal).toHaveTextContent('server="web-04"');
        fireEvent.click(within(modal).getByRole('button', { name: /cancel/i }));
        await waitFor(() => expect(screen.queryByTestId(testIds.silences.modal)).not.toBeInTheDocument());
        await send(event(43));
        fireEvent.click(screen.getByRole('radio', { name: 'Pending' }));
        expect((await screen.findByTestId(testIds.alerts.empty)).dataset.reason).toBe('filtered');
        fireEvent.click(screen.getByRole('radio', { name: 'Firing' }));
        await waitFor(() => expect(values()).toHaveLength(3));
        expect(values()[0]).toContain('CPU at 43 % on web-03');
      } finally {
        config.bootData.user = user;
      }
    });
  });
});
