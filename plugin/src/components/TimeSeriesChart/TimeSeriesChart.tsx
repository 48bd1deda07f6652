import React, { useLayoutEffect, useMemo, useRef } from 'react';
import type uPlot from 'uplot';
import { css } from '@emotion/css';
import type { GrafanaTheme2, TimeRange } from '@grafana/data';
import { LegendDisplayMode } from '@grafana/schema';
import {
  Alert,
  LinkButton,
  LoadingPlaceholder,
  TimeSeries,
  useStyles2,
  useTheme2,
  type UPlotConfigBuilder,
} from '@grafana/ui';

import type { PromMatrixSeries } from '../../api/types';
import { exploreUrl } from '../../utils/explore';
import { matrixToFrames, type ChartUnit } from '../../utils/frames';
import { testIds } from '../testIds';
import { useWidth } from './useWidth';

/** Region is a time span drawn behind a chart (a scenario), in Unix ms. */
export interface Region {
  start: number;
  end: number;
  label: string;
}

/** ChartQuery is one PromQL query of a chart and its legend template. */
export interface ChartQuery {
  expr: string;
  legend?: string;
}

/** CHART_HEIGHT is each chart's height in px (room for the legend below a 180 px plot). */
const CHART_HEIGHT = 240;

/**
 * ScenarioRegions registers a uPlot draw hook that shades each region and labels it; it reads the regions
 * through a ref so new regions do not rebuild the plot.
 */
function ScenarioRegions({ config, regions, color }: { config: UPlotConfigBuilder; regions: Region[]; color: string }) {
  const ref = useRef(regions);
  const plot = useRef<uPlot | null>(null);
  useLayoutEffect(() => {
    ref.current = regions;
    plot.current?.redraw(false, false);
  }, [regions]);
  useLayoutEffect(() => {
    config.addHook('init', (u) => {
      plot.current = u;
    });
    config.addHook('draw', (u) => {
      const ctx = u.ctx;
      const { left, top, width, height } = u.bbox;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      for (const r of ref.current) {
        const x0 = Math.max(left, u.valToPos(r.start, 'x', true));
        const x1 = Math.min(left + width, u.valToPos(r.end, 'x', true));
        if (x1 <= x0) {
          continue;
        }
        ctx.fillStyle = color + '26';
        ctx.fillRect(x0, top, x1 - x0, height);
        ctx.fillStyle = color;
        ctx.fillRect(x0, top, Math.max(1, devicePixelRatio), height);
        ctx.font = `${11 * devicePixelRatio}px sans-serif`;
        ctx.fillText(r.label, x0 + 4 * devicePixelRatio, top + 12 * devicePixelRatio);
      }
      ctx.restore();
    });
  }, [config, color]);
  return null;
}

/** TimeSeriesChart draws the series of one or more PromQL queries, scenario regions, and an Explore link. */
export function TimeSeriesChart(props: {
  title: string;
  queries: ChartQuery[];
  series: PromMatrixSeries[] | undefined;
  error?: string;
  unit: ChartUnit;
  min?: number;
  max?: number;
  timeRange: TimeRange;
  regions: Region[];
}) {
  const { title, queries, series, error, unit, min, max, timeRange, regions } = props;
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const [ref, width] = useWidth<HTMLDivElement>(400);
  const frames = useMemo(
    () => (series ? matrixToFrames(series, { unit, min, max, theme, legend: '{{__name__}}' }) : []),
    [series, unit, min, max, theme]
  );
  const regionColor = theme.visualization.getColorByName('red');
  const from = String(timeRange.from.valueOf());
  const to = String(timeRange.to.valueOf());
  const points = frames.reduce((n, f) => n + f.length, 0);
  return (
    <section className={styles.panel} aria-label={title} data-testid={testIds.server.chart} data-points={points}>
      <header className={styles.header}>
        <h3 className={styles.title}>{title}</h3>
        {queries.map((q, i) => (
          <LinkButton
            key={i}
            size="sm"
            variant="secondary"
            fill="text"
            icon="compass"
            href={exploreUrl(q.expr, from, to)}
            data-testid={testIds.server.exploreLink}
            title={q.expr}
          >
            {queries.length > 1 ? `Explore ${q.legend ?? i + 1}` : 'Open in Explore'}
          </LinkButton>
        ))}
      </header>
      <div ref={ref} className={styles.body}>
        {error ? (
          <Alert severity="error" title={`${title}: query failed`}>
            {error}
          </Alert>
        ) : !series ? (
          <LoadingPlaceholder text="Loading…" />
        ) : frames.length === 0 ? (
          <div className={styles.empty}>No data in this time range</div>
        ) : (
          <TimeSeries
            frames={frames}
            width={width}
            height={CHART_HEIGHT}
            timeRange={timeRange}
            timeZone="browser"
            legend={{ displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true, calcs: [] }}
          >
            {(config) => <ScenarioRegions config={config} regions={regions} color={regionColor} />}
          </TimeSeries>
        )}
      </div>
    </section>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  panel: css({
    background: theme.colors.background.primary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    padding: theme.spacing(1),
    minWidth: 0,
  }),
  header: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1), flexWrap: 'wrap' }),
  title: css({ fontSize: theme.typography.h5.fontSize, margin: 0, flex: 1 }),
  body: css({ minHeight: CHART_HEIGHT, width: '100%' }),
  empty: css({ color: theme.colors.text.secondary, padding: theme.spacing(4), textAlign: 'center' }),
});
