import React, { memo } from 'react';

import { testIds } from '../../components/testIds';

/** SPARK_MAX is the fixed top of the CPU sparkline: percentages are drawn on a 0–100 scale. */
const SPARK_MAX = 100;

/**
 * Sparkline draws a series as one SVG polyline: 200 tiles stay cheap (no canvas or uPlot instance each).
 * Non-finite points (a down server's gaps) are skipped.
 */
export const Sparkline = memo(function Sparkline({
  values,
  color,
  width = 120,
  height = 28,
  label,
}: {
  values: readonly number[];
  color: string;
  width?: number;
  height?: number;
  label: string;
}) {
  if (values.length < 2) {
    return <svg width={width} height={height} role="img" aria-label={`${label}: no data`} />;
  }
  const dx = width / (values.length - 1);
  const points: string[] = [];
  values.forEach((v, i) => {
    if (Number.isFinite(v)) {
      const y = height - (Math.max(0, Math.min(SPARK_MAX, v)) / SPARK_MAX) * (height - 2) - 1;
      points.push(`${(i * dx).toFixed(1)},${y.toFixed(1)}`);
    }
  });
  return (
    <svg
      width="100%"
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
      data-testid={testIds.fleet.sparkline}
    >
      <polyline
        points={points.join(' ')}
        fill="none"
        stroke={color}
        strokeWidth={1.5}
        vectorEffect="non-scaling-stroke"
      />
    </svg>
  );
});
