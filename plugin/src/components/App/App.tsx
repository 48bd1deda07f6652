import React, { Suspense, lazy } from 'react';
import { Route, Routes } from 'react-router-dom';
import type { AppRootProps } from '@grafana/data';
import { LoadingPlaceholder } from '@grafana/ui';

import { ROUTES } from '../../constants';
import { AppSettingsProvider } from '../../hooks/AppSettings';
import type { AppJsonData } from '../../types';

const Fleet = lazy(() => import('../../pages/Fleet/Fleet'));
const Coverage = lazy(() => import('../../pages/Coverage/Coverage'));
const Drills = lazy(() => import('../../pages/Drills/Drills'));
const Server = lazy(() => import('../../pages/Server/Server'));
const Scenarios = lazy(() => import('../../pages/Scenarios/Scenarios'));
const Alerts = lazy(() => import('../../pages/Alerts/Alerts'));
const Analysis = lazy(() => import('../../pages/Analysis/Analysis'));

/** App is the app's root page: the settings context and the page routes. */
function App(props: AppRootProps<AppJsonData>) {
  return (
    <AppSettingsProvider value={props.meta.jsonData ?? {}}>
      <Suspense fallback={<LoadingPlaceholder text="Loading…" />}>
        <Routes>
          <Route path={ROUTES.Fleet} element={<Fleet />} />
          <Route path={ROUTES.Coverage} element={<Coverage />} />
          <Route path={ROUTES.Drills} element={<Drills />} />
          <Route path={`${ROUTES.Server}/:id`} element={<Server />} />
          <Route path={ROUTES.Scenarios} element={<Scenarios />} />
          <Route path={ROUTES.Alerts} element={<Alerts />} />
          <Route path={ROUTES.Analysis} element={<Analysis />} />
          <Route path="*" element={<Fleet />} />
        </Routes>
      </Suspense>
    </AppSettingsProvider>
  );
}

export default App;
