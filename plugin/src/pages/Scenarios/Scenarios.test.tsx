import React from 'react';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';

import { Scenarios } from './Scenarios';
import { testIds } from '../../components/testIds';
import { FakeBackend, type Reply } from '../../test/backend';
import { info, scenario } from '../../test/fixtures';
import { renderPage } from '../../test/render';

// No hub in these tests: the live client retries against a closed port while the page works from HTTP.
const settings = { liveUrl: 'ws://127.0.0.1:9/ws' };

function backend(post: () => Reply, active = [scenario('a1', { server: 'web-01' })]) {
  return new FakeBackend({
    'GET api/scenarios': () => ({
      body: { active, history: [scenario('h1', { kind: 'memory_leak', end: Date.UTC(2026, 0, 1, 11) })] },
    }),
    'GET api/servers': () => ({ body: [info('web-01', 'web'), info('db-01', 'db')] }),
    'POST api/scenarios': post,
    'DELETE api/scenarios/*': () => ({ status: 204, body: '' }),
  }).install();
}

describe('Scenarios page', () => {
  test('lists the kinds with descriptions, the active scenarios and the history', async () => {
    backend(() => ({ body: {} }));
    renderPage(<Scenarios />, { route: 'scenarios', settings });
    expect(await screen.findByTestId(testIds.scenarios.kinds)).toHaveTextContent(/cascading_failure/);
    await waitFor(() => expect(screen.getByTestId(testIds.scenarios.active)).toHaveTextContent('web-01'));
    expect(screen.getByTestId(testIds.scenarios.history)).toHaveTextContent('memory_leak');
  });

  test('injects the chosen kind on each chosen server with duration and intensity', async () => {
    const fake = backend(() => ({ status: 201, body: scenario('new') }));
    renderPage(<Scenarios />, { route: 'scenarios', settings });
    fireEvent.click(await screen.findByRole('radio', { name: 'Disk fill' }));
    fireEvent.click(await screen.findByLabelText('web-01'));
    fireEvent.click(screen.getByLabelText('db-01'));
    fireEvent.change(screen.getByLabelText('Duration (seconds)'), { target: { value: '120' } });
    fireEvent.change(screen.getByLabelText('Intensity'), { target: { value: '0.5' } });
    fireEvent.click(screen.getByRole('button', { name: /inject on 2 servers/i }));
    await waitFor(() =>
      expect(fake.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/scenarios'))).toHaveLength(2)
    );
    expect(
      fake.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/scenarios')).map((r) => r.data)
    ).toEqual([
      { kind: 'disk_fill', server: 'web-01', durationSeconds: 120, intensity: 0.5 },
      { kind: 'disk_fill', server: 'db-01', durationSeconds: 120, intensity: 0.5 },
    ]);
  });

  test.each([
    [
      'a missing token',
      {
        status: 401,
        body: { error: { code: 'OM_UNAUTHORIZED', message: 'this endpoint needs Authorization: Bearer <token>' } },
      },
      /needs Authorization: Bearer.*set the API token/,
    ],
    [
      'bad input',
      {
        status: 400,
        body: { error: { code: 'OM_BAD_REQUEST', message: 'durationSeconds: must be a positive number' } },
      },
      /durationSeconds: must be a positive number/,
    ],
  ])("shows the exporter's error plainly for %s", async (_name, reply, text) => {
    backend(() => reply);
    renderPage(<Scenarios />, { route: 'scenarios', settings });
    fireEvent.click(await screen.findByLabelText('web-01'));
    fireEvent.click(screen.getByRole('button', { name: /inject on 1 server/i }));
    expect(await screen.findByTestId(testIds.scenarios.error)).toHaveTextContent(text);
  });

  test('Stop ends an active scenario through DELETE', async () => {
    const fake = backend(() => ({ body: {} }));
    renderPage(<Scenarios />, { route: 'scenarios', settings });
    const active = await screen.findByTestId(testIds.scenarios.active);
    fireEvent.click(await within(active).findByRole('button', { name: /stop cpu_spike on web-01/i }));
    await waitFor(() => expect(fake.requests.some((r) => r.method === 'DELETE')).toBe(true));
    expect(fake.requests.find((r) => r.method === 'DELETE')?.url).toBe(
      'api/plugin-proxy/openmanager-fleet-app/api/scenarios/a1'
    );
  });
});
