/**
 * Who may connect to the hub: the Origin allow-list and the optional token (or a single-use ticket bought with
 * it, tickets.ts), shared by the WebSocket upgrade and the SSE endpoint so both transports apply exactly the
 * same rules.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HUB_TICKET_PARAM, type HubErrorCode } from '../contract/hub-protocol.js';

/** AccessRules are the hub's admission rules. */
export interface AccessRules {
  /**
   * allowedOrigins lists the browser origins (`scheme://host[:port]`) allowed to connect; `'*'` in the list or
   * null allows any. A request without an Origin header (not a browser) is always allowed: Origin checks exist
   * to stop other web pages from using a visitor's browser, and a non-browser client can forge any Origin.
   */
  readonly allowedOrigins: readonly string[] | null;
  /** token, when set, must be presented as `?token=` or `Authorization: Bearer`, or replaced by a ticket. */
  readonly token: string | null;
  /** redeemTicket uses up a `?ticket=` and tells whether it admits the request; absent = tickets not accepted. */
  readonly redeemTicket?: (ticket: string) => boolean;
}

/** AccessDenial says why a request was refused: a wire error code and its HTTP status. */
export interface AccessDenial {
  readonly code: Extract<HubErrorCode, 'unauthorized' | 'origin_not_allowed'>;
  readonly status: 401 | 403;
  readonly message: string;
}

const normaliseOrigin = (o: string): string => o.trim().toLowerCase().replace(/\/+$/, '');

/** originAllowed tells whether a request's Origin header passes the allow-list. */
export function originAllowed(origin: string | undefined, allowed: readonly string[] | null): boolean {
  if (origin === undefined || allowed === null) return true;
  const o = normaliseOrigin(origin);
  return allowed.some((a) => a === '*' || normaliseOrigin(a) === o);
}

/** presentedToken extracts the token from `Authorization: Bearer …` or the `token` query parameter. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1] !== undefined) return m[1];
  }
  return requestUrl(req)?.searchParams.get('token') ?? undefined;
}

/** requestUrl parses a request's target, or returns undefined for one no URL parser accepts (e.g. `//`). */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://hub.invalid');
  } catch {
    return undefined;
  }
}

/** tokensEqual compares two tokens in constant time (hashing first makes the lengths equal). */
export function tokensEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** checkAccess returns why a request must be refused, or null when it may connect. */
export function checkAccess(req: IncomingMessage, rules: AccessRules): AccessDenial | null {
  if (!originAllowed(req.headers.origin, rules.allowedOrigins)) {
    return {
      code: 'origin_not_allowed',
      status: 403,
      message: `Origin ${req.headers.origin ?? ''} is not allowed; add it to the hub's allowed origins.`,
    };
  }
  if (rules.token !== null) {
    const presented = presentedToken(req);
    const tokenOk = presented !== undefined && tokensEqual(presented, rules.token);
    if (!tokenOk && !ticketAdmits(req, rules)) {
      return {
        code: 'unauthorized',
        status: 401,
        message:
          'A valid token or ticket is required: pass ?ticket=<ticket from POST /api/hub/ticket>, ' +
          '?token=<token> or the header Authorization: Bearer <token>.',
      };
    }
  }
  return null;
}

/** ticketAdmits redeems the request's `?ticket=`, if any (a ticket is used up by this check). */
function ticketAdmits(req: IncomingMessage, rules: AccessRules): boolean {
  const ticket = requestUrl(req)?.searchParams.get(HUB_TICKET_PARAM);
  return ticket !== null && ticket !== undefined && ticket !== '' && rules.redeemTicket?.(ticket) === true;
}
