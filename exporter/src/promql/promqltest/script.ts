/**
 * A runner for PromQL test scripts in Prometheus's `promqltest` format (see Prometheus's
 * promql/promqltest/README.md), so engine behaviour is specified as data:
 *
 *   load 1m
 *     metric{label="a"} 0+10x5 _ stale 1 NaN Inf
 *   clear
 *   eval instant at 5m sum(metric)
 *     {} 50
 *   eval range from 0 to 5m step 1m metric
 *     metric{label="a"} 0+10x5
 *   eval_fail instant at 0 foo(        (or a body line `expect fail [msg: text | regex: re]`)
 *   eval_ordered instant at 5m sort(metric)   (or a body line `expect ordered`)
 *
 * Values use the expanding notation: `a+bxn` (n+1 values a, a+b, …), `a-bxn`, `axn` (a repeated n+1
 * times), `_` (no sample), `_xn`, `stale` (a staleness marker), `Inf`, `-Inf`, `NaN`. Times are
 * durations (`5m`, `1h30m`) or plain seconds. Expected values match within 1e-6 relative; NaN matches NaN.
 */
import { Engine, type EngineOptions, type QueryResult } from '../engine.js';
import { parseDuration } from '../../util/duration.js';
import { labelsToString } from '../labels-util.js';
import { parseNumber, unquote } from '../parser.js';
import { seriesKey, type Labels } from '../../util/labels.js';
import { STALE_NAN } from '../../util/stale-marker.js';
import { MemoryQueryable } from './memory-queryable.js';

/** ScriptFailure is one failed command, with its 1-based line number. */
export interface ScriptFailure {
  readonly line: number;
  readonly message: string;
}

/** ScriptReport summarises one script run. */
export interface ScriptReport {
  readonly evals: number;
  readonly failures: ScriptFailure[];
}

/** EPSILON is Prometheus promqltest's relative tolerance for expected values. */
const EPSILON = 1e-6;

/** Missing marks a step without a sample in an expected or loaded series. */
const MISSING = Symbol('missing');
/** STALE marks a staleness marker in a loaded series (kept symbolic: V8 may canonicalise NaN payloads). */
const STALE = Symbol('stale');
type Slot = number | typeof MISSING | typeof STALE;

/** parseTime reads a script time: a duration (`5m`) or seconds (`300`, `-60`), in ms. */
export function parseScriptTime(s: string): number {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const d = parseDuration(body);
  const ms = d !== undefined ? d : Number(body) * 1000;
  if (!Number.isFinite(ms)) throw new Error(`bad time ${JSON.stringify(s)}`);
  return neg ? -ms : ms;
}

/** parseSeriesDesc splits `name{a="b"} values…` into labels and the value text. */
export function parseSeriesDesc(line: string): { labels: Labels; rest: string } {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*/.exec(line);
  const labels: Record<string, string> = {};
  let i = m ? m[0].length : 0;
  if (m?.[1]) labels.__name__ = m[1];
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const nm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*/.exec(line.slice(i));
      if (!nm?.[1]) throw new Error(`bad label set in ${JSON.stringify(line)}`);
      i += nm[0].length;
      const q = line[i];
      let j = i + 1;
      while (j < line.length && line[j] !== q) j += line[j] === '\\' ? 2 : 1;
      const v = unquote(line.slice(i, j + 1));
      if (v === undefined) throw new Error(`bad label value in ${JSON.stringify(line)}`);
      if (v !== '') labels[nm[1]] = v;
      i = j + 1;
    }
  }
  return { labels, rest: line.slice(i).trim() };
}

function parseValue(tok: string): number {
  const v = parseNumber(tok);
  if (v === undefined || /[a-z]$/i.test(tok.replace(/inf$|nan$/i, '')))
    throw new Error(`bad value ${JSON.stringify(tok)}`);
  return v;
}

/** expandValues expands the notation of the file comment into one slot per step. */
export function expandValues(text: string): Slot[] {
  const out: Slot[] = [];
  for (const tok of text.split(/\s+/).filter((t) => t !== '')) {
    if (tok === '_') {
      out.push(MISSING);
      continue;
    }
    if (tok === 'stale') {
      out.push(STALE);
      continue;
    }
    const rep = /^_x(\d+)$/.exec(tok);
    if (rep) {
      for (let k = 0; k < Number(rep[1]); k++) out.push(MISSING);
      continue;
    }
    const m = /^(.+?)([+-])(.+)x(\d+)$/.exec(tok);
    if (m?.[1] && m[2] && m[3] && m[4] && !/^[+-]?$/.test(m[1])) {
      const a = parseValue(m[1]);
      const b = parseValue(m[3]) * (m[2] === '-' ? -1 : 1);
      const n = Number(m[4]);
      for (let k = 0; k <= n; k++) out.push(a + k * b);
      continue;
    }
    const r = /^(.+)x(\d+)$/.exec(tok);
    if (r?.[1] && r[2] && !tok.startsWith('0x')) {
      const a = parseValue(r[1]);
      for (let k = 0; k <= Number(r[2]); k++) out.push(a);
      continue;
    }
    out.push(parseValue(tok));
  }
  return out;
}

function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || diff < Number.MIN_VALUE * 2 ** 52) return diff < EPSILON;
  return diff / (Math.abs(a) + Math.abs(b)) < EPSILON;
}

interface EvalCmd {
  line: number;
  range: { start: number; end: number; step: number } | undefined;
  at: number;
  expr: string;
  fail: boolean;
  failMsg: string | undefined;
  failRegex: RegExp | undefined;
  ordered: boolean;
  expected: { line: number; labels: Labels | undefined; slots: Slot[] }[];
}

/** runScript runs one script against a fresh in-memory store and reports the evals and failures. */
export async function runScript(
  text: string,
  options: Partial<EngineOptions> = {},
  observe?: EvalObserver,
): Promise<ScriptReport> {
  const db = new MemoryQueryable();
  const engine = new Engine(options);
  const failures: ScriptFailure[] = [];
  const lines = text.split('\n');
  let evals = 0;
  let i = 0;
  const isBody = (l: string | undefined): boolean => l !== undefined && /^\s+\S/.test(l) && !/^\s*#/.test(l);
  while (i < lines.length) {
    const raw = lines[i] ?? '';
    const lineNo = i + 1;
    i++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      if (line === 'clear') {
        db.clear();
        continue;
      }
      const load = /^load\s+(\S+)$/.exec(line);
      if (load?.[1]) {
        const interval = parseScriptTime(load[1]);
        while (isBody(lines[i])) {
          const { labels, rest } = parseSeriesDesc((lines[i] ?? '').trim());
          i++;
          expandValues(rest).forEach((v, k) => {
            if (v !== MISSING) db.add(labels, k * interval, v === STALE ? STALE_NAN : v);
          });
        }
        continue;
      }
      const ev =
        /^eval(_fail|_ordered)?\s+(instant\s+at\s+(\S+)|range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+))\s+(.+)$/.exec(
          line,
        );
      if (!ev?.[7]) throw new Error(`unknown command ${JSON.stringify(line)}`);
      const cmd: EvalCmd = {
        line: lineNo,
        range:
          ev[4] && ev[5] && ev[6]
            ? { start: parseScriptTime(ev[4]), end: parseScriptTime(ev[5]), step: parseScriptTime(ev[6]) }
            : undefined,
        at: ev[3] ? parseScriptTime(ev[3]) : 0,
        expr: ev[7],
        fail: ev[1] === '_fail',
        failMsg: undefined,
        failRegex: undefined,
        ordered: ev[1] === '_ordered',
        expected: [],
      };
      while (isBody(lines[i])) {
        const body = (lines[i] ?? '').trim();
        const bodyLine = i + 1;
        i++;
        const expect = /^expect\s+(fail|ordered)(?:\s+(msg|regex):\s*(.*))?$/.exec(body);
        if (expect) {
          if (expect[1] === 'ordered') cmd.ordered = true;
          else {
            cmd.fail = true;
            if (expect[2] === 'msg') cmd.failMsg = expect[3];
            if (expect[2] === 'regex') cmd.failRegex = new RegExp(expect[3] ?? '');
          }
          continue;
        }
        if (/^[-+]?([0-9.]|Inf|NaN|inf|nan)/.test(body) && !body.includes('{')) {
          cmd.expected.push({ line: bodyLine, labels: undefined, slots: expandValues(body) });
          continue;
        }
        const { labels, rest } = parseSeriesDesc(body);
        cmd.expected.push({ line: bodyLine, labels, slots: expandValues(rest) });
      }
      evals++;
      const msg = await runEval(engine, db, cmd, observe);
      if (msg) failures.push({ line: cmd.line, message: `${cmd.expr}: ${msg}` });
    } catch (e) {
      failures.push({ line: lineNo, message: `script error: ${(e as Error).message}` });
    }
  }
  return { evals, failures };
}

/** EvalObserver sees every eval's outcome (used to cross-check instant evals against promtool). */
export type EvalObserver = (
  line: number,
  expr: string,
  isRange: boolean,
  outcome: QueryResult | Error,
) => void;

async function runEval(
  engine: Engine,
  db: MemoryQueryable,
  cmd: EvalCmd,
  observe: EvalObserver | undefined,
): Promise<string | undefined> {
  let result: QueryResult;
  try {
    const out = cmd.range
      ? await engine.rangeQuery(db, cmd.expr, cmd.range.start, cmd.range.end, cmd.range.step)
      : await engine.instantQuery(db, cmd.expr, cmd.at);
    result = out.result;
    observe?.(cmd.line, cmd.expr, cmd.range !== undefined, result);
  } catch (e) {
    observe?.(cmd.line, cmd.expr, cmd.range !== undefined, e as Error);
    const m = (e as Error).message;
    if (!cmd.fail) return `unexpected error: ${m}`;
    if (cmd.failMsg !== undefined && m !== cmd.failMsg)
      return `expected error ${JSON.stringify(cmd.failMsg)}, got ${JSON.stringify(m)}`;
    if (cmd.failRegex && !cmd.failRegex.test(m))
      return `expected error matching ${String(cmd.failRegex)}, got ${JSON.stringify(m)}`;
    return undefined;
  }
  if (cmd.fail) return `expected an error, got ${JSON.stringify(result.resultType)} result`;
  return compare(cmd, result);
}

function fmtSlots(s: Slot[]): string {
  return s.map((v) => (v === MISSING ? '_' : v === STALE ? 'stale' : String(v))).join(' ');
}

function compare(cmd: EvalCmd, result: QueryResult): string | undefined {
  if (result.resultType === 'scalar') {
    const exp = cmd.expected[0];
    if (cmd.expected.length !== 1 || !exp || exp.labels !== undefined)
      return `got scalar ${result.result.v}, expected ${cmd.expected.length} series`;
    const want = exp.slots[0];
    if (typeof want !== 'number' || !almostEqual(want, result.result.v))
      return `expected scalar ${String(want)}, got ${result.result.v}`;
    return undefined;
  }
  if (result.resultType === 'string') return `unexpected string result ${JSON.stringify(result.result.v)}`;
  const got = new Map<string, { labels: Labels; slots: Slot[]; index: number }>();
  if (result.resultType === 'vector') {
    result.result.forEach((s, index) =>
      got.set(seriesKey(s.labels), { labels: s.labels, slots: [s.v], index }),
    );
  } else {
    const r = cmd.range;
    const n = r ? Math.floor((r.end - r.start) / r.step) + 1 : 1;
    result.result.forEach((s, index) => {
      const slots: Slot[] = new Array<Slot>(n).fill(MISSING);
      s.timestamps.forEach((t, k) => {
        const idx = r ? Math.round((t - r.start) / r.step) : 0;
        if (r) slots[idx] = s.values[k] ?? NaN;
        else slots.push(s.values[k] ?? NaN);
      });
      got.set(seriesKey(s.labels), {
        labels: s.labels,
        slots: r ? slots : slots.filter((x) => x !== MISSING),
        index,
      });
    });
  }
  const seen = new Set<string>();
  let lastIndex = -1;
  for (const exp of cmd.expected) {
    const key = seriesKey(exp.labels ?? {});
    const g = got.get(key);
    if (!g)
      return `expected series ${labelsToString(exp.labels ?? {})} not in result (got ${[...got.values()].map((x) => labelsToString(x.labels)).join(' ') || 'nothing'})`;
    seen.add(key);
    if (cmd.ordered) {
      if (g.index < lastIndex) return `series ${labelsToString(g.labels)} out of order`;
      lastIndex = g.index;
    }
    const want = exp.slots;
    let trimmed = g.slots;
    while (trimmed.length > want.length && trimmed[trimmed.length - 1] === MISSING)
      trimmed = trimmed.slice(0, -1);
    const wantTrim = [...want];
    while (wantTrim.length < trimmed.length) wantTrim.push(MISSING);
    if (
      trimmed.length !== wantTrim.length ||
      trimmed.some((v, k) => {
        const w = wantTrim[k];
        if (typeof v !== 'number' || typeof w !== 'number') return v !== w;
        return !almostEqual(w, v);
      })
    )
      return `series ${labelsToString(g.labels)}: expected ${fmtSlots(want)}, got ${fmtSlots(g.slots)}`;
  }
  for (const [k, g] of got)
    if (!seen.has(k)) return `unexpected series ${labelsToString(g.labels)} ${fmtSlots(g.slots)}`;
  return undefined;
}
