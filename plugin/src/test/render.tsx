/**
 * Renders a page as the app would: inside a router at the app's URL and with the app's settings.
 */
import React, { type ReactElement } from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { render, type RenderResult } from '@testing-library/react';

import { PLUGIN_BASE_URL } from '../constants';
import { AppSettingsProvider } from '../hooks/AppSettings';
import type { AppJsonData } from '../types';

/** renderPage mounts `element` at `route` (below the app's base URL) with `settings` as jsonData. */
export function renderPage(
  element: ReactElement,
  { route = 'fleet', path = route, settings = {} }: { route?: string; path?: string; settings?: AppJsonData } = {}
): RenderResult {
  return render(
    <AppSettingsProvider value={settings}>
      <MemoryRouter initialEntries={[`${PLUGIN_BASE_URL}/${route}`]}>
        <Routes>
          <Route path={`${PLUGIN_BASE_URL}/${path}`} element={element} />
          <Route path="*" element={<div data-testid="navigated-away" />} />
        </Routes>
      </MemoryRouter>
    </AppSettingsProvider>
  );
}
