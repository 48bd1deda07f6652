/**
 * The notifiers' HTTP surface, in the shapes of contract/notifications.ts:
 * - `GET /api/notifications`: each receiver's queue and health, recent deliveries and failures, dead letters;
 * - `GET /api/silences`, `GET /api/silences/:id`: silences in Alertmanager's v2 shape;
 * - `POST /api/silences` (matchers, endsAt or duration, createdBy, comment) → 201 `{silenceID}`;
 * - `DELETE /api/silences/:id` expires one at once.
 * The mutating two sit behind the bearer-token guard and the rate limit; errors are the catalogue's.
 */
import { Router, type RequestHandler } from 'express';
import { postSilenceSchema, type NotificationsResponse } from '../contract/notifications.js';
import { ERR_BAD_FIELD, ERR_UNKNOWN_SILENCE } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { parseDuration } from '../util/duration.js';
import type { SilenceStore } from './silences.js';

/** NOTIFICATIONS_PATH and SILENCES_PATH are the routes' paths. */
export const NOTIFICATIONS_PATH = '/api/notifications';
export const SILENCES_PATH = '/api/silences';

/** NotifyRoutesDeps are what the routes read and change. */
export interface NotifyRoutesDeps {
  readonly notifications: () => NotificationsResponse;
  readonly silences: SilenceStore;
  /** clock is wall time (silences are in wall time, as Alertmanager's). */
  readonly clock: Clock;
  /** guard is the mutation guard followed by a JSON body parser. */
  readonly guard: readonly RequestHandler[];
}

/** notifyRouter serves the notifications and silences API. */
export function notifyRouter(deps: NotifyRoutesDeps): Router {
  const r = Router();
  r.get(NOTIFICATIONS_PATH, (_req, res) => {
    res.json(deps.notifications());
  });
  r.get(SILENCES_PATH, (_req, res) => {
    res.json({ silences: deps.silences.list() });
  });
  r.get(`${SILENCES_PATH}/:id`, (req, res) => {
    const s = deps.silences.get(String(req.params.id));
    if (!s) throw ERR_UNKNOWN_SILENCE(String(req.params.id));
    res.json(s);
  });
  r.post(SILENCES_PATH, ...deps.guard, async (req, res) => {
    const parsed = postSilenceSchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw ERR_BAD_FIELD(issue?.path.join('.') || 'body', issue?.message ?? 'invalid');
    }
    const b = parsed.data;
    const now = deps.clock.now();
    const startsAt = b.startsAt === undefined ? now : Date.parse(b.startsAt);
    let endsAt: number;
    if (b.duration !== undefined) {
      const ms = parseDuration(b.duration);
      if (ms === undefined || ms <= 0) throw ERR_BAD_FIELD('duration', 'expected a duration like 2h or 30m');
      endsAt = startsAt + ms;
    } else endsAt = Date.parse(b.endsAt ?? '');
    if (!(endsAt > startsAt)) throw ERR_BAD_FIELD('endsAt', 'must be after startsAt');
    if (endsAt <= now) throw ERR_BAD_FIELD('endsAt', 'must be in the future');
    let id: string;
    try {
      id = await deps.silences.create({
        matchers: b.matchers,
        startsAt,
        endsAt,
        createdBy: b.createdBy,
        comment: b.comment,
      });
    } catch (err) {
      throw ERR_BAD_FIELD('matchers', (err as Error).message);
    }
    res.status(201).location(`${SILENCES_PATH}/${id}`).json({ silenceID: id });
  });
  r.delete(`${SILENCES_PATH}/:id`, ...deps.guard, async (req, res) => {
    const id = String(req.params.id);
    if (!(await deps.silences.expire(id))) throw ERR_UNKNOWN_SILENCE(id);
    res.json(deps.silences.get(id));
  });
  return r;
}
