import React from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import { getDefaultTimeRange, LoadingState, type PanelProps } from '@grafana/data';

import { AlertListPanel, serverFilter } from './AlertListPanel';
import { DEFAULT_SERVER_LINK, type AlertListOptions } from './types';
import { testIds } from '../../components/testIds';
import { FakeBackend, promSuccess, type Handler } from '../../test/backend';
import { promAlert, ruleGroup } from '../../test/fixtures';

const NOW_S = Date.now() / 1000;

/** replaceVariables stands in for the dashboard's: `$server` is a multi-value variable, scoped vars win. */
const replaceVariables: PanelProps['replaceVariables'] = (text, scoped) =>
  text
    .replace(/\$\{server\}/g, String(scoped?.server?.value ?? 'web-01,web-02'))
    .replace(/\$server\b/g, 'web-01,web-02');

function props(options: Partial<AlertListOptions> = {}): PanelProps<AlertListOptions> {
  return {
    id: 1,
    data: { state: LoadingState.Done, series: [], timeRange: getDefaultTimeRange() },
    timeRange: getDefaultTimeRange(),
    timeZone: 'browser',
    options: {
      severities: [],
      servers: '',
      maxItems: 10,
      showResolved: false,
      serverLink: DEFAULT_SERVER_LINK,
      ...options,
    },
    fieldConfig: { defaults: {}, overrides: [] },
    transparent: false,
    width: 600,
    height: 300,
    renderCounter: 0,
    title: 'Alerts',
    eventBus: {} as never,
    onOptionsChange: jest.fn(),
    onFieldConfigChange: jest.fn(),
    onChangeTimeRange: jest.fn(),
    replaceVariables,
  } as unknown as PanelProps<AlertListOptions>;
}

function backend(over: Record<string, Handler> = {}): FakeBackend {
  return new FakeBackend({
    'GET /api/plugins/openmanager-fleet-app/settings': () => ({ body: { enabled: true, jsonData: {} } }),
    'GET api/prometheus/api/v1/alerts': () =>
      promSuccess({
        alerts: [
          promAlert('HighCPUUsage', { server: 'web-02', severity: 'warning' }, { state: 'pending' }),
          promAlert('CriticalCPUUsage', { server: 'web-01', severity: 'critical' }),
          promAlert('HighMemoryUsage', { server: 'db-01', severity: 'warning' }),
        ],
      }),
    'GET api/prometheus/api/v1/rules': () => promSuccess({ groups: [ruleGroup('cpu', ['HighCPUUsage'])] }),
    'GET api/prometheus/api/v1/query': () =>
      promSuccess({
        resultType: 'vector',
        result: [
          {
            metric: { alertname: 'ServerDown', server: 'web-03', severity: 'critical' },
            value: [NOW_S, String(NOW_S - 60)],
          },
        ],
      }),
    ...over,
  }).install();
}

const items = () =>
  screen
    .queryAllByTestId(testIds.alertListPanel.item)
    .map((i) => `${i.dataset.state} ${i.dataset.alertname} ${i.dataset.server}`);

describe('OpenManager alerts panel', () => {
  test('lists active alerts worst first, each server linking to its page', async () => {
    const fake = backend();
    render(<AlertListPanel {...props()} />);
    await waitFor(() => expect(items()).toHaveLength(3));
    expect(items()).toEqual([
      'firing CriticalCPUUsage web-01',
      'firing HighMemoryUsage db-01',
      'pending HighCPUUsage web-02',
    ]);
    expect(screen.getByRole('link', { name: 'web-01' })).toHaveAttribute(
      'href',
      '/a/openmanager-fleet-app/server/web-01'
    );
    // Without "show resolved" the ALERTS history is not read at all.
    expect(fake.requests.some((r) => r.url.endsWith('/api/v1/query'))).toBe(false);
  });

  test.each([
    ['severity', { severities: ['critical'] }, ['firing CriticalCPUUsage web-01']],
    [
      'servers from a dashboard variable',
      { servers: '$server' },
      ['firing CriticalCPUUsage web-01', 'pending HighCPUUsage web-02'],
    ],
    ['max items', { maxItems: 1 }, ['firing CriticalCPUUsage web-01']],
    [
      'show resolved (within the time range)',
      { showResolved: true, severities: ['critical'] },
      ['firing CriticalCPUUsage web-01', 'resolved ServerDown web-03'],
    ],
  ])('filters by %s', async (_name, options, expected) => {
    backend();
    render(<AlertListPanel {...props(options)} />);
    await waitFor(() => expect(items()).toEqual(expected));
  });

  test('says why it is empty', async () => {
    backend({
      'GET api/prometheus/api/v1/alerts': () => promSuccess({ alerts: [] }),
      'GET api/prometheus/api/v1/rules': () => promSuccess({ groups: [] }),
    });
    render(<AlertListPanel {...props()} />);
    expect(await screen.findByTestId(testIds.alertListPanel.empty)).toHaveTextContent(/no alert rules are loaded/i);
  });

  test('asks for the app to be enabled, since it reads the exporter through the app', async () => {
    backend({ 'GET /api/plugins/openmanager-fleet-app/settings': () => ({ body: { enabled: false, jsonData: {} } }) });
    render(<AlertListPanel {...props()} />);
    expect(await screen.findByText(/app is not enabled/i)).toBeInTheDocument();
  });

  test.each([
    ['web-01, web-02', ['web-01', 'web-02']],
    ['$server', ['web-01', 'web-02']],
    ['', []],
    ['$unknown', []],
  ])('the servers option %p means %p', (raw, expected) => {
    expect(serverFilter(raw, (t) => t.replace(/\$server\b/g, 'web-01,web-02'))).toEqual(expected);
  });
});
