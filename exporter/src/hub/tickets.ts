/**
 * Hub tickets: short-lived, single-use admissions to `/ws` and `/api/stream`. A holder of the hub token (a
 * server-side proxy such as Grafana's plugin proxy) exchanges it for a ticket and hands only the ticket to a
 * browser, so the token itself never reaches one; a ticket that leaks (logs, history) is dead after one use or
 * TICKET_TTL_MS, whichever comes first.
 */
import { randomBytes } from 'node:crypto';
import type { HubTicket } from '../contract/hub-protocol.js';
import { systemClock, type Clock } from '../util/clock.js';

/** TICKET_TTL_MS is a ticket's lifetime: the browser uses it at once; 30 s covers a slow page and a retry. */
export const TICKET_TTL_MS = 30_000;

/**
 * MAX_OUTSTANDING_TICKETS bounds the unredeemed tickets kept (the oldest are dropped beyond it): 10× the hub's
 * default connection limit, so a full reconnect storm of every client still finds its tickets.
 */
export const MAX_OUTSTANDING_TICKETS = 10_000;

/** TICKET_BYTES is a ticket's entropy (256 bits, base64url-encoded: 43 characters). */
const TICKET_BYTES = 32;

/** TicketBookOptions configures a TicketBook; every field has a default. */
export interface TicketBookOptions {
  readonly clock?: Clock;
  readonly ttlMs?: number;
  readonly maxOutstanding?: number;
}

/**
 * TicketBook issues tickets and redeems each at most once before it expires. Tickets share one lifetime, so
 * insertion order is expiry order and expired ones are swept from the front of the map.
 */
export class TicketBook {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly maxOutstanding: number;
  /** outstanding maps each unredeemed ticket to its expiry (Unix ms), oldest first. */
  private readonly outstanding = new Map<string, number>();

  constructor(options: TicketBookOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.ttlMs = options.ttlMs ?? TICKET_TTL_MS;
    this.maxOutstanding = options.maxOutstanding ?? MAX_OUTSTANDING_TICKETS;
  }

  /** size is the number of unredeemed, unexpired tickets held (after sweeping). */
  get size(): number {
    this.sweep(this.clock.now());
    return this.outstanding.size;
  }

  /** issue makes a new ticket valid for one connection within the lifetime. */
  issue(): HubTicket {
    const now = this.clock.now();
    this.sweep(now);
    while (this.outstanding.size >= this.maxOutstanding) {
      const oldest = this.outstanding.keys().next().value;
      if (oldest === undefined) break;
      this.outstanding.delete(oldest);
    }
    const ticket = randomBytes(TICKET_BYTES).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.outstanding.set(ticket, expiresAt);
    return { ticket, expiresAt };
  }

  /** redeem admits `ticket` once: true if it was issued here, is unexpired and unused; it is used up either way. */
  redeem(ticket: string): boolean {
    const expiresAt = this.outstanding.get(ticket);
    if (expiresAt === undefined) return false;
    this.outstanding.delete(ticket);
    return this.clock.now() <= expiresAt;
  }

  private sweep(now: number): void {
    for (const [ticket, expiresAt] of this.outstanding) {
      if (expiresAt >= now) break;
      this.outstanding.delete(ticket);
    }
  }
}
