import React from 'react';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { config } from '@grafana/runtime';

import { Drills, formatDuration } from './Drills';
import type { DrillRun } from '../../api/types';
import { testIds } from '../../components/testIds';
import { FakeBackend, type Handler } from '../../test/backend';
import { drillDefinition, drillRun } from '../../test/coverage-fixtures';
import { renderPage } from '../../test/render';

const definitions = [
  drillDefinition('database-memory-leak', 'Database memory leak'),
  drillDefinition('disk-fills-overnight', 'Disk fills overnight'),
];

function backend(runs: DrillRun[], handlers: Record<string, Handler> = {}) {
  return new FakeBackend({ 'GET api/drills': () => ({ body: { definitions, runs } }), ...handlers }).install();
}

describe('Drills page', () => {
  const user = config.bootData.user;
  beforeEach(() => {
    config.bootData.user = { ...user, orgRole: 'Editor' as never, permissions: undefined };
  });
  afterEach(() => {
    config.bootData.user = user;
  });

  test.each([
    [0, '0s'],
    [90, '1m30s'],
    [28_800, '8h'],
  ])('formatDuration(%i) is %s, as the drill files write it', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });

  test('lists the shipped drills with their steps; an editor starts one at a chosen speed', async () => {
    const fake = backend([], { 'POST api/drills': () => ({ status: 201, body: drillRun('run-1') }) });
    renderPage(<Drills />, { route: 'drills' });
    const cards = await screen.findAllByTestId(testIds.drills.definition);
    expect(cards).toHaveLength(2);
    const steps = within(cards[0] as HTMLElement).getByRole('table', { name: 'Database memory leak steps' });
    expect(steps).toHaveTextContent(/0s\s*memory_leak\s*db-01\s*40m\s*0.95/);
    expect(steps).toHaveTextContent(/10m\s*latency_degradation\s*api-01\s*20m/);
    fireEvent.change(screen.getByLabelText('Speed for Disk fills overnight'), { target: { value: '16' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start Disk fills overnight' }));
    await waitFor(() => expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1));
    expect(fake.requests.find((r) => r.method === 'POST')?.data).toEqual({ name: 'disk-fills-overnight', speed: 16 });
  });

  test('an editor can start a drill on a separate clock, its meaning shown beside the choice', async () => {
    const start = Date.now() - 3_600_000;
    const separate = drillRun('run-2', {
      clock: 'separate',
      speed: 60,
      phase: 'drill',
      startedAt: start,
      simulatedAt: start + 5 * 60_000,
    });
    const fake = backend([], { 'POST api/drills': () => ({ status: 201, body: separate }) });
    renderPage(<Drills />, { route: 'drills' });
    const card = (await screen.findAllByTestId(testIds.drills.definition))[0] as HTMLElement;
    fireEvent.click(within(card).getByRole('radio', { name: 'Separate clock' }));
    expect(card).toHaveTextContent(/nothing is shortened/);
    fireEvent.change(screen.getByLabelText('Speed for Database memory leak'), { target: { value: '60' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start Database memory leak' }));
    await waitFor(() => expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1));
    expect(fake.requests.find((r) => r.method === 'POST')?.data).toEqual({
      name: 'database-memory-leak',
      speed: 60,
      clock: 'separate',
    });
  });

  test("a separate clock's run shows its phase and counts its steps down on its own clock", async () => {
    const start = Date.now() - 3_600_000;
    const steps = drillRun('x').steps.map((s, i) => ({ ...s, dueAt: start + i * 600_000 }));
    backend([
      drillRun('run-2', {
        clock: 'separate',
        speed: 60,
        phase: 'drill',
        startedAt: start,
        simulatedAt: start + 300_000,
        steps,
      }),
    ]);
    renderPage(<Drills />, { route: 'drills' });
    const run = await screen.findByTestId(testIds.drills.run);
    expect(within(run).getByTestId(testIds.drills.clock)).toHaveAttribute('data-phase', 'drill');
    // Its own clock is 5 min past its start: the second step, 10 min in, is due in 5 min (not an hour ago).
    expect(
      within(run)
        .getAllByTestId(testIds.drills.step)
        .map((s) => s.getAttribute('data-state'))
    ).toEqual(['injected', 'due in 5m']);
    expect(within(run).queryByRole('link', { name: /explore/i })).toBeNull();
  });

  test('a running drill shows which steps are injected and which are due, and Abort sends DELETE', async () => {
    const fake = backend([drillRun('run-1')], {
      'DELETE api/drills/*': () => ({ body: drillRun('run-1', { status: 'aborted' }) }),
    });
    renderPage(<Drills />, { route: 'drills' });
    const run = await screen.findByTestId(testIds.drills.run);
    expect(run).toHaveAttribute('data-status', 'running');
    expect(
      within(run)
        .getAllByTestId(testIds.drills.step)
        .map((s) => s.getAttribute('data-state'))
    ).toEqual(['injected', expect.stringMatching(/^due in (9m5\ds|10m)$/)]);
    // Explore opens the run's window on the live data source: its scenarios and the alerts on its servers.
    const explore =
      within(run)
        .getByRole('link', { name: /explore/i })
        .getAttribute('href') ?? '';
    const pane = JSON.parse(new URLSearchParams(explore.split('?')[1]).get('panes') ?? '{}').om;
    expect(pane.queries.map((q: { expr: string }) => q.expr)).toEqual([
      'openmanager_scenario_active{server=~"db-01|api-01"}',
      'ALERTS{alertstate="firing",server=~"db-01|api-01"}',
    ]);
    expect(pane.range.to).toBe('now');
    // One drill at a time: every Start is off while this one runs.
    expect(screen.getByRole('button', { name: 'Start Database memory leak' })).toHaveAttribute('aria-disabled', 'true');
    fireEvent.click(within(run).getByRole('button', { name: /abort/i }));
    await waitFor(() => expect(fake.requests.some((r) => r.method === 'DELETE')).toBe(true));
    expect(fake.requests.find((r) => r.method === 'DELETE')?.url).toBe(
      'api/plugin-proxy/openmanager-fleet-app/api/drills/run-1'
    );
  });

  test("a finished run's report: per step detected, first alert and delay; unrelated alerts; receivers", async () => {
    const finished = drillRun('run-2', {
      status: 'finished',
      finishedAt: Date.UTC(2026, 11, 6, 10),
      report: {
        steps: [
          {
            step: 0,
            kind: 'memory_leak',
            server: 'db-01',
            detected: true,
            firstAlert: 'HighMemoryUsage',
            secondsToFirstAlert: 420,
            alerts: ['HighMemoryUsage'],
          },
          {
            step: 1,
            kind: 'latency_degradation',
            server: 'api-01',
            detected: false,
            firstAlert: null,
            secondsToFirstAlert: null,
            alerts: [],
          },
        ],
        alerts: [
          {
            alertname: 'HighMemoryUsage',
            server: 'db-01',
            severity: 'warning',
            firedAt: Date.UTC(2026, 11, 6, 9, 7),
            step: 0,
            secondsAfterStep: 420,
          },
          {
            alertname: 'HighCPUUsage',
            server: 'web-09',
            severity: 'warning',
            firedAt: Date.UTC(2026, 11, 6, 9, 8),
            step: null,
            secondsAfterStep: null,
          },
        ],
        unrelated: 1,
        notifications: [
          {
            at: Date.UTC(2026, 11, 6, 9, 7, 30),
            receiver: 'slack',
            groupKey: 'k',
            status: 'firing',
            outcome: 'delivered',
          },
        ],
        receivers: ['slack'],
        detectionRate: 0.5,
      },
    });
    finished.steps[1] = {
      ...(finished.steps[1] as (typeof finished.steps)[number]),
      scenarioId: 's-2',
      affected: ['api-01'],
    };
    backend([finished]);
    renderPage(<Drills />, { route: 'drills' });
    const report = await screen.findByTestId(testIds.drills.report);
    expect(report).toHaveTextContent(
      /Detected 50 % of the injected steps.*1 unrelated alert.*receivers notified: slack/
    );
    const rows = within(screen.getByTestId(testIds.drills.run)).getAllByTestId(testIds.drills.step);
    expect(rows[0]).toHaveTextContent(/yes\s*HighMemoryUsage\s*420 s/);
    expect(rows[1]).toHaveTextContent(/no\s*–\s*–/);
    expect(within(report).getByRole('table', { name: 'Alerts during the drill' })).toHaveTextContent(
      /HighCPUUsage\s*web-09.*unrelated/
    );
    expect(screen.queryByRole('button', { name: /abort/i })).not.toBeInTheDocument();
  });

  test("shows the exporter's refusal plainly", async () => {
    backend([], {
      'POST api/drills': () => ({
        status: 409,
        body: { error: { code: 'OM_DRILL_RUNNING', message: 'drill run-0 is running: abort it first' } },
      }),
    });
    renderPage(<Drills />, { route: 'drills' });
    fireEvent.click(await screen.findByRole('button', { name: 'Start Database memory leak' }));
    expect(await screen.findByTestId(testIds.drills.error)).toHaveTextContent(/abort it first/);
  });
});
