/**
 * ParseCache keeps the parsed expressions of query strings that are evaluated over and over, such as the
 * `query` calls of alert annotation templates: those run for every active alert at every evaluation, and
 * parsing the string again (lezer, then type checks) cost about what evaluating it does.
 *
 * A string always parses to the same expression, so a kept one is never out of date; only successful parses
 * are kept (a bad string throws its ParseError every time, as parseExpr does). Expressions are shared, never
 * changed, by the engine: one kept here is also the key of its range functions' windows in the engine's
 * WindowCache, which then moves them from one evaluation to the next as it does for a rule's own expression.
 */
import type { Expr } from './ast.js';
import { parseExpr } from './parser.js';

/**
 * DEFAULT_PARSE_CACHE_ENTRIES bounds the strings kept: the shipped templates make one query string per
 * active alert of HighHTTPLatency (one per server), so 1,024 covers a fleet of a thousand servers.
 */
export const DEFAULT_PARSE_CACHE_ENTRIES = 1_024;

/** ParseCache maps query strings to their parsed expressions, least recently used dropped first. */
export class ParseCache {
  private readonly exprs = new Map<string, Expr>();

  constructor(private readonly maxEntries: number = DEFAULT_PARSE_CACHE_ENTRIES) {}

  /** parse returns `query`'s expression: the kept one, or parseExpr's (kept), or parseExpr's error. */
  parse(query: string): Expr {
    const kept = this.exprs.get(query);
    if (kept !== undefined) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
      this.exprs.delete(query);
      this.exprs.set(query, kept);
      return kept;
    }
    const expr = parseExpr(query);
    if (this.maxEntries <= 0) return expr;
    if (this.exprs.size >= this.maxEntries) {
      const oldest = this.exprs.keys().next();
      if (!oldest.done) this.exprs.delete(oldest.value);
    }
    this.exprs.set(query, expr);
    return expr;
  }

  /** size is the number of strings kept. */
  get size(): number {
    return this.exprs.size;
  }
}
