import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { config } from '@grafana/runtime';

import { Coverage } from './Coverage';
import { testIds } from '../../components/testIds';
import { COVERAGE_POLL_MS } from '../../hooks/useCoverage';
import { FakeBackend, type Handler } from '../../test/backend';
import { coverageJob } from '../../test/coverage-fixtures';
import { renderPage } from '../../test/render';

function backend(handlers: Record<string, Handler>) {
  return new FakeBackend(handlers).install();
}

const posts = (fake: FakeBackend) => fake.requests.filter((r) => r.method === 'POST');

describe('Coverage page', () => {
  const user = config.bootData.user;
  beforeEach(() => {
    config.bootData.user = { ...user, orgRole: 'Editor' as never, permissions: undefined };
  });
  afterEach(() => {
    config.bootData.user = user;
    jest.useRealTimers();
  });

  test("shows the newest job's report: summary, matrix with misses in red, rules, timelines, miss links", async () => {
    backend({
      'GET api/coverage': () => ({ body: { jobs: [{ ...coverageJob('cov-2'), report: null }, coverageJob('cov-1')] } }),
      'GET api/coverage/cov-2': () => ({ body: coverageJob('cov-2') }),
    });
    renderPage(<Coverage />, { route: 'coverage', settings: { datasourceUid: 'prom' } });
    const matrix = await screen.findByTestId(testIds.coverage.matrix);
    const summary = screen.getByTestId(testIds.coverage.summary);
    expect(summary).toHaveTextContent(/Detection rate\s*80 %/);
    expect(summary).toHaveTextContent(/4 of 5 scenarios/);
    expect(summary).toHaveTextContent(/False alarms per day\s*4/);
    // The disk_fill row: HighDiskUsage fired once, one of two missed, and the row is marked.
    const disk = matrix.querySelector('tr[data-kind="disk_fill"]') as HTMLElement;
    expect(disk.getAttribute('data-misses')).toBe('1');
    expect(within(disk).getAllByTestId(testIds.coverage.matrixCell).map((c) => c.textContent)).toEqual([
      '',
      '1',
      '',
    ]);
    expect(disk).toHaveTextContent('1/2');
    // One chart per kind, each with a bar per scenario.
    const charts = screen.getAllByTestId(testIds.coverage.timeline);
    expect(charts.map((c) => c.getAttribute('data-kind'))).toEqual(['cpu_spike', 'disk_fill', 'cascading_failure']);
    expect(charts[1]?.querySelectorAll('g[data-detected]')).toHaveLength(2);
    expect(screen.getByTestId(testIds.coverage.rules)).toHaveTextContent(/NeverFires\s*0\s*1\s*0\s*every kind/);
    const link = within(screen.getByTestId(testIds.coverage.misses)).getByTestId(testIds.coverage.missLink);
    const panes = JSON.parse(new URLSearchParams(link.getAttribute('href')?.split('?')[1]).get('panes') ?? '{}');
    expect(panes.om.datasource).toBe('prom');
    expect(panes.om.queries[0].expr).toBe('openmanager_scenario_active{server="db-01"}');
    // "Series" draws the series that should have fired from the report itself: one line per mount.
    expect(screen.queryByTestId(testIds.coverage.signal)).toBeNull();
    fireEvent.click(within(screen.getByTestId(testIds.coverage.misses)).getByTestId(testIds.coverage.signalToggle));
    const chart = screen.getByTestId(testIds.coverage.signal);
    expect([...chart.querySelectorAll('path[data-series]')].map((p) => p.getAttribute('data-series'))).toEqual([
      '/',
      '/data',
    ]);
    expect(chart).toHaveAccessibleName('disk % of db-01 around the missed disk_fill');
    fireEvent.click(within(screen.getByTestId(testIds.coverage.misses)).getByTestId(testIds.coverage.signalToggle));
    expect(screen.queryByTestId(testIds.coverage.signal)).toBeNull();
    expect(screen.getByTestId(testIds.coverage.htmlLink)).toHaveAttribute(
      'href',
      '/api/plugin-proxy/openmanager-fleet-app/api/coverage/cov-2/report.html'
    );
  });

  test('starting a job sends the chosen knobs, shows its progress while it runs, then its matrix', async () => {
    jest.useFakeTimers();
    let reads = 0;
    const fake = backend({
      'GET api/coverage': () => ({ body: { jobs: [] } }),
      'POST api/coverage': () => ({
        status: 202,
        body: coverageJob('cov-9', {
          status: 'running',
          report: null,
          progress: { simulatedMs: 0, totalMs: 4 * 3_600_000, phase: 'simulating' },
        }),
      }),
      'GET api/coverage/cov-9': () => {
        reads += 1;
        return reads === 1
          ? {
              body: coverageJob('cov-9', {
                status: 'running',
                report: null,
                progress: { simulatedMs: 3_600_000, totalMs: 4 * 3_600_000, phase: 'simulating' },
              }),
            }
          : { body: coverageJob('cov-9') };
      },
    });
    renderPage(<Coverage />, { route: 'coverage' });
    await screen.findByText(/No coverage job has run/);
    fireEvent.change(screen.getByLabelText('Servers'), { target: { value: '2' } });
    fireEvent.change(screen.getByLabelText('Repetitions'), { target: { value: '1' } });
    fireEvent.change(screen.getByLabelText('Intensities'), { target: { value: '1' } });
    const kinds = screen.getByRole('group', { name: 'Scenario kinds' });
    for (const k of ['memory_leak', 'network_saturation', 'service_crash', 'latency_degradation']) {
      fireEvent.click(within(kinds).getByLabelText(k));
    }
    for (const k of ['cascading_failure', 'server_down']) {
      fireEvent.click(within(kinds).getByLabelText(k));
    }
    fireEvent.click(screen.getByRole('button', { name: /run coverage/i }));
    const bar = await screen.findByRole('progressbar');
    await waitFor(() => expect(bar).toHaveAttribute('aria-valuenow', '25'));
    expect(posts(fake).map((r) => r.data)).toEqual([
      { servers: 2, repetitions: 1, intensities: [1], kinds: ['cpu_spike', 'disk_fill'] },
    ]);
    // The button stays off while the job runs: one job at a time.
    expect(screen.getByRole('button', { name: /run coverage/i })).toHaveAttribute('aria-disabled', 'true');
    act(() => {
      jest.advanceTimersByTime(COVERAGE_POLL_MS);
    });
    expect(await screen.findByTestId(testIds.coverage.matrix)).toBeInTheDocument();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
    expect(reads).toBe(2);
  });

  test('a running job is followed through a failed read; its error shows until the next answer', async () => {
    jest.useFakeTimers();
    const answers = [
      { body: coverageJob('cov-5', { status: 'running', report: null }) },
      { status: 502, body: { message: 'Bad Gateway: the exporter restarted' } },
      { body: coverageJob('cov-5') },
    ];
    backend({
      'GET api/coverage': () => ({ body: { jobs: [{ ...coverageJob('cov-5'), status: 'running', report: null }] } }),
      'GET api/coverage/cov-5': () => answers.shift() ?? { body: coverageJob('cov-5') },
    });
    renderPage(<Coverage />, { route: 'coverage' });
    await screen.findByRole('progressbar');
    act(() => {
      jest.advanceTimersByTime(COVERAGE_POLL_MS);
    });
    expect(await screen.findByText(/the exporter restarted/)).toBeInTheDocument();
    act(() => {
      jest.advanceTimersByTime(COVERAGE_POLL_MS);
    });
    expect(await screen.findByTestId(testIds.coverage.matrix)).toBeInTheDocument();
    expect(screen.queryByText(/the exporter restarted/)).not.toBeInTheDocument();
    expect(answers).toEqual([]);
  });

  test('pasted rule files travel as name and YAML; without any, the button waits for one', async () => {
    const fake = backend({
      'GET api/coverage': () => ({ body: { jobs: [] } }),
      'POST api/coverage': () => ({ status: 202, body: coverageJob('cov-3') }),
      'GET api/coverage/cov-3': () => ({ body: coverageJob('cov-3') }),
    });
    renderPage(<Coverage />, { route: 'coverage' });
    fireEvent.click(await screen.findByRole('radio', { name: 'My rule files' }));
    expect(screen.getByRole('button', { name: /run coverage/i })).toBeDisabled();
    fireEvent.change(screen.getByLabelText('Rule file name'), { target: { value: 'cpu.yml' } });
    fireEvent.change(screen.getByLabelText('Rule file YAML'), { target: { value: 'groups: []\n' } });
    fireEvent.click(screen.getByRole('button', { name: /add file/i }));
    expect(screen.getByRole('list', { name: 'Rule files' })).toHaveTextContent('cpu.yml');
    fireEvent.click(screen.getByRole('button', { name: /run coverage/i }));
    await waitFor(() => expect(posts(fake)).toHaveLength(1));
    expect(posts(fake)[0]?.data).toEqual({ rules: [{ name: 'cpu.yml', yaml: 'groups: []\n' }] });
  });

  test('uploaded rule files are read as text and sent under their own names', async () => {
    const fake = backend({
      'GET api/coverage': () => ({ body: { jobs: [] } }),
      'POST api/coverage': () => ({ status: 202, body: coverageJob('cov-6') }),
      'GET api/coverage/cov-6': () => ({ body: coverageJob('cov-6') }),
    });
    renderPage(<Coverage />, { route: 'coverage' });
    fireEvent.click(await screen.findByRole('radio', { name: 'My rule files' }));
    const files = [new File(['groups: [a]\n'], 'a.yml'), new File(['groups: [b]\n'], 'b.yaml')];
    fireEvent.change(screen.getByLabelText('Upload rule files'), { target: { files } });
    await waitFor(() => expect(screen.getByRole('list', { name: 'Rule files' })).toHaveTextContent(/a\.yml.*b\.yaml/));
    fireEvent.click(screen.getByRole('button', { name: /run coverage/i }));
    await waitFor(() => expect(posts(fake)).toHaveLength(1));
    expect(posts(fake)[0]?.data).toEqual({
      rules: [
        { name: 'a.yml', yaml: 'groups: [a]\n' },
        { name: 'b.yaml', yaml: 'groups: [b]\n' },
      ],
    });
  });

  test.each([
    [
      'a job already running',
      { status: 409, body: { error: { code: 'OM_COVERAGE_RUNNING', message: 'coverage job cov-1 is running' } } },
      /cov-1 is running/,
    ],
    [
      'a missing token',
      { status: 401, body: { error: { code: 'OM_UNAUTHORIZED', message: 'this endpoint needs a token' } } },
      /needs a token.*set the API token/,
    ],
  ])("shows the exporter's refusal plainly for %s", async (_name, reply, text) => {
    backend({ 'GET api/coverage': () => ({ body: { jobs: [] } }), 'POST api/coverage': () => reply });
    renderPage(<Coverage />, { route: 'coverage' });
    await screen.findByText(/No coverage job has run/);
    fireEvent.click(screen.getByRole('button', { name: /run coverage/i }));
    expect(await screen.findByTestId(testIds.coverage.error)).toHaveTextContent(text);
  });

  test('a failed job says why', async () => {
    backend({
      'GET api/coverage': () => ({ body: { jobs: [] } }),
      'POST api/coverage': () => ({ status: 202, body: coverageJob('cov-4', { status: 'running', report: null }) }),
      'GET api/coverage/cov-4': () => ({
        body: coverageJob('cov-4', { status: 'failed', report: null, error: 'cpu.yml:3: bad expr' }),
      }),
    });
    renderPage(<Coverage />, { route: 'coverage' });
    await screen.findByText(/No coverage job has run/);
    fireEvent.click(screen.getByRole('button', { name: /run coverage/i }));
    expect(await screen.findByText(/cpu.yml:3: bad expr/)).toBeInTheDocument();
  });

  test('a viewer sees reports but cannot start a job', async () => {
    config.bootData.user = { ...user, orgRole: 'Viewer' as never, permissions: undefined };
    const fake = backend({ 'GET api/coverage': () => ({ body: { jobs: [] } }) });
    renderPage(<Coverage />, { route: 'coverage' });
    await screen.findByText(/No coverage job has run/);
    const run = screen.getByRole('button', { name: /run coverage/i });
    expect(run).toHaveAttribute('aria-disabled', 'true');
    fireEvent.click(run);
    expect(fake.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });
});
