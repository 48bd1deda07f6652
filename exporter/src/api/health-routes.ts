/**
 * Liveness and readiness. `/healthz` answers 200 while the process serves HTTP; `/readyz` answers 200 only
 * once startup tasks (e.g. backfill) are done, a first tick has rendered, and storage (when present) takes
 * writes — 503 with the failing checks otherwise, so an orchestrator or a test can wait on it.
 */
import { Router } from 'express';

/** ReadinessCheck is one named condition of readiness. */
export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail?: unknown;
}

/** Readiness is the report `/readyz` serves. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
}

/** healthRouter serves /healthz and /readyz from a readiness function. */
export function healthRouter(readiness: () => Readiness): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', (_req, res) => {
    const report = readiness();
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks });
  });
  return r;
}
