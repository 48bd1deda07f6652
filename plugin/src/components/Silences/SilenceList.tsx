import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Badge, Button, useStyles2 } from '@grafana/ui';

import type { Silence } from '../../api/types';
import { describeMatchers } from '../../hooks/silences';
import { humanDuration } from '../AlertTable/format';
import { testIds } from '../testIds';

/** SilenceListProps: the silences to list, the time, and the expire action (absent for viewers). */
export interface SilenceListProps {
  silences: readonly Silence[];
  now: number;
  onExpire?: (id: string) => void;
}

/** SilenceList lists the silences in force or to come: what they match, until when, who set them and why. */
export function SilenceList({ silences, now, onExpire }: SilenceListProps) {
  const styles = useStyles2(getStyles);
  const current = silences
    .filter((s) => s.status.state !== 'expired')
    .sort((a, b) => Date.parse(a.endsAt) - Date.parse(b.endsAt));
  return (
    <section data-testid={testIds.silences.list} aria-label="Silences">
      <h3 className={styles.h3}>Silences ({current.length})</h3>
      {current.length === 0 ? (
        <p className={styles.muted}>No silence in force.</p>
      ) : (
        <table className={styles.table}>
          <thead>
            <tr>
              <th>State</th>
              <th>Matchers</th>
              <th>Ends</th>
              <th>Created by</th>
              <th>Comment</th>
              <th>
                <span className={styles.hidden}>Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {current.map((s) => (
              <tr key={s.id} data-testid={testIds.silences.row} data-state={s.status.state}>
                <td>
                  <Badge text={s.status.state} color={s.status.state === 'active' ? 'blue' : 'purple'} />
                </td>
                <td>
                  <code>{describeMatchers(s.matchers)}</code>
                </td>
                <td className={styles.nowrap}>in {humanDuration(Date.parse(s.endsAt) - now)}</td>
                <td>{s.createdBy}</td>
                <td className={styles.muted}>{s.comment || '—'}</td>
                <td>
                  {onExpire && (
                    <Button size="sm" variant="secondary" fill="text" icon="times" onClick={() => onExpire(s.id)}>
                      Expire
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  h3: css({ fontSize: theme.typography.h4.fontSize }),
  muted: css({ color: theme.colors.text.secondary }),
  nowrap: css({ whiteSpace: 'nowrap' }),
  hidden: css({ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }),
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
