import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from './errors.js';
import { ParseCache } from './parse-cache.js';
import { parseExpr } from './parser.js';

/** QUERIES are strings a template might query; each parses to a different expression. */
const QUERIES = [
  'up',
  'up{server="a"}',
  'up{server="b"}',
  'quantile_over_time(0.5, x{server="a"}[1d])',
  'quantile_over_time(0.5, x{server="b"}[1d])',
  'sum by (server) (rate(y[5m]))',
  '1 + 2',
];

describe('ParseCache', () => {
  it.each(QUERIES)('parses %s as parseExpr does, and returns the kept expression after', (q) => {
    const cache = new ParseCache();
    const first = cache.parse(q);
    expect(first).toEqual(parseExpr(q));
    expect(cache.parse(q)).toBe(first);
  });

  it('keeps no failure: a bad string throws its ParseError every time', () => {
    const cache = new ParseCache();
    for (let i = 0; i < 2; i++) expect(() => cache.parse('sum(')).toThrow(ParseError);
    expect(cache.size).toBe(0);
  });

  it('answers any sequence of strings with their own expressions, within its bound', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.constantFrom(...QUERIES), { maxLength: 40 }),
        (bound, seq) => {
          const cache = new ParseCache(bound);
          for (const q of seq) {
            expect(cache.parse(q)).toEqual(parseExpr(q));
            expect(cache.size).toBeLessThanOrEqual(bound);
          }
        },
      ),
    );
  });

  it('drops the least recently used string first', () => {
    const cache = new ParseCache(2);
    const a = cache.parse('up');
    cache.parse('x');
    cache.parse('up');
    cache.parse('y');
    expect(cache.parse('up')).toBe(a);
    expect(cache.size).toBe(2);
  });
});
