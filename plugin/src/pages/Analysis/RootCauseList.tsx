import React from 'react';
import { Link } from 'react-router-dom';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Badge, useStyles2 } from '@grafana/ui';

import type { RootCause } from '../../api/types';
import { testIds } from '../../components/testIds';
import { serverPageUrl } from '../../constants';

/**
 * RootCauseList shows each multi-server incident's likely origin: the analysis' one-line explanation, the origin
 * server and every affected server with how long after the origin its anomaly began.
 */
export function RootCauseList({ rootCauses }: { rootCauses: readonly RootCause[] }) {
  const styles = useStyles2(getStyles);
  return (
    <ul className={styles.list}>
      {rootCauses.map((rc) => (
        <li
          key={`${rc.origin}/${rc.signal}/${rc.onset}`}
          data-testid={testIds.analysis.rootCause}
          data-origin={rc.origin}
        >
          <div>
            <Badge text="likely origin" color="purple" icon="crosshair" />{' '}
            <Link to={serverPageUrl(rc.origin)} className={styles.origin}>
              {rc.origin}
            </Link>{' '}
            ({rc.signal}) — {rc.explanation}
          </div>
          {rc.affected.length > 0 && (
            <div className={styles.affected}>
              then:{' '}
              {rc.affected.map((a, i) => (
                <span key={`${a.server}/${a.signal}`}>
                  {i > 0 && ', '}
                  <Link to={serverPageUrl(a.server)}>{a.server}</Link> {a.signal} +{Math.round(a.lagSeconds)} s
                </span>
              ))}
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  list: css({
    listStyle: 'none',
    margin: 0,
    padding: 0,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(1),
  }),
  origin: css({ fontWeight: theme.typography.fontWeightMedium }),
  affected: css({ color: theme.colors.text.secondary, marginLeft: theme.spacing(2) }),
});
