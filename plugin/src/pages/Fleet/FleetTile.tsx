import React, { memo } from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';

import type { ServerRole, UnifiedServer } from '../../api/types';
import { testIds } from '../../components/testIds';
import type { ServerAnomaly } from '../../hooks/analysis-state';
import { Sparkline } from './Sparkline';
import { statusColor } from './status';

/** FleetTileProps are a tile's inputs; all are values or stable callbacks so React.memo can skip it. */
export interface FleetTileProps {
  server: UnifiedServer;
  role: ServerRole | undefined;
  cpuHistory: readonly number[] | undefined;
  scenarios: readonly string[] | undefined;
  /** anomaly is the server's strongest anomalous signal, when the analysis finds one. */
  anomaly?: ServerAnomaly;
  index: number;
  focusable: boolean;
  onOpen: (id: string) => void;
  onFocusIndex: (index: number) => void;
}

function Gauge({ label, value, color }: { label: string; value: number; color: string }) {
  const styles = useStyles2(getStyles);
  const pct = Math.max(0, Math.min(100, value));
  return (
    <div className={styles.gauge}>
      <span className={styles.gaugeLabel}>{label}</span>
      <div
        className={styles.gaugeTrack}
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(value * 10) / 10}
      >
        <div className={styles.gaugeFill} style={{ width: `${pct}%`, background: color }} />
      </div>
      <span className={styles.gaugeValue}>{value.toFixed(0)}%</span>
    </div>
  );
}

function levelColor(theme: GrafanaTheme2, value: number, warning: number, critical: number): string {
  if (value > critical) {
    return theme.visualization.getColorByName('red');
  }
  if (value > warning) {
    return theme.visualization.getColorByName('orange');
  }
  return theme.visualization.getColorByName('green');
}

/** FleetTile is one server on the Fleet page: status colour, gauges, CPU sparkline, alerts and scenarios. */
export const FleetTile = memo(function FleetTile(props: FleetTileProps) {
  const { server, role, cpuHistory, scenarios, anomaly, index, focusable, onOpen, onFocusIndex } = props;
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const color = statusColor(theme, server.status);
  const down = server.status === 'down';
  return (
    <div
      role="listitem"
      className={styles.tile}
      style={{ borderColor: color }}
      data-testid={testIds.fleet.tile}
      data-server={server.id}
      data-status={server.status}
      data-anomaly={anomaly ? anomaly.signal : undefined}
      data-index={index}
      tabIndex={focusable ? 0 : -1}
      aria-label={`${server.id}, ${server.status}${anomaly ? `, anomalous ${anomaly.signal}` : ''}${
        scenarios?.length ? `, scenario ${scenarios.join(', ')}` : ''
      }`}
      onClick={() => onOpen(server.id)}
      onFocus={() => onFocusIndex(index)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onOpen(server.id);
        }
      }}
    >
      <div className={styles.header}>
        <span className={styles.dot} style={{ background: color }} aria-hidden />
        <span className={styles.name}>{server.id}</span>
        {role && <span className={styles.role}>{role}</span>}
        {anomaly && (
          <span
            className={styles.anomaly}
            data-testid={testIds.fleet.tileAnomaly}
            title={`The analysis finds ${anomaly.signal} anomalous (score ${anomaly.score.toFixed(2)})`}
          >
            ◆ {anomaly.signal}
          </span>
        )}
        <span className={styles.status} style={{ color }}>
          {server.status}
        </span>
      </div>
      {down ? (
        <div className={styles.down}>not answering</div>
      ) : (
        <>
          <Gauge label="CPU" value={server.cpu} color={levelColor(theme, server.cpu, 80, 95)} />
          <Gauge label="Mem" value={server.memory} color={levelColor(theme, server.memory, 85, 95)} />
          <Gauge label="Disk" value={server.disk} color={levelColor(theme, server.disk, 80, 90)} />
        </>
      )}
      <Sparkline
        values={cpuHistory ?? EMPTY}
        color={theme.colors.primary.text}
        label={`${server.id} CPU, last 15 minutes`}
      />
      <div className={styles.footer}>
        {server.alerts.length > 0 ? (
          <span className={styles.alerts} title={server.alerts.join('\n')}>
            {server.alerts.length === 1 ? server.alerts[0] : `${server.alerts.length} alerts: ${server.alerts[0]}…`}
          </span>
        ) : (
          <span className={styles.muted}>no alerts</span>
        )}
        {scenarios && scenarios.length > 0 && (
          <span className={styles.scenario} data-testid={testIds.fleet.tileScenario} title="Active scenario">
            ⚡ {scenarios.join(', ')}
          </span>
        )}
      </div>
    </div>
  );
});

const EMPTY: readonly number[] = [];

const getStyles = (theme: GrafanaTheme2) => ({
  tile: css({
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(0.5),
    padding: theme.spacing(1),
    background: theme.colors.background.secondary,
    border: `1px solid`,
    borderLeftWidth: 4,
    borderRadius: theme.shape.radius.default,
    cursor: 'pointer',
    minHeight: 150,
    contain: 'content',
    '&:focus': { outline: `2px solid ${theme.colors.primary.border}`, outlineOffset: 2 },
    '&:hover': { background: theme.colors.emphasize(theme.colors.background.secondary, 0.03) },
  }),
  header: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(0.75) }),
  dot: css({ width: 10, height: 10, borderRadius: '50%', flex: 'none' }),
  name: css({ fontWeight: theme.typography.fontWeightMedium, flex: 1, overflow: 'hidden', textOverflow: 'ellipsis' }),
  role: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  status: css({ fontSize: theme.typography.bodySmall.fontSize, textTransform: 'uppercase' }),
  anomaly: css({
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.visualization.getColorByName('purple'),
    border: `1px solid ${theme.visualization.getColorByName('purple')}`,
    borderRadius: theme.shape.radius.default,
    padding: theme.spacing(0, 0.5),
    whiteSpace: 'nowrap',
  }),
  gauge: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(0.5), fontSize: 12 }),
  gaugeLabel: css({ width: 32, color: theme.colors.text.secondary }),
  gaugeTrack: css({
    flex: 1,
    height: 8,
    background: theme.colors.background.canvas,
    borderRadius: 4,
    overflow: 'hidden',
  }),
  gaugeFill: css({ height: '100%', borderRadius: 4 }),
  gaugeValue: css({ width: 36, textAlign: 'right', fontVariantNumeric: 'tabular-nums' }),
  down: css({ color: theme.colors.text.secondary, fontStyle: 'italic', padding: theme.spacing(1, 0) }),
  footer: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.5), fontSize: 12 }),
  alerts: css({ color: theme.colors.warning.text, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }),
  muted: css({ color: theme.colors.text.disabled }),
  scenario: css({
    color: theme.colors.error.text,
    border: `1px solid ${theme.colors.error.border}`,
    borderRadius: theme.shape.radius.default,
    padding: theme.spacing(0, 0.5),
  }),
});
