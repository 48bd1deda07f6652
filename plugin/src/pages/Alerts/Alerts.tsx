import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { Alert, Badge, EmptyState, LoadingPlaceholder, useStyles2 } from '@grafana/ui';

import { testIds } from '../../components/testIds';
import { groupAlerts, useAlerts } from '../../hooks/useAlerts';

const SEVERITY_COLOR: Record<string, 'red' | 'orange' | 'blue' | 'purple'> = {
  critical: 'red',
  warning: 'orange',
  info: 'blue',
};

/** Alerts shows firing and pending alerts grouped by severity and server, and the loaded rules. */
export function Alerts() {
  const styles = useStyles2(getStyles);
  const { data, error, loading } = useAlerts();
  const groups = useMemo(() => groupAlerts(data?.alerts ?? []), [data]);
  const rules = useMemo(
    () => (data?.groups ?? []).flatMap((g) => g.rules.map((r) => ({ group: g.name, ...r }))),
    [data]
  );

  return (
    <PluginPage>
      <div data-testid={testIds.alerts.container} className={styles.page}>
        {error && (
          <Alert severity="error" title="Cannot load alerts">
            {error.message}
          </Alert>
        )}
        {!data && loading && <LoadingPlaceholder text="Loading alerts…" />}
        {data && groups.length === 0 && (
          <div data-testid={testIds.alerts.empty}>
            <EmptyState variant="completed" message="No active or pending alerts">
              {rules.length === 0
                ? 'The exporter has no alert rules loaded yet; alerts appear here as soon as rules fire.'
                : `All ${rules.length} rules are inactive.`}
            </EmptyState>
          </div>
        )}
        {groups.map((g) => (
          <section key={g.severity} data-testid={testIds.alerts.group} aria-label={`${g.severity} alerts`}>
            <h3 className={styles.h3}>
              <Badge text={g.severity} color={SEVERITY_COLOR[g.severity] ?? 'purple'} /> {g.count} alert
              {g.count === 1 ? '' : 's'}
            </h3>
            {g.servers.map(({ server, alerts }) => (
              <div key={server} className={styles.server}>
                <strong>{server}</strong>
                <ul className={styles.list}>
                  {alerts.map((a, i) => (
                    <li key={i}>
                      <Badge text={a.state} color={a.state === 'firing' ? 'red' : 'orange'} />{' '}
                      <strong>{a.labels.alertname ?? 'alert'}</strong>
                      {a.annotations.summary ? ` — ${a.annotations.summary}` : ''}
                      {a.value !== undefined ? <span className={styles.muted}> (value {a.value})</span> : null}
                      {a.activeAt ? (
                        <span className={styles.muted}> since {new Date(a.activeAt).toLocaleString()}</span>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </section>
        ))}
        <section data-testid={testIds.alerts.rules} aria-label="Alert rules">
          <h3 className={styles.h3}>Rules ({rules.length})</h3>
          {rules.length === 0 ? (
            <p className={styles.muted}>No rules loaded.</p>
          ) : (
            <table className={styles.table}>
              <thead>
                <tr>
                  <th>Group</th>
                  <th>Rule</th>
                  <th>Type</th>
                  <th>State</th>
                  <th>Query</th>
                </tr>
              </thead>
              <tbody>
                {rules.map((r) => (
                  <tr key={`${r.group}/${r.name}`}>
                    <td>{r.group}</td>
                    <td>{r.name}</td>
                    <td>{r.type}</td>
                    <td>{r.type === 'alerting' ? r.state : r.health}</td>
                    <td>
                      <code>{r.query}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </PluginPage>
  );
}

export default Alerts;

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  h3: css({ fontSize: theme.typography.h4.fontSize }),
  server: css({ marginLeft: theme.spacing(2), marginBottom: theme.spacing(1) }),
  list: css({ listStyle: 'none', marginLeft: theme.spacing(2) }),
  muted: css({ color: theme.colors.text.secondary }),
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    'th, td': {
      padding: theme.spacing(0.5, 1),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
      textAlign: 'left',
    },
  }),
});
