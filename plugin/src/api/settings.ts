/**
 * Saving the app's settings through Grafana's plugin settings API (not the exporter: the settings live in
 * Grafana, and the proxy routes read them from there).
 */
import { lastValueFrom } from 'rxjs';
import { getBackendSrv } from '@grafana/runtime';

import { PLUGIN_ID } from '../constants';
import type { AppJsonData, AppSecureJsonData } from '../types';
import { toExporterApiError } from './errors';

/** PluginSettingsUpdate is the body of POST /api/plugins/<id>/settings. */
export interface PluginSettingsUpdate {
  enabled: boolean;
  pinned: boolean;
  jsonData: AppJsonData;
  /** secureJsonData is sent only when the token changes: absent keeps the stored secret. */
  secureJsonData?: AppSecureJsonData;
}

/** savePluginSettings stores the app's settings in Grafana. */
export async function savePluginSettings(update: PluginSettingsUpdate): Promise<void> {
  try {
    await lastValueFrom(
      getBackendSrv().fetch({
        url: `/api/plugins/${PLUGIN_ID}/settings`,
        method: 'POST',
        data: update,
        showErrorAlert: false,
      })
    );
  } catch (err) {
    throw toExporterApiError(err);
  }
}

/** loadPluginSettings reads the app's settings from Grafana (for code outside the app's pages, e.g. panels). */
export async function loadPluginSettings(): Promise<{ enabled: boolean; jsonData: AppJsonData }> {
  try {
    const response = await lastValueFrom(
      getBackendSrv().fetch<{ enabled?: boolean; jsonData?: AppJsonData }>({
        url: `/api/plugins/${PLUGIN_ID}/settings`,
        method: 'GET',
        showErrorAlert: false,
      })
    );
    return { enabled: Boolean(response.data.enabled), jsonData: response.data.jsonData ?? {} };
  } catch (err) {
    throw toExporterApiError(err);
  }
}
