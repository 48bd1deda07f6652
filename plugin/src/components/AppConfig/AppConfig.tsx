import React, { useState, type ChangeEvent, type FormEvent } from 'react';
import { css } from '@emotion/css';
import type { AppPluginMeta, GrafanaTheme2, PluginConfigPageProps } from '@grafana/data';
import { DataSourcePicker } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet, Input, SecretInput, Stack, useStyles2 } from '@grafana/ui';

import { exporterClient } from '../../api/client';
import { toExporterApiError } from '../../api/errors';
import { deriveLiveUrl } from '../../api/live';
import { savePluginSettings } from '../../api/settings';
import { DEFAULT_DATASOURCE_UID, DEFAULT_EXPORTER_URL } from '../../constants';
import type { AppJsonData, AppSecureJsonData } from '../../types';
import { testIds } from '../testIds';

/** AppConfigProps are the props Grafana passes to the app's configuration page. */
export interface AppConfigProps extends PluginConfigPageProps<AppPluginMeta<AppJsonData>> {
  /** onSaved runs after a successful save; Grafana's plugin meta is cached, so the default reloads the page. */
  onSaved?: () => void;
}

type TestResult = { ok: true; message: string } | { ok: false; message: string };

/**
 * AppConfig edits the exporter URL, the API and hub tokens (write-only), the live URL and the charts' data
 * source, and tests the connection.
 */
const AppConfig = ({ plugin, onSaved = () => window.location.reload() }: AppConfigProps) => {
  const styles = useStyles2(getStyles);
  const { enabled, pinned, jsonData, secureJsonFields } = plugin.meta;
  const [exporterUrl, setExporterUrl] = useState(jsonData?.exporterUrl ?? '');
  const [liveUrl, setLiveUrl] = useState(jsonData?.liveUrl ?? '');
  // A token is undefined until typed or reset: only then is it sent (Grafana keeps the stored one otherwise).
  const [apiToken, setApiToken] = useState<string | undefined>(undefined);
  const [tokenSet, setTokenSet] = useState(Boolean(secureJsonFields?.apiToken));
  const [hubToken, setHubToken] = useState<string | undefined>(undefined);
  const [hubTokenSet, setHubTokenSet] = useState(Boolean(secureJsonFields?.hubToken));
  const [datasourceUid, setDatasourceUid] = useState(jsonData?.datasourceUid ?? '');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | undefined>(undefined);
  const [testing, setTesting] = useState(false);
  const [testResult, setTestResult] = useState<TestResult | undefined>(undefined);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setSaveError(undefined);
    try {
      await savePluginSettings({
        enabled: Boolean(enabled),
        pinned: Boolean(pinned),
        jsonData: {
          exporterUrl: exporterUrl.trim(),
          liveUrl: liveUrl.trim(),
          ...(datasourceUid ? { datasourceUid } : {}),
        },
        // Tokens are write-only: send one only when the user typed a new one (or reset it to empty).
        secureJsonData: secureUpdate({ apiToken, hubToken }),
      });
      setSaving(false);
      onSaved();
    } catch (err) {
      setSaving(false);
      setSaveError(toExporterApiError(err).message);
    }
  };

  const onTest = async () => {
    setTesting(true);
    setTestResult(undefined);
    try {
      const health = await exporterClient.health();
      setTestResult({ ok: true, message: `Connected: the exporter reports "${health.status ?? 'ok'}".` });
    } catch (err) {
      setTestResult({ ok: false, message: toExporterApiError(err).message });
    } finally {
      setTesting(false);
    }
  };

  return (
    <form onSubmit={onSubmit}>
      <FieldSet label="Exporter connection">
        <Field
          label="Exporter URL"
          description="The exporter's base URL as Grafana's server reaches it; every API call goes through Grafana's plugin proxy."
        >
          <Input
            width={60}
            id="config-exporter-url"
            data-testid={testIds.appConfig.exporterUrl}
            value={exporterUrl}
            placeholder={DEFAULT_EXPORTER_URL}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setExporterUrl(e.target.value)}
          />
        </Field>
        <Field
          label="API token"
          description="The exporter's API_TOKEN, needed to inject and stop scenarios. Stored encrypted and never shown again."
        >
          <SecretInput
            width={60}
            id="config-api-token"
            data-testid={testIds.appConfig.apiToken}
            value={apiToken ?? ''}
            isConfigured={tokenSet}
            placeholder="Exporter API token"
            onChange={(e: ChangeEvent<HTMLInputElement>) => setApiToken(e.target.value.trim())}
            onReset={() => {
              setApiToken('');
              setTokenSet(false);
            }}
          />
        </Field>
        <Field
          label="Hub token"
          description="The exporter's HUB_TOKEN, when it sets one. Grafana's server trades it for single-use tickets for the live connection; the browser never receives it."
        >
          <SecretInput
            width={60}
            id="config-hub-token"
            data-testid={testIds.appConfig.hubToken}
            value={hubToken ?? ''}
            isConfigured={hubTokenSet}
            placeholder="Exporter hub token (optional)"
            onChange={(e: ChangeEvent<HTMLInputElement>) => setHubToken(e.target.value.trim())}
            onReset={() => {
              setHubToken('');
              setHubTokenSet(false);
            }}
          />
        </Field>
        <Field
          label="Data source"
          description={`The Prometheus-type data source the Server page's charts query: the provisioned "OpenManager" source (uid ${DEFAULT_DATASOURCE_UID}) when empty, or e.g. the stack's Prometheus.`}
        >
          <div data-testid={testIds.appConfig.datasource}>
            <DataSourcePicker
              width={60}
              pluginId="prometheus"
              current={datasourceUid || DEFAULT_DATASOURCE_UID}
              noDefault
              onChange={(ds) => setDatasourceUid(ds.uid === DEFAULT_DATASOURCE_UID ? '' : ds.uid)}
            />
          </div>
        </Field>
        <Field
          label="Live URL"
          description="The hub's WebSocket URL as the browser reaches it. Empty: derived from the exporter URL."
        >
          <Input
            width={60}
            id="config-live-url"
            data-testid={testIds.appConfig.liveUrl}
            value={liveUrl}
            placeholder={deriveLiveUrl(exporterUrl || DEFAULT_EXPORTER_URL)}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setLiveUrl(e.target.value)}
          />
        </Field>
        {saveError && (
          <Alert severity="error" title="Settings not saved">
            {saveError}
          </Alert>
        )}
        <Stack gap={1} direction="row">
          <Button type="submit" data-testid={testIds.appConfig.submit} disabled={saving || !exporterUrl.trim()}>
            {saving ? 'Saving…' : 'Save settings'}
          </Button>
          <Button
            type="button"
            variant="secondary"
            icon="heart-rate"
            data-testid={testIds.appConfig.testConnection}
            disabled={testing}
            onClick={onTest}
          >
            {testing ? 'Testing…' : 'Test connection'}
          </Button>
        </Stack>
        {testResult && (
          <div className={styles.result} data-testid={testIds.appConfig.testResult} role="status">
            <Alert
              severity={testResult.ok ? 'success' : 'error'}
              title={testResult.ok ? 'Connection works' : 'Connection failed'}
            >
              {testResult.message}
              {testResult.ok ? '' : ' (Save the settings first: the test goes through the saved proxy route.)'}
            </Alert>
          </div>
        )}
      </FieldSet>
    </form>
  );
};

export default AppConfig;

/** secureUpdate keeps only the secrets to (re)write; undefined when none is, so Grafana keeps the stored ones. */
function secureUpdate(fields: Record<string, string | undefined>): AppSecureJsonData | undefined {
  const changed = Object.entries(fields).filter(([, v]) => v !== undefined);
  return changed.length > 0 ? (Object.fromEntries(changed) as AppSecureJsonData) : undefined;
}

const getStyles = (theme: GrafanaTheme2) => ({
  result: css({ marginTop: theme.spacing(2) }),
});
