/**
 * promtoolOracle evaluates the instant evals of a test script with Prometheus's own engine, through
 * `promtool test rules` (Debian's Prometheus 2.42 here): the script's `load` blocks become input series,
 * every `eval instant` becomes a `promql_expr_test` whose expectation is deliberately unmatchable, and
 * the "got:" lines promtool prints are parsed back. Range evals are skipped (promtool only evaluates
 * instants). Used to check that our expectations — and our engine — agree with the real thing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { Labels } from '../../util/labels.js';

const run = promisify(execFile);

/** OracleAnswer is Prometheus's answer to one instant eval: samples, or an error message. */
export interface OracleAnswer {
  readonly line: number;
  readonly expr: string;
  readonly timeMs: number;
  readonly samples?: { labels: Labels; value: number }[];
  readonly error?: string;
}

interface Group {
  interval: string;
  series: { series: string; values: string }[];
  evals: { line: number; expr: string; at: string }[];
}

/** ORACLE_SENTINEL is a label set no query returns, so every promtool test prints what it got. */
const ORACLE_SENTINEL = '{__oracle__="never"}';

/** splitScript extracts load blocks and instant evals, one group per `clear`-separated segment. */
function splitScript(text: string): Group[] {
  const groups: Group[] = [{ interval: '1m', series: [], evals: [] }];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    const cur = groups[groups.length - 1] as Group;
    if (line === 'clear') {
      groups.push({ interval: '1m', series: [], evals: [] });
      continue;
    }
    const load = /^load\s+(\S+)$/.exec(line);
    if (load?.[1]) {
      cur.interval = load[1];
      while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1] ?? '') && !/^\s*#/.test(lines[i + 1] ?? '')) {
        i++;
        const body = (lines[i] ?? '').trim();
        const m = /^(\S*?\{[^}]*\}|\S+)\s+(.*)$/.exec(body);
        if (m?.[1] && m[2] !== undefined) cur.series.push({ series: m[1], values: m[2] });
      }
      continue;
    }
    const ev = /^eval(?:_fail|_ordered)?\s+instant\s+at\s+(\S+)\s+(.+)$/.exec(line);
    if (ev?.[1] && ev[2])
      cur.evals.push({ line: i + 1, expr: ev[2], at: /^\d+$/.test(ev[1]) ? `${ev[1]}s` : ev[1] });
  }
  return groups.filter((g) => g.evals.length > 0);
}

/** parseGot parses promtool's `{a="b"} 1E+00, {c="d"} NaN` sample list. */
export function parseGot(text: string): { labels: Labels; value: number }[] {
  const out: { labels: Labels; value: number }[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] !== '{') break;
    i++;
    const labels: Record<string, string> = {};
    while (text[i] !== '}') {
      while (text[i] === ' ' || text[i] === ',') i++;
      if (text[i] === '}') break;
      const eq = text.indexOf('=', i);
      const name = text.slice(i, eq);
      let j = eq + 2;
      let value = '';
      while (text[j] !== '"') {
        if (text[j] === '\\') {
          const n = text[j + 1];
          value += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '');
          j += 2;
        } else value += text[j++] ?? '';
      }
      labels[name] = value;
      i = j + 1;
    }
    i++;
    const m = /^\s*(\S+?)(?=,\s*\{|$|\s*$)/.exec(text.slice(i));
    const tok = m?.[1] ?? 'NaN';
    i += m?.[0].length ?? text.length;
    out.push({ labels, value: tok === '+Inf' ? Infinity : tok === '-Inf' ? -Infinity : Number(tok) });
  }
  return out;
}

/** promtoolOracle runs the script's instant evals through promtool and returns Prometheus's answers. */
export async function promtoolOracle(
  script: string,
  promtool = '/usr/bin/promtool',
): Promise<OracleAnswer[]> {
  const groups = splitScript(script);
  const dir = await mkdtemp(join(tmpdir(), 'promql-oracle-'));
  try {
    const answers: OracleAnswer[] = [];
    for (const g of groups) {
      const doc = {
        rule_files: [],
        evaluation_interval: '1m',
        tests: [
          {
            interval: g.interval,
            input_series: g.series,
            promql_expr_test: g.evals.map((e) => ({
              expr: e.expr,
              eval_time: e.at,
              exp_samples: [{ labels: ORACLE_SENTINEL, value: 0 }],
            })),
          },
        ],
      };
      const file = join(dir, 'oracle.yml');
      await writeFile(file, stringify(doc));
      let output = '';
      try {
        const r = await run(promtool, ['test', 'rules', file], { maxBuffer: 64 << 20 });
        output = r.stdout + r.stderr;
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; code?: number | string };
        if (err.code === 'ENOENT')
          throw new Error(`promtool not found at ${promtool}: install Debian's prometheus package`);
        output = (err.stdout ?? '') + (err.stderr ?? '');
      }
      // Each failing test prints `expr: "<expr>", time: <t>,` then either `err: ...` on the same line or exp/got lines.
      const blocks = output.split(/\n\s*expr: /).slice(1);
      if (blocks.length !== g.evals.length)
        throw new Error(
          `promtool answered ${blocks.length} of ${g.evals.length} evals:\n${output.slice(0, 2000)}`,
        );
      blocks.forEach((b, k) => {
        const e = g.evals[k] as { line: number; expr: string; at: string };
        const errM = /, err: (.*)/.exec(b.split('\n')[0] ?? '');
        const timeMs = 0;
        if (errM?.[1]) {
          answers.push({ line: e.line, expr: e.expr, timeMs, error: errM[1] });
          return;
        }
        const got = /\n\s*got: (.*)/.exec(b)?.[1] ?? 'nil';
        answers.push({ line: e.line, expr: e.expr, timeMs, samples: got === 'nil' ? [] : parseGot(got) });
      });
    }
    return answers;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
