import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Badge, useStyles2 } from '@grafana/ui';

import type { LiveState, LiveStatus } from '../../api/live';
import { POLL_FALLBACK_MS } from '../../hooks/usePollWhileNotLive';
import { testIds } from '../testIds';

const LABELS: Record<LiveState, { text: string; color: 'green' | 'orange' | 'blue'; tooltip: string }> = {
  live: { text: 'Live', color: 'green', tooltip: 'Receiving the hub broadcast' },
  stale: { text: 'Stale', color: 'orange', tooltip: 'No broadcast lately: reconnecting; the values shown may be old' },
  connecting: { text: 'Connecting', color: 'blue', tooltip: 'Connecting to the hub' },
  polling: {
    text: 'Polling',
    color: 'orange',
    tooltip: 'Live updates are unavailable: the page re-reads the exporter through Grafana instead',
  },
};

/** LiveIndicator shows whether the page's data is live or stale, and says why when it polls instead. */
export function LiveIndicator({ status }: { status: LiveStatus }) {
  const styles = useStyles2(getStyles);
  const { text, color, tooltip } = LABELS[status.state];
  return (
    <span
      data-testid={testIds.live.indicator}
      data-state={status.state}
      role="status"
      aria-label={`Live data: ${text}`}
      className={styles.wrap}
    >
      <Badge text={text} color={color} icon={status.state === 'live' ? 'circle' : 'sync'} tooltip={tooltip} />
      {status.state === 'polling' && (
        <span className={styles.reason} data-testid={testIds.live.reason}>
          Live updates unavailable{status.reason ? `: ${status.reason}` : ''}. Refreshing every{' '}
          {POLL_FALLBACK_MS / 1000} s through Grafana.
        </span>
      )}
    </span>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrap: css({ display: 'inline-flex', alignItems: 'center', gap: theme.spacing(1), flexWrap: 'wrap' }),
  reason: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
});
