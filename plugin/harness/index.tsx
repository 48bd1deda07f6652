/**
 * The browser harness: the app's own pages rendered with @grafana/ui outside Grafana, against a real exporter
 * reached through the harness server's emulation of Grafana's plugin proxy. Not shipped in the plugin.
 */
import React from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { createTheme, PluginType, ThemeContext, type AppRootProps } from '@grafana/data';
import { setBackendSrv, type BackendSrv } from '@grafana/runtime';
import { GlobalStyles } from '@grafana/ui';

import App from '../src/components/App/App';
import { PLUGIN_BASE_URL, PLUGIN_ID } from '../src/constants';
import type { AppJsonData } from '../src/types';
import { browserBackendSrv } from './backend-srv';

declare global {
  interface Window {
    /** __OM_HARNESS__ is the harness configuration the server injects into index.html. */
    __OM_HARNESS__?: { jsonData: AppJsonData };
  }
}

setBackendSrv(browserBackendSrv() as unknown as BackendSrv);

const theme = createTheme({ colors: { mode: 'dark' } });
const jsonData = window.__OM_HARNESS__?.jsonData ?? {};
const props = {
  meta: { id: PLUGIN_ID, name: 'OpenManager Fleet', type: PluginType.app, enabled: true, jsonData },
  basename: PLUGIN_BASE_URL,
  path: PLUGIN_BASE_URL,
  query: {},
  onNavChanged: () => undefined,
} as unknown as AppRootProps<AppJsonData>;

const container = document.getElementById('root');
if (container) {
  createRoot(container).render(
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div style={{ padding: 16 }}>
        <BrowserRouter>
          <Routes>
            <Route path={`${PLUGIN_BASE_URL}/*`} element={<App {...props} />} />
          </Routes>
        </BrowserRouter>
      </div>
    </ThemeContext.Provider>
  );
}
