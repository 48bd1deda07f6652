import React from 'react';
import { useTheme2 } from '@grafana/ui';

import { testIds } from '../../components/testIds';
import type { Timeline } from './report';

/** Geometry of the chart in SVG user units; the SVG scales to its container's width through its viewBox. */
const LABEL_W = 190;
const PLOT_W = 760;
const ROW_H = 14;
const TOP = 6;
const AXIS_H = 22;
/** MAX_TICKS bounds the x axis' minute marks so the labels never overlap. */
const MAX_TICKS = 8;

function formatSeconds(s: number | null): string {
  return s === null ? 'missed' : `first alert after ${Math.round(s)} s`;
}

/**
 * KindTimeline draws one scenario kind's runs as an SVG chart: a bar per scenario from its start (time 0) to its
 * end, blue when an alert fired for it and red when it was missed, with each alert firing on its servers as a
 * coloured mark on the bar (faint when on a dependent server). Every bar and mark carries a tooltip.
 */
export function KindTimeline({ timeline, colours }: { timeline: Timeline; colours: ReadonlyMap<string, string> }) {
  const theme = useTheme2();
  const { rows, spanMs } = timeline;
  if (rows.length === 0 || spanMs <= 0) {
    return null;
  }
  const height = TOP + rows.length * ROW_H + AXIS_H;
  const x = (ms: number) => LABEL_W + (Math.min(Math.max(ms, 0), spanMs) / spanMs) * PLOT_W;
  const tickMin = Math.max(1, Math.ceil(spanMs / 60_000 / MAX_TICKS));
  const ticks: number[] = [];
  for (let m = 0; m * 60_000 <= spanMs; m += tickMin) {
    ticks.push(m);
  }
  const axisY = TOP + rows.length * ROW_H + 2;
  return (
    <svg
      data-testid={testIds.coverage.timeline}
      data-kind={timeline.kind}
      role="img"
      aria-label={`${timeline.kind} timeline`}
      viewBox={`0 0 ${LABEL_W + PLOT_W + 10} ${height}`}
      width="100%"
      style={{ maxWidth: LABEL_W + PLOT_W + 10, display: 'block' }}
    >
      {ticks.map((m) => (
        <g key={m}>
          <line x1={x(m * 60_000)} x2={x(m * 60_000)} y1={TOP} y2={axisY} stroke={theme.colors.border.weak} />
          <text
            x={x(m * 60_000)}
            y={axisY + 14}
            textAnchor="middle"
            fontSize={10}
            fill={theme.colors.text.secondary}
          >
            {m} min
          </text>
        </g>
      ))}
      {rows.map((row, i) => {
        const s = row.scenario;
        const y = TOP + i * ROW_H;
        return (
          <g key={s.id} data-detected={s.detected}>
            <text x={LABEL_W - 6} y={y + ROW_H - 3} textAnchor="end" fontSize={10} fill={theme.colors.text.secondary}>
              {`${s.role} ${s.intensity} ${s.server}`}
            </text>
            <rect
              x={LABEL_W}
              y={y + 2}
              width={Math.max(1, x(row.durationMs) - LABEL_W)}
              height={ROW_H - 4}
              fill={s.detected ? theme.colors.info.transparent : theme.colors.error.transparent}
              stroke={s.detected ? 'none' : theme.colors.error.border}
            >
              <title>{`${s.server} ${new Date(s.start).toISOString()} – ${new Date(s.end).toISOString()}: ${formatSeconds(s.timeToFireS)}`}</title>
            </rect>
            {row.marks.map((m, j) => {
              const x0 = x(m.fromMs);
              return (
                <rect
                  key={j}
                  x={x0}
                  y={y + 4}
                  width={Math.max(2, x(m.toMs) - x0)}
                  height={ROW_H - 8}
                  fill={colours.get(m.alertname) ?? theme.colors.text.secondary}
                  opacity={m.dependent ? 0.45 : 0.95}
                >
                  <title>{`${m.alertname} on ${m.server}: ${Math.round(m.fromMs / 1000)} s after the start`}</title>
                </rect>
              );
            })}
          </g>
        );
      })}
    </svg>
  );
}
