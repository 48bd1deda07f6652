import React from 'react';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { PluginType } from '@grafana/data';

import AppConfig, { type AppConfigProps } from './AppConfig';
import { testIds } from '../testIds';
import { FakeBackend } from '../../test/backend';
import { installFakeDataSources } from '../../test/datasources';

beforeEach(() =>
  installFakeDataSources([
    { uid: 'openmanager', name: 'OpenManager', isDefault: true },
    { uid: 'stack-prom', name: 'Stack Prometheus' },
  ])
);

function props(meta: Partial<AppConfigProps['plugin']['meta']> = {}, onSaved = jest.fn()): AppConfigProps {
  return {
    plugin: {
      meta: {
        id: 'openmanager-fleet-app',
        name: 'OpenManager Fleet',
        type: PluginType.app,
        enabled: true,
        pinned: true,
        jsonData: { exporterUrl: 'http://exporter:3001' },
        ...meta,
      },
    },
    query: {},
    onSaved,
  } as unknown as AppConfigProps;
}

describe('AppConfig', () => {
  test('saves the URLs as jsonData and a new token as secureJsonData', async () => {
    const backend = new FakeBackend({
      'POST /api/plugins/openmanager-fleet-app/settings': () => ({ body: {} }),
    }).install();
    const onSaved = jest.fn();
    render(<AppConfig {...props({}, onSaved)} />);
    fireEvent.change(screen.getByTestId(testIds.appConfig.apiToken), { target: { value: 's3cret' } });
    fireEvent.change(screen.getByTestId(testIds.appConfig.liveUrl), { target: { value: 'ws://browser-side:3001/ws' } });
    fireEvent.click(screen.getByRole('button', { name: /save settings/i }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(backend.requests[0]?.data).toEqual({
      enabled: true,
      pinned: true,
      jsonData: { exporterUrl: 'http://exporter:3001', liveUrl: 'ws://browser-side:3001/ws' },
      secureJsonData: { apiToken: 's3cret' },
    });
  });

  test('a stored token is never shown and not re-sent unless reset', async () => {
    const backend = new FakeBackend({
      'POST /api/plugins/openmanager-fleet-app/settings': () => ({ body: {} }),
    }).install();
    const onSaved = jest.fn();
    render(<AppConfig {...props({ secureJsonFields: { apiToken: true } }, onSaved)} />);
    const token = screen.getByTestId(testIds.appConfig.apiToken) as HTMLInputElement;
    expect(token.value).not.toContain('s3cret');
    expect(token).toBeDisabled();
    fireEvent.click(screen.getByRole('button', { name: /save settings/i }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(backend.requests[0]?.data).not.toHaveProperty('secureJsonData.apiToken');
  });

  test('a new hub token is sent alone, the stored API token kept, and the chosen data source saved', async () => {
    const backend = new FakeBackend({
      'POST /api/plugins/openmanager-fleet-app/settings': () => ({ body: {} }),
    }).install();
    const onSaved = jest.fn();
    render(
      <AppConfig
        {...props(
          {
            secureJsonFields: { apiToken: true },
            jsonData: { exporterUrl: 'http://exporter:3001', datasourceUid: 'stack-prom' },
          },
          onSaved
        )}
      />
    );
    expect(screen.getByTestId(testIds.appConfig.datasource)).toHaveTextContent('Stack Prometheus');
    fireEvent.change(screen.getByTestId(testIds.appConfig.hubToken), { target: { value: 'hub-s3cret' } });
    fireEvent.click(screen.getByRole('button', { name: /save settings/i }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(backend.requests[0]?.data).toEqual({
      enabled: true,
      pinned: true,
      jsonData: { exporterUrl: 'http://exporter:3001', liveUrl: '', datasourceUid: 'stack-prom' },
      secureJsonData: { hubToken: 'hub-s3cret' },
    });
  });

  test('the live URL placeholder is derived from the exporter URL', () => {
    render(<AppConfig {...props()} />);
    expect(screen.getByTestId(testIds.appConfig.liveUrl)).toHaveAttribute('placeholder', 'ws://exporter:3001/ws');
  });

  test.each([
    ['success', { body: { status: 'ok' } }, /connection works/i, /reports "ok"/],
    [
      "the exporter's error",
      { status: 503, body: { error: { code: 'OM_NOT_READY', message: 'storage is still loading' } } },
      /connection failed/i,
      /storage is still loading/,
    ],
  ])('"Test connection" calls /healthz through the proxy and shows %s', async (_name, reply, title, message) => {
    const backend = new FakeBackend({ 'GET healthz': () => reply }).install();
    render(<AppConfig {...props()} />);
    fireEvent.click(screen.getByRole('button', { name: /test connection/i }));
    const result = await screen.findByTestId(testIds.appConfig.testResult);
    expect(result).toHaveTextContent(title);
    expect(result).toHaveTextContent(message);
    expect(backend.requests[0]?.url).toBe('api/plugin-proxy/openmanager-fleet-app/healthz');
  });
});
