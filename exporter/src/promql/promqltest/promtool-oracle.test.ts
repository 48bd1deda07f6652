import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seriesKey } from '../../util/labels.js';
import type { QueryResult } from '../engine.js';
import { promtoolOracle } from './promtool-oracle.js';
import { runScript } from './script.js';

// Every instant eval of our scripts is also evaluated by Prometheus 2.42 (promtool test rules); both
// engines must agree: same label sets, values within 1e-6 relative, NaN = NaN, errors on both sides.
const DIR = join(import.meta.dirname, '..', 'testdata');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.test'))
  .sort();

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

describe('scripts agree with Prometheus 2.42 (promtool)', () => {
  it.each(files)('%s', async (file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const ours = new Map<number, QueryResult | Error>();
    await runScript(text, {}, (line, _expr, isRange, outcome) => {
      if (!isRange) ours.set(line, outcome);
    });
    const theirs = await promtoolOracle(text);
    const diffs: string[] = [];
    let compared = 0;
    for (const a of theirs) {
      const o = ours.get(a.line);
      if (!o) continue;
      if (o instanceof Error || a.error !== undefined) {
        if (!(o instanceof Error) && (o.resultType === 'matrix' || o.resultType === 'string')) continue;
        if (!(o instanceof Error && a.error !== undefined))
          diffs.push(
            `${file}:${a.line} ${a.expr}: ours ${o instanceof Error ? o.message : 'ok'}, prometheus ${a.error ?? 'ok'}`,
          );
        compared++;
        continue;
      }
      compared++;
      const got =
        o.resultType === 'vector'
          ? o.result.map((s) => ({ labels: s.labels, value: s.v }))
          : o.resultType === 'scalar'
            ? [{ labels: {}, value: o.result.v }]
            : [];
      const want = new Map((a.samples ?? []).map((s) => [seriesKey(s.labels), s.value]));
      const mine = new Map(got.map((s) => [seriesKey(s.labels), s.value]));
      const same =
        want.size === mine.size && [...want].every(([k, v]) => mine.has(k) && close(v, mine.get(k) ?? NaN));
      if (!same)
        diffs.push(
          `${file}:${a.line} ${a.expr}: ours ${JSON.stringify(got)}, prometheus ${JSON.stringify(a.samples)}`,
        );
    }
    expect(diffs).toEqual([]);
    expect(compared).toBeGreaterThan(0);
  });
});
