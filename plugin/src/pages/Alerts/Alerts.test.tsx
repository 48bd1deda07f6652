import React from 'react';
import { screen, within } from '@testing-library/react';

import { Alerts } from './Alerts';
import { testIds } from '../../components/testIds';
import { FakeBackend, promSuccess } from '../../test/backend';
import { renderPage } from '../../test/render';

describe('Alerts page', () => {
  test('shows a real empty state when nothing fires and no rules exist', async () => {
    new FakeBackend({
      'GET api/prometheus/api/v1/alerts': () => promSuccess({ alerts: [] }),
      'GET api/prometheus/api/v1/rules': () => promSuccess({ groups: [] }),
    }).install();
    renderPage(<Alerts />, { route: 'alerts' });
    const empty = await screen.findByTestId(testIds.alerts.empty);
    expect(empty).toHaveTextContent(/no active or pending alerts/i);
    expect(empty).toHaveTextContent(/no alert rules loaded/i);
  });

  test('groups firing and pending alerts by severity and server, and lists the rules', async () => {
    new FakeBackend({
      'GET api/prometheus/api/v1/alerts': () =>
        promSuccess({
          alerts: [
            {
              labels: { alertname: 'HighCPUUsage', severity: 'warning', server: 'web-02' },
              annotations: { summary: 'CPU high' },
              state: 'pending',
              value: '85',
            },
            {
              labels: { alertname: 'CriticalCPUUsage', severity: 'critical', server: 'web-01' },
              annotations: {},
              state: 'firing',
              value: '97',
            },
          ],
        }),
      'GET api/prometheus/api/v1/rules': () =>
        promSuccess({
          groups: [
            {
              name: 'cpu',
              file: 'rules/cpu_alerts.yml',
              rules: [{ name: 'HighCPUUsage', query: 'x > 80', type: 'alerting', state: 'pending' }],
            },
          ],
        }),
    }).install();
    renderPage(<Alerts />, { route: 'alerts' });
    const groups = await screen.findAllByTestId(testIds.alerts.group);
    expect(groups.map((g) => g.getAttribute('aria-label'))).toEqual(['critical alerts', 'warning alerts']);
    expect(within(groups[0] as HTMLElement).getByText('web-01')).toBeInTheDocument();
    expect(within(groups[1] as HTMLElement).getByText(/CPU high/)).toBeInTheDocument();
    expect(screen.getByTestId(testIds.alerts.rules)).toHaveTextContent('HighCPUUsage');
    expect(screen.queryByTestId(testIds.alerts.empty)).not.toBeInTheDocument();
  });

  test("shows the exporter's error plainly", async () => {
    new FakeBackend({
      'GET api/prometheus/api/v1/alerts': () => ({ status: 502, body: { message: 'the exporter is down' } }),
      'GET api/prometheus/api/v1/rules': () => promSuccess({ groups: [] }),
    }).install();
    renderPage(<Alerts />, { route: 'alerts' });
    expect(await screen.findByText(/the exporter is down/)).toBeInTheDocument();
  });
});
