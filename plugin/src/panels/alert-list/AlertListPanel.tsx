import React, { useEffect, useMemo } from 'react';
import { css, cx } from '@emotion/css';
import { locationUtil, type GrafanaTheme2, type PanelProps } from '@grafana/data';
import { Alert, Badge, useStyles2 } from '@grafana/ui';

import { activeText, severityColor } from '../../components/AlertTable/format';
import { testIds } from '../../components/testIds';
import { selectAlerts, whyEmpty, type AlertRow, type AlertRowState } from '../../hooks/alert-feed';
import { useAlertFeed } from '../../hooks/useAlertFeed';
import { useNow } from '../../hooks/useNow';
import { WithAppSettings } from '../../hooks/WithAppSettings';
import type { AlertListOptions } from './types';

/** RESOLVED_WINDOW_BOUNDS_MS bound "resolved within the dashboard's time range": 5 min to 1 day. */
const RESOLVED_WINDOW_BOUNDS_MS = { min: 5 * 60_000, max: 24 * 3_600_000 } as const;
/** NOW_REFRESH_MS refreshes "active for" once per simulator tick (15 s). */
const NOW_REFRESH_MS = 15_000;
const ACTIVE_STATES: AlertRowState[] = ['firing', 'pending'];

/** AlertListPanel is the "OpenManager alerts" panel: the exporter's alerts in any dashboard, through the app. */
export function AlertListPanel(props: PanelProps<AlertListOptions>) {
  return (
    <WithAppSettings>
      <AlertList {...props} />
    </WithAppSettings>
  );
}

/** serverFilter reads the servers option: ids separated by commas, dashboard variables expanded. */
export function serverFilter(raw: string, replaceVariables: PanelProps['replaceVariables']): string[] {
  return replaceVariables(raw ?? '', undefined, 'csv')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('$'));
}

function AlertList({ options, width, height, timeRange, replaceVariables }: PanelProps<AlertListOptions>) {
  const styles = useStyles2(getStyles);
  const rangeMs = timeRange.to.valueOf() - timeRange.from.valueOf();
  const resolvedWindowMs = options.showResolved
    ? Math.min(RESOLVED_WINDOW_BOUNDS_MS.max, Math.max(RESOLVED_WINDOW_BOUNDS_MS.min, rangeMs))
    : 0;
  const { feed, rules, error, loading, reload } = useAlertFeed({ resolvedWindowMs });
  const now = useNow(NOW_REFRESH_MS);

  // A dashboard refresh moves a relative time range: re-read the API then, as a query would be re-run.
  const refreshedAt = timeRange.to.valueOf();
  useEffect(() => {
    reload();
  }, [refreshedAt, reload]);

  const servers = serverFilter(options.servers, replaceVariables);
  const serverKey = servers.join(',');
  const severityKey = (options.severities ?? []).join(',');
  const all = useMemo(
    () =>
      selectAlerts(feed, {
        severities: severityKey ? severityKey.split(',') : undefined,
        servers: serverKey ? serverKey.split(',') : undefined,
        states: options.showResolved ? undefined : ACTIVE_STATES,
      }),
    [feed, severityKey, serverKey, options.showResolved]
  );
  const rows = all.slice(0, Math.max(1, options.maxItems || 1));

  if (error && rows.length === 0) {
    return (
      <Alert severity="error" title="Cannot load alerts">
        {error.message}
      </Alert>
    );
  }
  return (
    <div className={styles.container} style={{ width, height }} data-testid={testIds.alertListPanel.container}>
      {rows.length === 0 && !loading && (
        <div className={styles.empty} data-testid={testIds.alertListPanel.empty}>
          {whyEmpty(rules, feed.active.size, Boolean(severityKey || serverKey)) === 'no-rules'
            ? 'No alert rules are loaded in the exporter: nothing can fire.'
            : options.showResolved
              ? 'No alerts in this time range.'
              : 'No firing or pending alerts.'}
        </div>
      )}
      {rows.map((row) => (
        <AlertListItem
          key={row.key}
          row={row}
          now={now}
          href={row.server ? serverHref(options.serverLink, row.server, replaceVariables) : undefined}
        />
      ))}
      {all.length > rows.length && (
        <div className={styles.more}>
          {all.length - rows.length} more (raise “Max items” or open the app&apos;s Alerts page)
        </div>
      )}
    </div>
  );
}

/** serverHref fills the link template for one server, under Grafana's sub-path. */
function serverHref(template: string, server: string, replaceVariables: PanelProps['replaceVariables']): string {
  const url = replaceVariables(template, { server: { text: server, value: server } });
  return url.startsWith('/') ? locationUtil.assureBaseUrl(url) : url;
}

function AlertListItem({ row, now, href }: { row: AlertRow; now: number; href: string | undefined }) {
  const styles = useStyles2(getStyles);
  return (
    <div
      className={cx(styles.item, styles[row.state])}
      data-testid={testIds.alertListPanel.item}
      data-state={row.state}
      data-server={row.server ?? ''}
      data-alertname={row.name}
    >
      <div className={styles.line}>
        <span className={styles.name}>{row.name}</span>
        <Badge text={row.severity} color={severityColor(row.severity)} />
        {row.server && (href ? <a href={href}>{row.server}</a> : <span>{row.server}</span>)}
        <span className={styles.when}>
          {row.state === 'resolved' ? activeText(row, now) : `${row.state} ${activeText(row, now)}`}
        </span>
      </div>
      {row.summary && <div className={styles.summary}>{row.summary}</div>}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({ overflow: 'auto', display: 'flex', flexDirection: 'column', gap: theme.spacing(0.5) }),
  item: css({
    borderLeft: `4px solid ${theme.colors.border.medium}`,
    background: theme.colors.background.secondary,
    padding: theme.spacing(0.5, 1),
    borderRadius: theme.shape.radius.default,
  }),
  firing: css({ borderLeftColor: theme.colors.error.main }),
  pending: css({ borderLeftColor: theme.colors.warning.main }),
  resolved: css({ borderLeftColor: theme.colors.success.main, opacity: 0.8 }),
  line: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1), flexWrap: 'wrap' }),
  name: css({ fontWeight: theme.typography.fontWeightMedium }),
  when: css({ marginLeft: 'auto', color: theme.colors.text.secondary, whiteSpace: 'nowrap' }),
  summary: css({
    color: theme.colors.text.secondary,
    fontSize: theme.typography.bodySmall.fontSize,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  }),
  empty: css({ color: theme.colors.text.secondary, padding: theme.spacing(2) }),
  more: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
});
