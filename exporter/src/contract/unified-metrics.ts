/**
 * The seed's `server-metrics` shape (shared/SEED.md, "Real-time streaming"): `GET /api/unified-metrics` and
 * the hub's `server-metrics` channel. Percentages 0–100, network in bytes per second.
 */
import { z } from 'zod';
import { serverStatusSchema, type ServerStatus } from './fleet.js';

/** UnifiedServer is one entry of `servers[]`. */
export interface UnifiedServer {
  id: string;
  cpu: number;
  memory: number;
  disk: number;
  network: { in: number; out: number };
  status: ServerStatus;
  /** alerts name what makes the server non-healthy: firing alert rules and threshold breaches. */
  alerts: string[];
}

/** UnifiedSummary is the seed's fleet summary; a down server counts as critical. */
export interface UnifiedSummary {
  total_servers: number;
  healthy: number;
  warning: number;
  critical: number;
  avg_cpu: number;
  avg_memory: number;
}

/** UnifiedMetrics is the seed's `data` object of a `server-metrics` message. */
export interface UnifiedMetrics {
  servers: UnifiedServer[];
  summary: UnifiedSummary;
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const count = z.number().int().nonnegative();

/** unifiedMetricsSchema validates the `server-metrics` payload. */
export const unifiedMetricsSchema: z.ZodType<UnifiedMetrics> = z.object({
  servers: z.array(
    z.object({
      id: z.string(),
      cpu: finite,
      memory: finite,
      disk: finite,
      network: z.object({ in: finite, out: finite }),
      status: serverStatusSchema,
      alerts: z.array(z.string()),
    }),
  ),
  summary: z.object({
    total_servers: count,
    healthy: count,
    warning: count,
    critical: count,
    avg_cpu: finite,
    avg_memory: finite,
  }),
});
