/**
 * The drills' HTTP surface, in the shapes of contract/drills.ts:
 * - `GET /api/drills`: the drills that can run and the kept runs, newest first;
 * - `POST /api/drills` `{"name", "speed"?, "clock"?}` → 201 with the run (on the live clock, its first steps
 *   injected; on a separate one, its lead-in started);
 * - `GET /api/drills/:id`: one run, with its report once it ended;
 * - `DELETE /api/drills/:id`: aborts a running drill (its scenarios stop) and answers with its report.
 * The mutating two sit behind the bearer-token guard and the rate limit; errors are the catalogue's.
 */
import { Router, type RequestHandler } from 'express';
import { drillRequestSchema, type DrillsResponse } from '../contract/drills.js';
import { ERR_BAD_FIELD } from '../errors.js';
import type { DrillRunner } from './drill-runner.js';

/** DRILLS_PATH is the routes' path. */
export const DRILLS_PATH = '/api/drills';

/** drillsRouter serves the drills API; `guard` is the mutation guard followed by a JSON body parser. */
export function drillsRouter(runner: DrillRunner, guard: readonly RequestHandler[]): Router {
  const r = Router();
  r.get(DRILLS_PATH, (_req, res) => {
    const body: DrillsResponse = { definitions: [...runner.definitions()], runs: runner.list() };
    res.json(body);
  });
  r.get(`${DRILLS_PATH}/:id`, (req, res) => {
    res.json(runner.get(String(req.params.id)));
  });
  r.post(DRILLS_PATH, ...guard, async (req, res) => {
    const parsed = drillRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field =
        issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue?.path.join('.') || 'body';
      throw ERR_BAD_FIELD(field, issue?.message ?? 'invalid');
    }
    const run = await runner.start(parsed.data.name, parsed.data.speed ?? 1, parsed.data.clock ?? 'live');
    res
      .status(201)
      .location(`${DRILLS_PATH}/${encodeURIComponent(run.id)}`)
      .json(run);
  });
  r.delete(`${DRILLS_PATH}/:id`, ...guard, async (req, res) => {
    res.json(await runner.abort(String(req.params.id)));
  });
  return r;
}
