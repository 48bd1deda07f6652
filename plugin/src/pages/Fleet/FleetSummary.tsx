import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Stack, useStyles2, useTheme2 } from '@grafana/ui';

import type { UnifiedSummary } from '../../api/types';
import { testIds } from '../../components/testIds';
import { statusColor } from './status';

/** FleetSummary is the seed's summary header: totals by status and the fleet's average CPU and memory. */
export function FleetSummary({ summary }: { summary: UnifiedSummary | undefined }) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const items: Array<{ label: string; value: string; color?: string }> = summary
    ? [
        { label: 'Servers', value: String(summary.total_servers) },
        { label: 'Healthy', value: String(summary.healthy), color: statusColor(theme, 'healthy') },
        { label: 'Warning', value: String(summary.warning), color: statusColor(theme, 'warning') },
        { label: 'Critical', value: String(summary.critical), color: statusColor(theme, 'critical') },
        { label: 'Avg CPU', value: `${summary.avg_cpu.toFixed(1)}%` },
        { label: 'Avg memory', value: `${summary.avg_memory.toFixed(1)}%` },
      ]
    : [];
  return (
    <div data-testid={testIds.fleet.summary} aria-label="Fleet summary" role="region">
      <Stack gap={2} wrap="wrap">
        {items.map((it) => (
          <div key={it.label} className={styles.item}>
            <div className={styles.value} style={it.color ? { color: it.color } : undefined}>
              {it.value}
            </div>
            <div className={styles.label}>{it.label}</div>
          </div>
        ))}
      </Stack>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  item: css({
    minWidth: 110,
    padding: theme.spacing(1, 2),
    background: theme.colors.background.secondary,
    borderRadius: theme.shape.radius.default,
  }),
  value: css({ fontSize: theme.typography.h3.fontSize, fontWeight: theme.typography.fontWeightMedium }),
  label: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
});
