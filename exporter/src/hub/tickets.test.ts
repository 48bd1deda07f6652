import { describe, expect, it } from 'vitest';
import { ManualClock } from '../util/clock.js';
import { TicketBook } from './tickets.js';

describe('TicketBook', () => {
  it.each([
    ['redeemed at once', 0, [true, false]],
    ['redeemed on the last valid millisecond', 30_000, [true, false]],
    ['redeemed after it expired', 30_001, [false, false]],
  ] as const)('a ticket %s admits at most once', (_name, waitMs, expected) => {
    const clock = new ManualClock(1_000_000);
    const book = new TicketBook({ clock, ttlMs: 30_000 });
    const { ticket, expiresAt } = book.issue();
    expect(expiresAt).toBe(1_030_000);
    clock.advance(waitMs);
    expect([book.redeem(ticket), book.redeem(ticket)]).toEqual(expected);
  });

  it('refuses tickets it never issued and issues distinct, unguessable ones', () => {
    const book = new TicketBook();
    const tickets = new Set(Array.from({ length: 100 }, () => book.issue().ticket));
    expect(tickets.size).toBe(100);
    for (const t of tickets) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(book.redeem('guess')).toBe(false);
    expect(book.redeem('')).toBe(false);
  });

  it('forgets expired tickets and keeps at most maxOutstanding, dropping the oldest', () => {
    const clock = new ManualClock(0);
    const book = new TicketBook({ clock, ttlMs: 1_000, maxOutstanding: 3 });
    const [a, b, c, d] = Array.from({ length: 4 }, () => book.issue().ticket);
    expect(book.size).toBe(3);
    expect(book.redeem(a!)).toBe(false);
    expect([book.redeem(b!), book.redeem(c!)]).toEqual([true, true]);
    clock.advance(1_001);
    expect(book.size).toBe(0);
    expect(book.redeem(d!)).toBe(false);
  });
});
