import React, { memo } from 'react';
import { Link } from 'react-router-dom';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Badge, Button, LinkButton, useStyles2 } from '@grafana/ui';

import { serverPageUrl } from '../../constants';
import type { AlertRow } from '../../hooks/alert-feed';
import { alertListUrl } from '../../utils/links';
import { testIds } from '../testIds';
import { activeText, formatAlertValue, severityColor, STATE_COLOR } from './format';

/** AlertTableProps: the rows to show, in order, the time the durations are counted to, and the silences. */
export interface AlertTableProps {
  rows: readonly AlertRow[];
  now: number;
  /** silenced holds the keys of the alerts a silence in force covers. */
  silenced?: ReadonlySet<string>;
  /** onSilence opens the silence dialog for an alert; absent when the user may not silence (viewers). */
  onSilence?: (row: AlertRow) => void;
}

/**
 * AlertTable lists alerts with state, severity, name, server (a link to its Server page), summary, value and how
 * long each has been active, and a link to the rule in Grafana's alert list. Rows are memoised on their
 * identity, which the feed keeps for unchanged alerts: a live update re-renders only the rows that changed.
 */
export function AlertTable({ rows, now, silenced, onSilence }: AlertTableProps) {
  const styles = useStyles2(getStyles);
  return (
    <table className={styles.table} data-testid={testIds.alerts.table}>
      <thead>
        <tr>
          <th>State</th>
          <th>Severity</th>
          <th>Alert</th>
          <th>Server</th>
          <th>Summary</th>
          <th className={styles.num}>Value</th>
          <th>Active for</th>
          <th>
            <span className={styles.hidden}>Links</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <AlertTableRow
            key={row.key}
            row={row}
            now={now}
            silenced={silenced?.has(row.key) ?? false}
            onSilence={onSilence}
          />
        ))}
      </tbody>
    </table>
  );
}

const AlertTableRow = memo(function AlertTableRow({
  row,
  now,
  silenced,
  onSilence,
}: {
  row: AlertRow;
  now: number;
  silenced: boolean;
  onSilence: ((row: AlertRow) => void) | undefined;
}) {
  const styles = useStyles2(getStyles);
  return (
    <tr
      data-testid={testIds.alerts.row}
      data-state={row.state}
      data-severity={row.severity}
      data-server={row.server ?? ''}
      data-alertname={row.name}
      data-silenced={silenced}
    >
      <td className={styles.nowrap}>
        <Badge text={row.state} color={STATE_COLOR[row.state]} />
        {silenced && <Badge text="silenced" color="blue" icon="bell-slash" className={styles.silenced} />}
      </td>
      <td>
        <Badge text={row.severity} color={severityColor(row.severity)} />
      </td>
      <td className={styles.name}>{row.name}</td>
      <td>
        {row.server ? (
          <Link to={serverPageUrl(row.server)} data-testid={testIds.alerts.serverLink}>
            {row.server}
          </Link>
        ) : (
          '—'
        )}
      </td>
      <td className={styles.summary}>{row.summary || '—'}</td>
      <td className={styles.num}>{formatAlertValue(row.value)}</td>
      <td className={styles.nowrap}>{activeText(row, now)}</td>
      <td className={styles.nowrap}>
        {onSilence && row.state !== 'resolved' && !silenced && (
          <Button
            size="sm"
            variant="secondary"
            fill="text"
            icon="bell-slash"
            onClick={() => onSilence(row)}
            tooltip="Silence this alert's notifications"
            aria-label={`Silence ${row.name}${row.server ? ` on ${row.server}` : ''}`}
            data-testid={testIds.silences.action}
          />
        )}
        <LinkButton
          size="sm"
          variant="secondary"
          fill="text"
          icon="bell"
          href={alertListUrl(row.name, row.server)}
          tooltip="Open this rule in Grafana's alert list"
          aria-label={`${row.name} in Grafana's alert list`}
          data-testid={testIds.alerts.alertListLink}
        />
      </td>
    </tr>
  );
});

const getStyles = (theme: GrafanaTheme2) => ({
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    'th, td': {
      padding: theme.spacing(0.5, 1),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
      textAlign: 'left',
      verticalAlign: 'middle',
    },
    th: { color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightMedium },
  }),
  name: css({ fontWeight: theme.typography.fontWeightMedium }),
  summary: css({ color: theme.colors.text.secondary, maxWidth: 480 }),
  num: css({ textAlign: 'right', fontVariantNumeric: 'tabular-nums' }),
  nowrap: css({ whiteSpace: 'nowrap' }),
  silenced: css({ marginLeft: theme.spacing(0.5) }),
  hidden: css({ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }),
});
