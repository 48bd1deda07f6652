import React from 'react';
import { Link } from 'react-router-dom';
import { css } from '@emotion/css';
import { dateTimeFormat, urlUtil, type GrafanaTheme2 } from '@grafana/data';
import { Badge, useStyles2 } from '@grafana/ui';

import type { AnalysisFinding } from '../../api/types';
import { humanDuration, severityColor } from '../../components/AlertTable/format';
import { testIds } from '../../components/testIds';
import { serverPageUrl } from '../../constants';
import { isOpen } from '../../hooks/analysis-state';
import { findingRange } from './Analysis.hooks';

/** FindingsTableProps: the findings in the order to show, and the analysis time durations are counted to. */
export interface FindingsTableProps {
  findings: readonly AnalysisFinding[];
  /** at is the last analysis run (simulated time, like the findings' windows). */
  at: number;
}

/**
 * FindingsTable lists the analysis' findings: state, severity, server (a link to its Server page over the
 * finding's time), signal, the one-line summary, score, onset and duration.
 */
export function FindingsTable({ findings, at }: FindingsTableProps) {
  const styles = useStyles2(getStyles);
  return (
    <table className={styles.table}>
      <thead>
        <tr>
          <th>State</th>
          <th>Severity</th>
          <th>Server</th>
          <th>Signal</th>
          <th>Summary</th>
          <th className={styles.num}>Score</th>
          <th>Since</th>
          <th>Lasted</th>
        </tr>
      </thead>
      <tbody>
        {findings.map((f) => {
          const open = isOpen(f);
          return (
            <tr
              key={f.id}
              data-testid={testIds.analysis.finding}
              data-server={f.server}
              data-signal={f.signal ?? ''}
              data-state={open ? 'open' : 'resolved'}
            >
              <td>
                <Badge text={open ? 'open' : 'resolved'} color={open ? 'red' : 'green'} />
              </td>
              <td>
                <Badge text={f.severity} color={severityColor(f.severity)} />
              </td>
              <td>
                <Link to={urlUtil.renderUrl(serverPageUrl(f.server), findingRange(f.window, open))}>{f.server}</Link>
              </td>
              <td>{f.signal ?? f.metric}</td>
              <td className={styles.summary}>{f.summary}</td>
              <td className={styles.num}>{f.score.toFixed(2)}</td>
              <td className={styles.nowrap}>{dateTimeFormat(f.window.start, { format: 'HH:mm:ss' })}</td>
              <td className={styles.nowrap}>
                {humanDuration((open ? at : f.window.end) - f.window.start)}
                {open ? ' so far' : ''}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    'th, td': {
      padding: theme.spacing(0.5, 1),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
      textAlign: 'left',
      verticalAlign: 'top',
    },
  }),
  num: css({ textAlign: 'right', fontVariantNumeric: 'tabular-nums' }),
  nowrap: css({ whiteSpace: 'nowrap' }),
  summary: css({ maxWidth: 520 }),
});
