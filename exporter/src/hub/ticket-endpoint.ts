/**
 * `POST /api/hub/ticket`: exchanges the hub token for a single-use ticket (tickets.ts). The caller is meant to
 * be a server-side proxy that holds the token (Grafana's plugin proxy adds it from the app's secure settings);
 * the browser receives only the ticket and opens `/ws?ticket=…`. Without a hub token anyone may have a ticket,
 * since the hub admits anyone then anyway: clients can use one flow whatever the exporter's configuration.
 */
import type { IncomingMessage } from 'node:http';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { presentedToken, tokensEqual } from './access.js';
import type { Hub } from './hub.js';
import { HUB_TICKET_PATH, type ErrorMessage, type HubTicket } from '../contract/hub-protocol.js';

/** TicketRouterOptions configures the ticket endpoint. */
export interface TicketRouterOptions {
  /** guard runs before the handler (the app's per-client rate limit: it also slows token guessing). */
  readonly guard?: readonly RequestHandler[];
}

/** createTicketRouter returns an express router serving `POST /api/hub/ticket` for `hub`. */
export function createTicketRouter(hub: Hub, options: TicketRouterOptions = {}): Router {
  const router = Router();
  router.post(HUB_TICKET_PATH, ...(options.guard ?? []), (req: Request, res: Response) => {
    const token = hub.options.token;
    if (token !== null) {
      const presented = presentedToken(req as IncomingMessage);
      if (presented === undefined || !tokensEqual(presented, token)) {
        hub.metrics.rejected.inc({ reason: 'token' });
        res.setHeader('WWW-Authenticate', 'Bearer');
        res.status(401).json({
          type: 'error',
          code: 'unauthorized',
          message: 'A ticket costs the hub token: send the header Authorization: Bearer <HUB_TOKEN>.',
        } satisfies ErrorMessage);
        return;
      }
    }
    // A ticket is a credential: no cache on the way may keep it.
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).json(hub.tickets.issue() satisfies HubTicket);
  });
  return router;
}
