import { exporterClient } from '../api/client';
import { useAsync } from './useAsync';

/** SPARKLINE_WINDOW_S is the sparkline's span: the last 15 minutes (issue 6). */
export const SPARKLINE_WINDOW_S = 15 * 60;
/** SPARKLINE_STEP_S gives 31 points over 15 minutes: enough shape for a 100 px line, two ticks per point. */
export const SPARKLINE_STEP_S = 30;
/** SPARKLINE_REFRESH_MS re-queries once a minute; the tiles' gauges move live in between. */
export const SPARKLINE_REFRESH_MS = 60_000;
/** CPU_BY_SERVER_EXPR is each server's CPU (the mean over its cores). */
export const CPU_BY_SERVER_EXPR = 'avg by (server) (openmanager_cpu_usage_percent)';
/**
 * CPU_BY_SERVER_RECORDED is the same series as the shipped recording rule stores it (rules/recording_rules.yml):
 * one series per server instead of one per core, so the query reads an eighth of the samples. Measured with 200
 * servers on `npm run bench:ui`, the sparklines were most of the Fleet page's first render.
 */
export const CPU_BY_SERVER_RECORDED = 'server:openmanager_cpu_usage_percent:avg';

/** useCpuSparklines returns each server's CPU over the last 15 minutes (values only, oldest first). */
export function useCpuSparklines(): ReadonlyMap<string, number[]> {
  const { data } = useAsync(
    async () => {
      const end = Math.floor(Date.now() / 1000);
      const range = { start: end - SPARKLINE_WINDOW_S, end, step: SPARKLINE_STEP_S };
      let series = await exporterClient.queryRange({ expr: CPU_BY_SERVER_RECORDED, ...range });
      // Without the recording rule (other rule files, or its history not replayed yet) compute it from the cores.
      if (series.length === 0) {
        series = await exporterClient.queryRange({ expr: CPU_BY_SERVER_EXPR, ...range });
      }
      const out = new Map<string, number[]>();
      for (const s of series) {
        const server = s.metric.server;
        if (server) {
          out.set(
            server,
            s.values.map(([, v]) => Number(v))
          );
        }
      }
      return out;
    },
    [],
    SPARKLINE_REFRESH_MS
  );
  return data ?? EMPTY;
}

const EMPTY: ReadonlyMap<string, number[]> = new Map();
