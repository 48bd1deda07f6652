import { describe, expect, it } from 'vitest';
import {
  EMPTY_POSTINGS,
  MemPostings,
  errPostings,
  expandPostings,
  intersect,
  merge,
  newListPostings,
  without,
} from './postings.js';

const L = (...xs: number[]) => newListPostings(xs);

describe('postings algebra', () => {
  it.each([
    { name: 'intersect', got: () => intersect(L(1, 2, 3, 5, 8), L(2, 3, 4, 8), L(0, 2, 8, 9)), want: [2, 8] },
    { name: 'intersect with empty', got: () => intersect(L(1, 2), EMPTY_POSTINGS), want: [] },
    { name: 'intersect single', got: () => intersect(L(4, 7)), want: [4, 7] },
    { name: 'merge', got: () => merge(L(1, 5), L(2, 5, 9), EMPTY_POSTINGS), want: [1, 2, 5, 9] },
    { name: 'without', got: () => without(L(1, 2, 3, 4, 5), L(2, 4, 6)), want: [1, 3, 5] },
    { name: 'without all', got: () => without(L(1, 2), L(1, 2)), want: [] },
    { name: 'without empty drop', got: () => without(L(1, 2), EMPTY_POSTINGS), want: [1, 2] },
    {
      name: 'nested',
      got: () => without(intersect(L(1, 2, 3, 4), L(2, 3, 4)), merge(L(3), L(9))),
      want: [2, 4],
    },
  ])('$name', ({ got, want }) => {
    expect(expandPostings(got())).toEqual(want);
  });

  it('seeks forward with binary search and never backwards', () => {
    const p = L(1, 3, 5, 7, 9, 11);
    expect(p.seek(6)).toBe(true);
    expect(p.at()).toBe(7);
    expect(p.seek(2)).toBe(true);
    expect(p.at()).toBe(7);
    expect(p.next()).toBe(true);
    expect(p.at()).toBe(9);
    expect(p.seek(12)).toBe(false);
  });

  it('propagates errors through combinators (null object)', () => {
    const boom = new Error('boom');
    expect(() => expandPostings(intersect(L(1), errPostings(boom)))).toThrow('boom');
    expect(() => expandPostings(merge(L(1), errPostings(boom)))).toThrow('boom');
    expect(errPostings(boom).next()).toBe(false);
  });

  it('MemPostings keeps lists sorted and deletes refs', () => {
    const m = new MemPostings();
    m.add(2, { a: 'x' });
    m.add(1, { a: 'x', b: 'y' });
    m.add(3, { a: 'z' });
    expect(expandPostings(m.get('a', 'x'))).toEqual([1, 2]);
    expect(expandPostings(m.all())).toEqual([1, 2, 3]);
    m.delete(new Set([1]));
    expect(m.labelNames().sort()).toEqual(['a']);
    expect(expandPostings(m.all())).toEqual([2, 3]);
  });
});
