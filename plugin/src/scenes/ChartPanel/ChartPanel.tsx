import React, { useLayoutEffect, useMemo, useRef } from 'react';
import type uPlot from 'uplot';
import { css } from '@emotion/css';
import type { GrafanaTheme2, PanelProps } from '@grafana/data';
import { LegendDisplayMode } from '@grafana/schema';
import { TimeSeries, useStyles2, useTheme2, type UPlotConfigBuilder } from '@grafana/ui';

import { testIds } from '../../components/testIds';
import { markChartDrawn } from '../../utils/perf';
import {
  annotationRegions,
  anomalyRegions,
  drawableFrames,
  REGION_COLORS,
  splitFrames,
  type ChartOptions,
  type Region,
  type RegionKind,
} from './frames';

/** LABEL_ROW_PX puts each region kind's labels on its own line, so overlapping regions stay readable. */
const LABEL_ROW_PX: Record<RegionKind, number> = { scenario: 12, alert: 24, anomaly: 36 };

/** FALLBACK_STEP_MS is the region width of a lone sample: the exporter's 15 s tick. */
const FALLBACK_STEP_MS = 15_000;

/**
 * Regions registers a uPlot draw hook that shades each region (scenarios, alerts, anomalies) and labels it; it
 * reads the regions through a ref so new regions do not rebuild the plot. It also marks the chart as drawn the
 * first time the plot draws data (for `npm run bench:ui`).
 */
function Regions({
  config,
  regions,
  colors,
  chartKey,
}: {
  config: UPlotConfigBuilder;
  regions: Region[];
  colors: Record<string, string>;
  chartKey: string;
}) {
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
      const dpr = devicePixelRatio;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      // Labels of one kind share a line: a label that would overlap the previous one on its line is left out
      // (the shading still shows the region; many short alerts in a row would otherwise print over each other).
      const labelEnd: Partial<Record<RegionKind, number>> = {};
      for (const r of ref.current) {
        const x0 = Math.max(left, u.valToPos(r.start, 'x', true));
        const x1 = Math.min(left + width, u.valToPos(r.end, 'x', true));
        if (x1 <= x0) {
          continue;
        }
        const color = colors[r.kind] ?? '#888888';
        ctx.fillStyle = color + '26';
        ctx.fillRect(x0, top, x1 - x0, height);
        ctx.fillStyle = color;
        ctx.fillRect(x0, top, Math.max(1, dpr), height);
        ctx.font = `${11 * dpr}px sans-serif`;
        // The label starts at the region, or ends at the plot's right edge when it would run past it.
        const textWidth = ctx.measureText(r.label).width;
        const x = Math.max(left, Math.min(x0 + 4 * dpr, left + width - textWidth - 4 * dpr));
        if (x >= (labelEnd[r.kind] ?? -Infinity)) {
          ctx.fillText(r.label, x, top + LABEL_ROW_PX[r.kind] * dpr);
          labelEnd[r.kind] = x + textWidth + 8 * dpr;
        }
      }
      ctx.restore();
      if ((u.data[0]?.length ?? 0) > 0) {
        markChartDrawn(chartKey);
      }
    });
  }, [config, colors, chartKey]);
  return null;
}

/**
 * ChartPanel is the Server page's chart: metric lines, the forecast band, anomaly regions and the scenario and
 * alert annotations of the scene's data layers, drawn with @grafana/ui's TimeSeries.
 */
export function ChartPanel({ data, options, width, height, timeRange, timeZone, title }: PanelProps<ChartOptions>) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const split = useMemo(() => splitFrames(data.series, options), [data.series, options]);
  const { frames, points } = useMemo(() => drawableFrames(split, options, theme), [split, options, theme]);
  const regions = useMemo(
    () =>
      [...annotationRegions(data.annotations), ...anomalyRegions(split.anomaly, FALLBACK_STEP_MS)].sort(
        (a, b) => a.start - b.start
      ),
    [data.annotations, split.anomaly]
  );
  const colors = useMemo(
    () =>
      Object.fromEntries(
        Object.entries(REGION_COLORS).map(([kind, name]) => [kind, theme.visualization.getColorByName(name)])
      ),
    [theme]
  );
  return (
    <div
      className={styles.body}
      data-testid={testIds.server.chart}
      data-chart={title}
      data-points={points}
      data-regions={regions.length}
    >
      {frames.length === 0 ? (
        <div className={styles.empty}>{data.state === 'Loading' ? '' : 'No data in this time range'}</div>
      ) : (
        <TimeSeries
          frames={frames}
          width={width}
          height={height}
          timeRange={timeRange}
          timeZone={timeZone}
          legend={{ displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true, calcs: [] }}
        >
          {(config) => <Regions config={config} regions={regions} colors={colors} chartKey={title} />}
        </TimeSeries>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  body: css({ width: '100%', height: '100%' }),
  empty: css({ color: theme.colors.text.secondary, padding: theme.spacing(4), textAlign: 'center' }),
});
