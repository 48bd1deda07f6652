import { describe, expect, it } from 'vitest';
import type { Matcher } from '../storage.js';
import { SeriesIndex } from './series-index.js';
import { TsdbError } from '../errors.js';

const SERIES: Record<string, string>[] = [
  { __name__: 'cpu', server: 'web-1', mode: 'user' },
  { __name__: 'cpu', server: 'web-2', mode: 'system' },
  { __name__: 'cpu', server: 'db-1' },
  { __name__: 'mem', server: 'web-1', env: '' },
  { __name__: 'mem', server: 'db-10', env: 'prod' },
  { __name__: 'disk', server: 'db-1\nx', mode: 'user' },
];

function index(): SeriesIndex {
  const idx = new SeriesIndex();
  for (const s of SERIES) idx.getOrCreate(s);
  return idx;
}

const m = (name: string, type: Matcher['type'], value: string): Matcher => ({ name, type, value });

describe('SeriesIndex matchers (Prometheus semantics)', () => {
  it.each<{ name: string; ms: Matcher[]; want: number[] }>([
    { name: 'equal', ms: [m('__name__', '=', 'cpu')], want: [1, 2, 3] },
    { name: 'equal two labels', ms: [m('__name__', '=', 'cpu'), m('server', '=', 'db-1')], want: [3] },
    {
      name: 'not equal is set difference',
      ms: [m('__name__', '=', 'cpu'), m('mode', '!=', 'user')],
      want: [2, 3],
    },
    { name: 'equal empty selects series lacking label', ms: [m('mode', '=', '')], want: [3, 4, 5] },
    { name: 'not equal empty selects series having label', ms: [m('mode', '!=', '')], want: [1, 2, 6] },
    { name: 'regex is anchored (no substring match)', ms: [m('server', '=~', 'db-1')], want: [3] },
    { name: 'regex prefix', ms: [m('server', '=~', 'db-1.*')], want: [3, 5, 6] },
    { name: 'regex dot matches newline', ms: [m('server', '=~', 'db-1.x')], want: [6] },
    { name: 'regex class', ms: [m('server', '=~', 'web-[0-9]')], want: [1, 2, 4] },
    { name: 'regex literal alternation', ms: [m('server', '=~', 'web-2|db-10|nope')], want: [2, 5] },
    {
      name: 'regex matching empty selects missing',
      ms: [m('__name__', '=', 'cpu'), m('mode', '=~', 'user|')],
      want: [1, 3],
    },
    {
      name: 'regex .* matches everything',
      ms: [m('__name__', '=~', 'mem'), m('nope', '=~', '.*')],
      want: [4, 5],
    },
    { name: 'regex .+ needs the label', ms: [m('env', '=~', '.+')], want: [5] },
    { name: 'not regex', ms: [m('__name__', '=', 'cpu'), m('server', '!~', 'web.*')], want: [3] },
    { name: 'not regex matching empty excludes missing', ms: [m('mode', '!~', '')], want: [1, 2, 6] },
    {
      name: 'not regex anchored',
      ms: [m('__name__', '=', 'cpu'), m('server', '!~', 'web')],
      want: [1, 2, 3],
    },
    { name: 'case-insensitive flag group', ms: [m('server', '=~', '(?i)WEB-1')], want: [1, 4] },
    { name: 'unknown value', ms: [m('__name__', '=', 'nope')], want: [] },
    { name: 'only negative matchers start from all', ms: [m('__name__', '!=', 'cpu')], want: [4, 5, 6] },
  ])('$name', ({ ms, want }) => {
    expect(index().select(ms)).toEqual(want);
  });

  it('rejects an invalid regex with a typed error', () => {
    let caught: unknown;
    try {
      index().select([m('a', '=~', '(')]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TsdbError);
    expect((caught as TsdbError).code).toBe('TSDB_BAD_REGEX');
  });

  it('drops empty label values from identity and reuses refs', () => {
    const idx = index();
    expect(idx.getOrCreate({ __name__: 'mem', server: 'web-1' })).toMatchObject({ ref: 4, created: false });
    expect(idx.labels(4)).toEqual({ __name__: 'mem', server: 'web-1' });
  });

  it('lists label names and values, optionally restricted', () => {
    const idx = index();
    expect(idx.labelNames()).toEqual(['__name__', 'env', 'mode', 'server']);
    expect(idx.labelValues('mode')).toEqual(['system', 'user']);
    const cpu = idx.select([m('__name__', '=', 'cpu')]);
    expect(idx.labelNames(cpu)).toEqual(['__name__', 'mode', 'server']);
    expect(idx.labelValues('server', cpu)).toEqual(['db-1', 'web-1', 'web-2']);
  });

  it('deletes series and never reuses their refs', () => {
    const idx = index();
    idx.delete(new Set([1, 2]));
    expect(idx.select([m('__name__', '=', 'cpu')])).toEqual([3]);
    expect(idx.getOrCreate(SERIES[0]!).ref).toBe(7);
  });
});
