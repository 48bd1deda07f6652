import React from 'react';
import { Badge } from '@grafana/ui';

import type { LiveState } from '../../api/live';
import { testIds } from '../testIds';

const LABELS: Record<LiveState, { text: string; color: 'green' | 'orange' | 'blue'; tooltip: string }> = {
  live: { text: 'Live', color: 'green', tooltip: 'Receiving the hub broadcast' },
  stale: { text: 'Stale', color: 'orange', tooltip: 'No broadcast lately: reconnecting; the values shown may be old' },
  connecting: { text: 'Connecting', color: 'blue', tooltip: 'Connecting to the hub' },
};

/** LiveIndicator shows whether the page's data is live or stale. */
export function LiveIndicator({ state }: { state: LiveState }) {
  const { text, color, tooltip } = LABELS[state];
  return (
    <span data-testid={testIds.live.indicator} data-state={state} role="status" aria-label={`Live data: ${text}`}>
      <Badge text={text} color={color} icon={state === 'live' ? 'circle' : 'sync'} tooltip={tooltip} />
    </span>
  );
}
