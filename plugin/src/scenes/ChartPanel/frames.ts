/**
 * What the chart panel draws, from a data source's frames: the metric lines, the forecast band (upper filled
 * down to lower), anomaly regions (where the analysis score crosses its threshold) and annotation regions
 * (scenarios, alerts). Field config is set here directly rather than through the panel's field-config
 * registry, so the same frames draw inside Grafana, in the mini host and in the harness.
 */
import {
  DataTopic,
  FieldType,
  getDisplayProcessor,
  getFieldDisplayName,
  type DataFrame,
  type Field,
  type GrafanaTheme2,
} from '@grafana/data';

import { ANOMALY_THRESHOLD } from '../../constants';

/** ChartUnit is the unit id Grafana's value formatter understands (percent, bytes/s, seconds…). */
export type ChartUnit = 'percent' | 'Bps' | 's' | 'reqps' | 'short';

/** ChartOptions are the chart panel's options: how to read the query runner's refIds and how to draw values. */
export interface ChartOptions {
  unit: ChartUnit;
  min?: number;
  max?: number;
  /** bandUpper and bandLower are the refIds of the forecast band's bounds (drawn as a filled band). */
  bandUpper?: string;
  bandLower?: string;
  /** anomalyRefId is the refId of the anomaly score (drawn as regions where it reaches ANOMALY_THRESHOLD). */
  anomalyRefId?: string;
}

/** RegionKind says what a region is; each kind has its colour. */
export type RegionKind = 'scenario' | 'alert' | 'anomaly';

/** Region is a time span drawn behind a chart, in Unix ms. */
export interface Region {
  start: number;
  end: number;
  label: string;
  kind: RegionKind;
}

/** REGION_COLORS names the palette colour of each region kind. */
export const REGION_COLORS: Record<RegionKind, string> = { scenario: 'red', alert: 'orange', anomaly: 'purple' };

/** FORECAST_NAME is the band's name in the legend. */
export const FORECAST_NAME = 'forecast';
const FORECAST_LOWER_NAME = 'forecast (lower)';

/** Point is one sample of a series. */
interface Point {
  t: number;
  v: number;
}

function timeAndValues(frame: DataFrame): { time: Field | undefined; values: Field[] } {
  return {
    time: frame.fields.find((f) => f.type === FieldType.time),
    values: frame.fields.filter((f) => f.type === FieldType.number),
  };
}

function pointsOf(time: Field, field: Field): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < field.values.length; i++) {
    const v = Number(field.values[i]);
    const t = Number(time.values[i]);
    if (Number.isFinite(v) && Number.isFinite(t)) {
      out.push({ t, v });
    }
  }
  return out;
}

/** stepOf is a series' sample spacing: its smallest gap between consecutive samples (0 for one sample). */
function stepOf(points: readonly Point[]): number {
  let step = Infinity;
  for (let i = 1; i < points.length; i++) {
    const gap = (points[i] as Point).t - (points[i - 1] as Point).t;
    if (gap > 0 && gap < step) {
      step = gap;
    }
  }
  return Number.isFinite(step) ? step : 0;
}

/**
 * runsOf turns the samples where `keep` holds into spans: samples closer than 1.5 steps belong to one span, which
 * ends one step after its last sample (the sample stands for the step it starts).
 */
export function runsOf(
  points: readonly Point[],
  keep: (v: number) => boolean,
  fallbackStepMs: number
): Array<[number, number]> {
  const step = stepOf(points) || fallbackStepMs;
  const runs: Array<[number, number]> = [];
  let start: number | undefined;
  let last = 0;
  for (const p of points) {
    if (!keep(p.v)) {
      if (start !== undefined) {
        runs.push([start, last + step]);
        start = undefined;
      }
      continue;
    }
    if (start !== undefined && p.t - last > 1.5 * step) {
      runs.push([start, last + step]);
      start = undefined;
    }
    start ??= p.t;
    last = p.t;
  }
  if (start !== undefined) {
    runs.push([start, last + step]);
  }
  return runs;
}

/** seriesName is a series' name as the data source gave it (legend format), else its labels. */
export function seriesName(field: Field, frame: DataFrame, all: DataFrame[]): string {
  return field.config?.displayNameFromDS ?? field.config?.displayName ?? getFieldDisplayName(field, frame, all);
}

/** regionsFromSeries turns series (one per label set) into regions where `keep` holds, labelled by `label`. */
export function regionsFromSeries(
  frames: readonly DataFrame[],
  kind: RegionKind,
  keep: (v: number) => boolean,
  label: (field: Field, frame: DataFrame) => string,
  fallbackStepMs: number
): Region[] {
  const out: Region[] = [];
  for (const frame of frames) {
    const { time, values } = timeAndValues(frame);
    if (!time) {
      continue;
    }
    for (const field of values) {
      for (const [start, end] of runsOf(pointsOf(time, field), keep, fallbackStepMs)) {
        out.push({ start, end, label: label(field, frame), kind });
      }
    }
  }
  return out;
}

/** SplitFrames are a chart's frames sorted by role. */
export interface SplitFrames {
  lines: DataFrame[];
  upper: DataFrame[];
  lower: DataFrame[];
  anomaly: DataFrame[];
}

/** splitFrames sorts the query runner's frames by refId into lines, band bounds and anomaly scores. */
export function splitFrames(series: readonly DataFrame[], options: ChartOptions): SplitFrames {
  const out: SplitFrames = { lines: [], upper: [], lower: [], anomaly: [] };
  for (const frame of series) {
    if (frame.meta?.dataTopic === DataTopic.Annotations) {
      continue;
    }
    if (options.bandUpper && frame.refId === options.bandUpper) {
      out.upper.push(frame);
    } else if (options.bandLower && frame.refId === options.bandLower) {
      out.lower.push(frame);
    } else if (options.anomalyRefId && frame.refId === options.anomalyRefId) {
      out.anomaly.push(frame);
    } else {
      out.lines.push(frame);
    }
  }
  return out;
}

/** annotationRegions reads annotation frames (time, timeEnd, title/text, and `kind` when a layer set it). */
export function annotationRegions(frames: readonly DataFrame[] | undefined): Region[] {
  const out: Region[] = [];
  for (const frame of frames ?? []) {
    const field = (name: string) => frame.fields.find((f) => f.name === name);
    const time = field('time');
    const timeEnd = field('timeEnd');
    const title = field('title') ?? field('text');
    const kind = field('kind');
    if (!time) {
      continue;
    }
    for (let i = 0; i < frame.length; i++) {
      const start = Number(time.values[i]);
      const end = timeEnd ? Number(timeEnd.values[i]) : start;
      if (!Number.isFinite(start)) {
        continue;
      }
      const k = kind?.values[i];
      out.push({
        start,
        end: Number.isFinite(end) ? end : start,
        label: String(title?.values[i] ?? ''),
        kind: k === 'alert' || k === 'anomaly' ? k : 'scenario',
      });
    }
  }
  return out;
}

/** DrawableFrames are the frames TimeSeries draws, and the number of samples they hold. */
export interface DrawableFrames {
  frames: DataFrame[];
  points: number;
}

function rangeOf(values: readonly unknown[]): { min: number; max: number; delta: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of values) {
    const v = Number(x);
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return Number.isFinite(lo) ? { min: lo, max: hi, delta: hi - lo } : { min: 0, max: 1, delta: 1 };
}

/**
 * drawableFrames builds one frame per series with the chart's unit, bounds and line style; the forecast band's
 * upper bound fills down to its lower bound. Names come from the data source (legend format); duplicates get a
 * suffix so the legend and the band lookup stay unambiguous.
 */
export function drawableFrames(split: SplitFrames, options: ChartOptions, theme: GrafanaTheme2): DrawableFrames {
  const all = [...split.lines, ...split.upper, ...split.lower];
  const used = new Map<string, number>();
  const unique = (name: string) => {
    const n = used.get(name) ?? 0;
    used.set(name, n + 1);
    return n === 0 ? name : `${name} (${n + 1})`;
  };
  const out: DataFrame[] = [];
  let points = 0;
  const hasBand = split.upper.length > 0 && split.lower.length > 0;
  const add = (frame: DataFrame, role: 'line' | 'upper' | 'lower') => {
    const { time, values } = timeAndValues(frame);
    if (!time) {
      return;
    }
    for (const field of values) {
      const name = unique(
        role === 'upper' ? FORECAST_NAME : role === 'lower' ? FORECAST_LOWER_NAME : seriesName(field, frame, all)
      );
      const band = role !== 'line';
      const value: Field = {
        name,
        type: FieldType.number,
        values: field.values,
        labels: field.labels,
        config: {
          unit: options.unit,
          min: options.min,
          max: options.max,
          displayName: name,
          color: band ? { mode: 'fixed', fixedColor: 'blue' } : { mode: 'palette-classic' },
          custom: {
            drawStyle: 'line',
            lineInterpolation: 'smooth',
            lineWidth: band ? 0 : 1,
            fillOpacity: role === 'upper' && hasBand ? 18 : band ? 0 : 10,
            ...(role === 'upper' && hasBand ? { fillBelowTo: FORECAST_LOWER_NAME } : {}),
            gradientMode: 'none',
            showPoints: 'never',
            pointSize: 4,
            spanNulls: false,
            axisPlacement: 'auto',
            axisBorderShow: false,
            axisSoftMin: options.min,
            hideFrom: { legend: role === 'lower', tooltip: false, viz: false },
            stacking: { mode: 'none', group: 'A' },
          },
        },
        state: { range: rangeOf(field.values) },
      };
      value.display = getDisplayProcessor({ field: value, theme });
      const t: Field = { name: 'Time', type: FieldType.time, values: time.values, config: {} };
      t.display = getDisplayProcessor({ field: t, theme });
      points += field.values.length;
      out.push({ refId: frame.refId, name, length: time.values.length, fields: [t, value] });
    }
  };
  split.lines.forEach((f) => add(f, 'line'));
  if (hasBand) {
    split.upper.forEach((f) => add(f, 'upper'));
    split.lower.forEach((f) => add(f, 'lower'));
  }
  out.forEach((frame, i) => {
    const v = frame.fields[1];
    if (v) {
      v.state = { ...v.state, seriesIndex: i };
    }
  });
  return { frames: out, points };
}

/** anomalyRegions are the spans where a chart's anomaly score reaches ANOMALY_THRESHOLD. */
export function anomalyRegions(frames: readonly DataFrame[], fallbackStepMs: number): Region[] {
  return regionsFromSeries(
    frames,
    'anomaly',
    (v) => v >= ANOMALY_THRESHOLD,
    () => 'anomaly',
    fallbackStepMs
  );
}
