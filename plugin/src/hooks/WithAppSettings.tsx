import React, { type ReactNode } from 'react';
import { Alert, LoadingPlaceholder } from '@grafana/ui';

import { loadPluginSettings } from '../api/settings';
import { AppSettingsProvider } from './AppSettings';
import { useAsync } from './useAsync';

/**
 * WithAppSettings loads the app's settings from Grafana and provides them to its children: code that runs
 * outside the app's pages (a panel in any dashboard) needs the live URL and must know the app is enabled,
 * since every exporter call goes through the app's proxy routes.
 */
export function WithAppSettings({ children }: { children: ReactNode }) {
  const settings = useAsync(() => loadPluginSettings(), []);
  if (settings.error) {
    return (
      <Alert severity="error" title="Cannot read the OpenManager Fleet app's settings">
        {settings.error.message}
      </Alert>
    );
  }
  if (!settings.data) {
    return <LoadingPlaceholder text="Loading…" />;
  }
  if (!settings.data.enabled) {
    return (
      <Alert severity="info" title="The OpenManager Fleet app is not enabled">
        Enable it (Administration → Plugins → OpenManager Fleet) and set the exporter URL: this panel reads the exporter
        through the app.
      </Alert>
    );
  }
  return <AppSettingsProvider value={settings.data.jsonData}>{children}</AppSettingsProvider>;
}
