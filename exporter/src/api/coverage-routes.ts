/**
 * The alert coverage API, in the shapes of contract/coverage.ts:
 * - `POST /api/coverage` (bearer token) with a CoverageRequest → 202 and the job, run in a worker thread;
 * - `GET /api/coverage`: the kept jobs, newest first, without their reports;
 * - `GET /api/coverage/:id`: one job with its progress, and its report once done;
 * - `GET /api/coverage/:id/report.html`: a done job's self-contained HTML report (matrix, timelines).
 * One job runs at a time (409 while one does); its progress is also in the hub's `system-status`.
 */
import { Router, type RequestHandler } from 'express';
import { coverageRequestSchema } from '../contract/coverage.js';
import type { CoverageJobs } from '../coverage/jobs.js';
import { renderCoverageHtml } from '../coverage/html.js';
import { ERR_BAD_FIELD, ERR_COVERAGE_RUNNING, ERR_UNKNOWN_COVERAGE } from '../errors.js';

/** COVERAGE_PATH is the routes' path. */
export const COVERAGE_PATH = '/api/coverage';

/** coverageRouter serves the coverage API; `guard` is the mutation guard followed by a JSON body parser. */
export function coverageRouter(jobs: CoverageJobs, guard: readonly RequestHandler[]): Router {
  const r = Router();
  const job = (id: string) => {
    const j = jobs.get(id);
    if (!j) throw ERR_UNKNOWN_COVERAGE(id);
    return j;
  };
  r.get(COVERAGE_PATH, (_req, res) => {
    res.json({ jobs: jobs.list() });
  });
  r.get(`${COVERAGE_PATH}/:id`, (req, res) => {
    res.json(job(String(req.params.id)));
  });
  r.get(`${COVERAGE_PATH}/:id/report.html`, (req, res) => {
    const j = job(String(req.params.id));
    if (j.status === 'running') throw ERR_COVERAGE_RUNNING(j.id);
    if (!j.report)
      throw ERR_UNKNOWN_COVERAGE(`${j.id}/report.html (the job failed: ${j.error ?? 'no report'})`);
    res.type('html').send(renderCoverageHtml(j.report));
  });
  r.post(COVERAGE_PATH, ...guard, (req, res) => {
    const parsed = coverageRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field =
        issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue?.path.join('.') || 'body';
      throw ERR_BAD_FIELD(field, issue?.message ?? 'invalid');
    }
    const running = jobs.current();
    if (running) throw ERR_COVERAGE_RUNNING(running.id);
    const started = jobs.start(parsed.data);
    res
      .status(202)
      .location(`${COVERAGE_PATH}/${encodeURIComponent(started.id)}`)
      .json(started);
  });
  return r;
}
