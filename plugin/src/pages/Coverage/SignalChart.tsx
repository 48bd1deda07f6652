import React from 'react';
import { useTheme2 } from '@grafana/ui';

import type { CoverageScenario } from '../../api/types';
import { testIds } from '../../components/testIds';
import { alertColour, signalPlot } from './report';

/** Geometry of the chart in SVG user units; the SVG scales to its container's width through its viewBox. */
const LEFT = 64;
const PLOT_W = 640;
const PLOT_H = 120;
const TOP = 8;
const AXIS_H = 20;
const LEGEND_H = 18;

/** formatValue prints an axis value with three significant digits. */
function formatValue(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/**
 * SignalChart draws the series that should have fired for a missed scenario — its kind's key signal, as the
 * coverage run's own engine evaluated it over the scenario's window and a margin each side (the run's samples
 * exist only in the report) — with the scenario shaded red and the scoring's grace after it lighter.
 */
export function SignalChart({ scenario, graceMs }: { scenario: CoverageScenario; graceMs: number }) {
  const theme = useTheme2();
  const plot = signalPlot(scenario, graceMs, PLOT_W, PLOT_H);
  const signal = scenario.signal;
  if (!plot || !signal) {
    return (
      <p data-testid={testIds.coverage.signal} data-empty="true">
        The run recorded no values of this scenario&apos;s key signal.
      </p>
    );
  }
  const axisY = TOP + PLOT_H;
  const minutes = (x: number) => Math.round(((x / PLOT_W) * plot.spanMs) / 60_000);
  const marks = [0, plot.scenario[0], plot.scenario[1], PLOT_W];
  return (
    <figure style={{ margin: 0 }}>
      <svg
        data-testid={testIds.coverage.signal}
        role="img"
        aria-label={`${signal.legend} of ${scenario.server} around the missed ${scenario.kind}`}
        viewBox={`0 0 ${LEFT + PLOT_W + 10} ${TOP + PLOT_H + AXIS_H + LEGEND_H}`}
        width="100%"
        style={{ maxWidth: LEFT + PLOT_W + 10, display: 'block' }}
      >
        <g transform={`translate(${LEFT} ${TOP})`}>
          <rect
            x={plot.scenario[0]}
            width={Math.max(1, plot.scenario[1] - plot.scenario[0])}
            height={PLOT_H}
            fill={theme.colors.error.transparent}
          >
            <title>scenario window</title>
          </rect>
          <rect
            x={plot.grace[0]}
            width={Math.max(0, plot.grace[1] - plot.grace[0])}
            height={PLOT_H}
            fill={theme.colors.warning.transparent}
          >
            <title>grace: an alert firing here would still have counted</title>
          </rect>
          {plot.lines.map((l, i) => (
            <path key={l.name} d={l.d} fill="none" stroke={alertColour(i)} strokeWidth={1.5} data-series={l.name}>
              <title>{l.name}</title>
            </path>
          ))}
        </g>
        <line x1={LEFT} x2={LEFT + PLOT_W} y1={axisY} y2={axisY} stroke={theme.colors.border.medium} />
        <text x={LEFT - 6} y={TOP + 10} textAnchor="end" fontSize={10} fill={theme.colors.text.secondary}>
          {formatValue(plot.max)}
        </text>
        <text x={LEFT - 6} y={axisY} textAnchor="end" fontSize={10} fill={theme.colors.text.secondary}>
          {formatValue(plot.min)}
        </text>
        {marks.map((x, i) => (
          <text
            key={i}
            x={LEFT + x}
            y={axisY + 14}
            textAnchor={i === 0 ? 'start' : i === marks.length - 1 ? 'end' : 'middle'}
            fontSize={10}
            fill={theme.colors.text.secondary}
          >
            {minutes(x)} min
          </text>
        ))}
        {plot.lines.map((l, i) => (
          <text key={l.name} x={LEFT + i * 110} y={axisY + AXIS_H + 12} fontSize={10} fill={alertColour(i)}>
            ■ {l.name}
          </text>
        ))}
      </svg>
      <figcaption style={{ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }}>
        <code>{signal.expr}</code>, every {Math.round(signal.stepMs / 1000)} s
      </figcaption>
    </figure>
  );
}
