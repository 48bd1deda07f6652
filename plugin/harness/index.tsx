/**
 * The browser harness: the app's own pages (and its panels in the shipped dashboards) rendered with @grafana/ui
 * and @grafana/scenes outside Grafana, against a real exporter reached through the harness server's emulation of
 * Grafana's plugin proxy and data source proxy. Not shipped in the plugin.
 */
import React, { useLayoutEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { Route, Router, Routes, type Navigator } from 'react-router-dom';
import { createTheme, EventBusSrv, PluginType, ThemeContext, type AppRootProps } from '@grafana/data';
import {
  LocationServiceProvider,
  locationService,
  setAppEvents,
  setBackendSrv,
  setPluginImportUtils,
  type BackendSrv,
} from '@grafana/runtime';
import { GlobalStyles } from '@grafana/ui';

import App from '../src/components/App/App';
import { PLUGIN_BASE_URL, PLUGIN_ID } from '../src/constants';
import type { AppJsonData } from '../src/types';
import { browserBackendSrv } from './backend-srv';
import { DashboardHarness } from './dashboard';
import { installDataSources, type HarnessSource } from './datasource';

declare global {
  interface Window {
    /** __OM_HARNESS__ is the harness configuration the server injects into index.html. */
    __OM_HARNESS__?: { jsonData: AppJsonData; datasources?: HarnessSource[] };
    /** __OM_NAVIGATE__ navigates inside the loaded app, as a click in Grafana's menu does (bench:ui). */
    __OM_NAVIGATE__?: (path: string) => void;
  }
}

setBackendSrv(browserBackendSrv() as unknown as BackendSrv);
setAppEvents(new EventBusSrv());
// As in Grafana, panels load through the plugin importer; the harness has no core panels (the app's charts are
// runtime panels, registered by the app itself).
setPluginImportUtils({
  importPanelPlugin: (id: string) => Promise.reject(new Error(`the harness has no panel plugin ${id}`)),
  getPanelPluginFromCache: () => undefined,
});
installDataSources(
  window.__OM_HARNESS__?.datasources ?? [{ uid: 'openmanager', name: 'OpenManager', isDefault: true }]
);

/**
 * LocationServiceRouter routes on Grafana's location service history, as Grafana does, so a scene's URL sync
 * (locationService.partial) and the app's router see the same location.
 */
function LocationServiceRouter({ children }: { children: ReactNode }) {
  const history = locationService.getHistory();
  const [state, setState] = useState({ location: history.location, action: history.action });
  useLayoutEffect(
    () =>
      history.listen((location: typeof history.location, action: typeof history.action) =>
        setState({ location, action })
      ),
    [history]
  );
  return (
    <LocationServiceProvider service={locationService}>
      <Router
        location={state.location}
        navigationType={state.action as never}
        navigator={history as unknown as Navigator}
      >
        {children}
      </Router>
    </LocationServiceProvider>
  );
}

const theme = createTheme({ colors: { mode: 'dark' } });
const jsonData = window.__OM_HARNESS__?.jsonData ?? {};
const props = {
  meta: { id: PLUGIN_ID, name: 'OpenManager Fleet', type: PluginType.app, enabled: true, jsonData },
  basename: PLUGIN_BASE_URL,
  path: PLUGIN_BASE_URL,
  query: {},
  onNavChanged: () => undefined,
} as unknown as AppRootProps<AppJsonData>;

window.__OM_NAVIGATE__ = (path: string) => locationService.push(path);

const container = document.getElementById('root');
if (container) {
  createRoot(container).render(
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div style={{ padding: 16 }}>
        <LocationServiceRouter>
          <Routes>
            <Route path={`${PLUGIN_BASE_URL}/*`} element={<App {...props} />} />
            <Route path="/harness/dashboard/:uid" element={<DashboardHarness />} />
            {/* A page outside the app: bench:ui navigates from here, so each measured load mounts its page afresh. */}
            <Route path="/harness/blank" element={<div data-testid="harness-blank" />} />
          </Routes>
        </LocationServiceRouter>
      </div>
    </ThemeContext.Provider>
  );
}
