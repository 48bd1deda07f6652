import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from './script.js';

const DIR = join(import.meta.dirname, '..', 'testdata');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.test'))
  .sort();
let total = 0;

describe('promql test scripts', () => {
  it.each(files)('%s', async (file) => {
    const report = await runScript(readFileSync(join(DIR, file), 'utf8'));
    total += report.evals;
    expect(report.failures.map((f) => `${file}:${f.line}: ${f.message}`)).toEqual([]);
    expect(report.evals).toBeGreaterThan(0);
  });

  it('covers at least 300 evals in all', () => {
    expect(total).toBeGreaterThanOrEqual(300);
  });
});
