import React from 'react';
import { Link, useParams } from 'react-router-dom';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { UrlSyncContextProvider } from '@grafana/scenes';
import { Alert, Badge, Stack, useStyles2 } from '@grafana/ui';

import { testIds } from '../../components/testIds';
import { prefixRoute, ROUTES } from '../../constants';
import { useServerInfo, useServerScene, useServices } from './Server.hooks';

/**
 * Server is one server's page: its description and services, then a scene of charts over the app's Prometheus
 * data source with the time picker, refresh picker and variables of a dashboard (kept in the URL), forecast
 * bands, anomaly regions and scenario and alert annotations.
 */
export function Server() {
  const styles = useStyles2(getStyles);
  const { id = '' } = useParams<{ id: string }>();
  const scene = useServerScene(id);
  const { info, error } = useServerInfo(id);
  const { services, error: servicesError } = useServices(id);

  return (
    <PluginPage>
      <div data-testid={testIds.server.container} className={styles.page}>
        <Stack direction="row" alignItems="center" gap={1} wrap="wrap">
          <Link to={prefixRoute(ROUTES.Fleet)}>Fleet</Link>
          <span>/</span>
          <h2 className={styles.title}>{id}</h2>
          {info && <Badge text={info.role} color="blue" />}
          {info && (
            <span className={styles.muted}>
              {info.cores} cores · {(info.memoryBytes / 2 ** 30).toFixed(0)} GiB · {info.zone}
            </span>
          )}
        </Stack>
        {error && (
          <Alert severity="error" title="Cannot load this server">
            {error}
          </Alert>
        )}
        <section data-testid={testIds.server.services} aria-label="Services">
          <Stack direction="row" gap={1} alignItems="center" wrap="wrap">
            <strong>Services</strong>
            {servicesError && <span className={styles.error}>{servicesError}</span>}
            {services?.length === 0 && <span className={styles.muted}>none reported</span>}
            {services?.map((s) => {
              const up = Number(s.value[1]) === 1;
              return (
                <Badge
                  key={s.metric.service ?? JSON.stringify(s.metric)}
                  text={`${s.metric.service ?? '?'} ${up ? 'up' : 'down'}`}
                  color={up ? 'green' : 'red'}
                  icon={up ? 'check' : 'exclamation-triangle'}
                />
              );
            })}
          </Stack>
        </section>
        <UrlSyncContextProvider scene={scene} updateUrlOnInit createBrowserHistorySteps>
          <div className={styles.scene} data-testid={testIds.server.scene}>
            <scene.Component model={scene} />
          </div>
        </UrlSyncContextProvider>
      </div>
    </PluginPage>
  );
}

export default Server;

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  title: css({ margin: 0 }),
  muted: css({ color: theme.colors.text.secondary }),
  error: css({ color: theme.colors.error.text }),
  scene: css({ display: 'flex', flexDirection: 'column', minHeight: 400 }),
});
