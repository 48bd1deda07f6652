import React from 'react';
import { Link } from 'react-router-dom';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';

import { humanDuration } from '../../components/AlertTable/format';
import { testIds } from '../../components/testIds';
import { serverPageUrl } from '../../constants';
import type { EtaResource, EtaRow } from '../../hooks/analysis-state';

/** SOON_S marks an ETA within a day: the horizon of the shipped "disk will fill in 24 h" rule. */
export const SOON_S = 24 * 3600;

/** etaText prints an ETA with its 95 % interval; an open interval (growth not certain) reads "at least". */
export function etaText(row: Pick<EtaRow, 'seconds' | 'lower' | 'upper'>): string {
  const eta = humanDuration(row.seconds * 1000);
  const lower = humanDuration(row.lower * 1000);
  return row.upper === null
    ? `${eta} (95 %: at least ${lower})`
    : `${eta} (95 %: ${lower} – ${humanDuration(row.upper * 1000)})`;
}

/** EtaTableProps: what runs out, the rows soonest first, and how many to show. */
export interface EtaTableProps {
  resource: EtaResource;
  rows: readonly EtaRow[];
  limit: number;
}

/** EtaTable lists when a resource runs out per server: now, growth per hour, the ETA and its interval. */
export function EtaTable({ resource, rows, limit }: EtaTableProps) {
  const styles = useStyles2(getStyles);
  const title = resource === 'disk' ? 'Disk full' : 'Memory exhausted';
  return (
    <div className={styles.box} aria-label={title} role="group">
      <h4>{title}</h4>
      {rows.length === 0 ? (
        <p className={styles.muted}>
          No server&apos;s {resource === 'disk' ? 'filesystems are' : 'memory is'} growing steadily enough to forecast.
        </p>
      ) : (
        <table className={styles.table}>
          <thead>
            <tr>
              <th>Server</th>
              {resource === 'disk' && <th>Mount</th>}
              <th className={styles.num}>Now</th>
              <th className={styles.num}>Growth</th>
              <th>Runs out in</th>
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, limit).map((r) => (
              <tr
                key={`${r.server}${r.mount ?? ''}`}
                data-testid={testIds.analysis.eta}
                data-resource={resource}
                data-server={r.server}
                data-soon={r.seconds <= SOON_S}
              >
                <td>
                  <Link to={serverPageUrl(r.server)}>{r.server}</Link>
                </td>
                {resource === 'disk' && <td>{r.mount ?? '—'}</td>}
                <td className={styles.num}>{r.value.toFixed(1)} %</td>
                <td className={styles.num}>+{r.slopePerHour.toFixed(2)} %/h</td>
                <td className={r.seconds <= SOON_S ? styles.soon : undefined}>{etaText(r)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rows.length > limit && (
        <p className={styles.muted}>
          {rows.length - limit} more server{rows.length - limit === 1 ? '' : 's'} growing more slowly.
        </p>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  box: css({ flex: '1 1 420px', minWidth: 0 }),
  muted: css({ color: theme.colors.text.secondary }),
  soon: css({ color: theme.colors.error.text, fontWeight: theme.typography.fontWeightMedium }),
  num: css({ textAlign: 'right', fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }),
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
