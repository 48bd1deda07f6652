import React, { memo, useLayoutEffect, useMemo, useRef } from 'react';
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
  // The action cells call back with the alert's key, looked up here at click time: their props stay the same while
  // only an alert's value changes, so a live update does not re-render every row's buttons and tooltips.
  const shown = useRef(rows);
  useLayoutEffect(() => {
    shown.current = rows;
  }, [rows]);
  const silenceKey = useMemo(
    () =>
      onSilence &&
      ((key: string) => {
        const row = shown.current.find((r) => r.key === key);
        if (row) {
          onSilence(row);
        }
      }),
    [onSilence]
  );
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
            onSilence={silenceKey}
          />
        ))}
      </tbody>
    </table>
  );
}

/**
 * AlertTableRow is one alert. Every rule evaluation changes an alert's value (and a summary that quotes it), so
 * a live update re-renders most rows: the cells that show what rarely changes (badges, links, buttons with
 * tooltips: the costly part) are memoised apart on their own fields.
 */
const AlertTableRow = memo(function AlertTableRow({
  row,
  now,
  silenced,
  onSilence,
}: {
  row: AlertRow;
  now: number;
  silenced: boolean;
  onSilence: ((key: string) => void) | undefined;
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
      <IdentityCells
        state={row.state}
        severity={row.severity}
        name={row.name}
        server={row.server}
        silenced={silenced}
      />
      <td className={styles.summary}>{row.summary || '—'}</td>
      <td className={styles.num}>{formatAlertValue(row.value)}</td>
      <td className={styles.nowrap}>{activeText(row, now)}</td>
      <ActionCell
        alertKey={row.key}
        name={row.name}
        server={row.server}
        silenceable={row.state !== 'resolved' && !silenced}
        onSilence={onSilence}
      />
    </tr>
  );
});

/** IdentityCells are a row's state, severity, name and server cells. */
const IdentityCells = memo(function IdentityCells({
  state,
  severity,
  name,
  server,
  silenced,
}: Pick<AlertRow, 'state' | 'severity' | 'name' | 'server'> & { silenced: boolean }) {
  const styles = useStyles2(getStyles);
  return (
    <>
      <td className={styles.nowrap}>
        <Badge text={state} color={STATE_COLOR[state]} />
        {silenced && <Badge text="silenced" color="blue" icon="bell-slash" className={styles.silenced} />}
      </td>
      <td>
        <Badge text={severity} color={severityColor(severity)} />
      </td>
      <td className={styles.name}>{name}</td>
      <td>
        {server ? (
          <Link to={serverPageUrl(server)} data-testid={testIds.alerts.serverLink}>
            {server}
          </Link>
        ) : (
          '—'
        )}
      </td>
    </>
  );
});

/** ActionCell holds a row's silence button (for editors, while the alert is active and not silenced) and its link. */
const ActionCell = memo(function ActionCell({
  alertKey,
  name,
  server,
  silenceable,
  onSilence,
}: {
  alertKey: string;
  name: string;
  server: string | undefined;
  silenceable: boolean;
  onSilence: ((key: string) => void) | undefined;
}) {
  const styles = useStyles2(getStyles);
  return (
    <td className={styles.nowrap}>
      {onSilence && silenceable && (
        <Button
          size="sm"
          variant="secondary"
          fill="text"
          icon="bell-slash"
          onClick={() => onSilence(alertKey)}
          tooltip="Silence this alert's notifications"
          aria-label={`Silence ${name}${server ? ` on ${server}` : ''}`}
          data-testid={testIds.silences.action}
        />
      )}
      <LinkButton
        size="sm"
        variant="secondary"
        fill="text"
        icon="bell"
        href={alertListUrl(name, server)}
        tooltip="Open this rule in Grafana's alert list"
        aria-label={`${name} in Grafana's alert list`}
        data-testid={testIds.alerts.alertListLink}
      />
    </td>
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
