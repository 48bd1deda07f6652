/**
 * The rule manager's HTTP surface beyond the Prometheus API: `POST /-/reload` (Prometheus's lifecycle
 * endpoint) reloads the rule files — 200 with what was loaded, or 400 naming each file, line and reason
 * while the previous rules keep running. Mutating, so it sits behind the token guard and the rate limit.
 */
import { Router, type RequestHandler } from 'express';
import { ERR_RULES_INVALID } from '../errors.js';
import type { RuleManager } from './manager.js';

/** RELOAD_PATH is Prometheus's reload endpoint. */
export const RELOAD_PATH = '/-/reload';

/** rulesRouter serves `POST /-/reload` for `manager`, behind `guard`. */
export function rulesRouter<T>(manager: RuleManager<T>, guard: readonly RequestHandler[]): Router {
  const r = Router();
  r.post(RELOAD_PATH, ...guard, async (_req, res) => {
    const result = await manager.reload();
    if (!result.ok) throw ERR_RULES_INVALID(result.errors.map((e) => e.message).join('; '));
    res.json({ status: 'success', files: result.files, groups: result.groups, rules: result.rules });
  });
  return r;
}
