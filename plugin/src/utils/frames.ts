/**
 * Turns Prometheus matrix results into DataFrames that @grafana/ui's TimeSeries draws. Field config is set
 * directly (not through applyFieldOverrides) so the same frames render inside and outside Grafana.
 */
import { FieldType, getDisplayProcessor, type DataFrame, type Field, type GrafanaTheme2 } from '@grafana/data';

import type { PromMatrixSeries } from '../api/types';

/** legendName fills a `{{label}}` template from a series' labels (Grafana's legend format syntax). */
export function legendName(template: string | undefined, metric: Record<string, string>): string {
  if (!template) {
    const labels = Object.entries(metric)
      .filter(([k]) => k !== '__name__')
      .map(([k, v]) => `${k}="${v}"`);
    return `${metric.__name__ ?? ''}{${labels.join(', ')}}`;
  }
  return template.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, name: string) => metric[name] ?? '');
}

/** ChartUnit is the unit id Grafana's value formatter understands (percent, bytes/s, seconds…). */
export type ChartUnit = 'percent' | 'Bps' | 's' | 'reqps' | 'short';

/** matrixToFrames builds one frame per series with times in ms and NaN for missing samples. */
export function matrixToFrames(
  series: readonly PromMatrixSeries[],
  opts: { legend?: string; unit: ChartUnit; min?: number; max?: number; theme: GrafanaTheme2 }
): DataFrame[] {
  return series.map((s, i) => {
    const times = s.values.map(([t]) => t * 1000);
    const values = s.values.map(([, v]) => Number(v));
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    const timeField: Field = { name: 'Time', type: FieldType.time, values: times, config: {} };
    const valueField: Field = {
      name: legendName(opts.legend, s.metric),
      type: FieldType.number,
      values,
      labels: s.metric,
      config: {
        unit: opts.unit,
        min: opts.min,
        max: opts.max,
        displayName: legendName(opts.legend, s.metric),
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: 'line',
          lineInterpolation: 'smooth',
          lineWidth: 1,
          fillOpacity: 10,
          gradientMode: 'none',
          showPoints: 'never',
          pointSize: 4,
          spanNulls: false,
          axisPlacement: 'auto',
          axisBorderShow: false,
          axisSoftMin: opts.min,
          hideFrom: { legend: false, tooltip: false, viz: false },
          stacking: { mode: 'none', group: 'A' },
        },
      },
      state: {
        range: { min: Number.isFinite(lo) ? lo : 0, max: Number.isFinite(hi) ? hi : 1, delta: hi - lo },
        seriesIndex: i,
      },
    };
    valueField.display = getDisplayProcessor({ field: valueField, theme: opts.theme });
    timeField.display = getDisplayProcessor({ field: timeField, theme: opts.theme });
    return { refId: `S${i}`, name: valueField.name, length: times.length, fields: [timeField, valueField] };
  });
}
