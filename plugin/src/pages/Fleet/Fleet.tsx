import React, { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { Alert, InlineField, RadioButtonGroup, Stack, useStyles2 } from '@grafana/ui';

import type { ServerStatus } from '../../api/types';
import { LiveIndicator } from '../../components/LiveIndicator/LiveIndicator';
import { testIds } from '../../components/testIds';
import { serverPageUrl } from '../../constants';
import { useFleet } from '../../hooks/useFleet';
import { FLEET_RENDER_MARKS, markOnce, measureUpdateEnd } from '../../utils/perf';
import { useCpuSparklines } from '../../hooks/useCpuSparklines';
import { ALL, nextIndex, useVisibleServers, type FleetFilter, type SortKey } from './Fleet.hooks';
import { FleetSummary } from './FleetSummary';
import { FleetTile } from './FleetTile';

const STATUS_OPTIONS: Array<{ label: string; value: ServerStatus | 'all' }> = [
  { label: 'All', value: ALL },
  { label: 'Healthy', value: 'healthy' },
  { label: 'Warning', value: 'warning' },
  { label: 'Critical', value: 'critical' },
  { label: 'Down', value: 'down' },
];

const SORT_OPTIONS: Array<{ label: string; value: SortKey }> = [
  { label: 'Name', value: 'name' },
  { label: 'Status', value: 'status' },
  { label: 'CPU', value: 'cpu' },
  { label: 'Memory', value: 'memory' },
  { label: 'Disk', value: 'disk' },
];

/** columnsOf counts the tiles on the grid's first row (the grid wraps with the window width). */
function columnsOf(grid: HTMLElement | null): number {
  const tiles = grid?.children;
  if (!tiles || tiles.length === 0) {
    return 1;
  }
  const top = (tiles[0] as HTMLElement).offsetTop;
  let n = 0;
  while (n < tiles.length && (tiles[n] as HTMLElement).offsetTop === top) {
    n++;
  }
  return Math.max(1, n);
}

/** Fleet is the fleet overview: one live tile per server, filterable, sortable and keyboard-navigable. */
export function Fleet() {
  const styles = useStyles2(getStyles);
  const navigate = useNavigate();
  const { fleet, infos, scenarioKinds, anomalies, live, error } = useFleet();
  const sparklines = useCpuSparklines();
  const [filter, setFilter] = useState<FleetFilter>({ role: ALL, status: ALL });
  const [sort, setSort] = useState<SortKey>('name');
  const [focusIndex, setFocusIndex] = useState(0);
  const gridRef = useRef<HTMLDivElement>(null);
  const visible = useVisibleServers(fleet.servers, infos, filter, sort);

  const roles = useMemo(() => {
    const set = new Set<string>();
    infos.forEach((i) => set.add(i.role));
    return [{ label: 'All', value: ALL }, ...[...set].sort().map((r) => ({ label: r, value: r }))];
  }, [infos]);

  // Time from a snapshot's arrival to this commit: the figure `npm run bench:ui` reports.
  useLayoutEffect(() => {
    measureUpdateEnd();
  }, [fleet]);

  // The first commits after mounting that show every tile, then every tile with its sparkline (bench:ui).
  const rendered = useRef({ tiles: false, full: false });
  useLayoutEffect(() => {
    if (fleet.servers.length === 0) {
      return;
    }
    if (!rendered.current.tiles) {
      rendered.current.tiles = true;
      markOnce(FLEET_RENDER_MARKS.tiles);
    }
    if (!rendered.current.full && sparklines.size > 0) {
      rendered.current.full = true;
      markOnce(FLEET_RENDER_MARKS.full);
    }
  }, [fleet, sparklines]);

  const onOpen = useCallback((id: string) => navigate(serverPageUrl(id)), [navigate]);
  const onKeyDown = useCallback(
    (e: React.KeyboardEvent<HTMLDivElement>) => {
      const next = nextIndex(e.key, focusIndex, visible.length, columnsOf(gridRef.current));
      if (next === undefined) {
        return;
      }
      e.preventDefault();
      setFocusIndex(next);
      (gridRef.current?.children[next] as HTMLElement | undefined)?.focus();
    },
    [focusIndex, visible.length]
  );

  const safeFocus = Math.min(focusIndex, Math.max(0, visible.length - 1));
  return (
    <PluginPage>
      <div data-testid={testIds.fleet.container} className={styles.page}>
        {error && (
          <Alert severity="error" title="Cannot load the fleet">
            {error.message}
          </Alert>
        )}
        <Stack direction="row" alignItems="center" justifyContent="space-between" wrap="wrap">
          <FleetSummary summary={fleet.summary} />
          <LiveIndicator status={live} />
        </Stack>
        <Stack direction="row" gap={2} wrap="wrap">
          <InlineField label="Role">
            <RadioButtonGroup
              options={roles}
              value={filter.role}
              onChange={(role) => setFilter((f) => ({ ...f, role }))}
              size="sm"
            />
          </InlineField>
          <InlineField label="Status">
            <RadioButtonGroup
              options={STATUS_OPTIONS}
              value={filter.status}
              onChange={(status) => setFilter((f) => ({ ...f, status }))}
              size="sm"
            />
          </InlineField>
          <InlineField label="Sort by">
            <RadioButtonGroup options={SORT_OPTIONS} value={sort} onChange={setSort} size="sm" />
          </InlineField>
        </Stack>
        {fleet.servers.length > 0 && visible.length === 0 && (
          <div data-testid={testIds.fleet.empty} className={styles.empty}>
            No server matches this filter.
          </div>
        )}
        <div
          ref={gridRef}
          role="list"
          aria-label="Servers"
          className={styles.grid}
          data-testid={testIds.fleet.grid}
          onKeyDown={onKeyDown}
        >
          {visible.map((s, i) => (
            <FleetTile
              key={s.id}
              server={s}
              role={infos.get(s.id)?.role}
              cpuHistory={sparklines.get(s.id)}
              scenarios={scenarioKinds.get(s.id)}
              anomaly={anomalies.get(s.id)}
              index={i}
              focusable={i === safeFocus}
              onOpen={onOpen}
              onFocusIndex={setFocusIndex}
            />
          ))}
        </div>
      </div>
    </PluginPage>
  );
}

export default Fleet;

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  grid: css({
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(220px, 1fr))',
    gap: theme.spacing(1.5),
  }),
  empty: css({ color: theme.colors.text.secondary, padding: theme.spacing(2) }),
});
