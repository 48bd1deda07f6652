/**
 * The functions a rule template may call — Go's text/template builtins plus the functions Prometheus 2.42 adds
 * (template/template.go) — as one table: name → Go signature → implementation. The signature is Go's because
 * it decides which arguments a call accepts and how it fails (`wrong number of args for humanize: want 1
 * got 2`, `expected string; found 3`), exactly as Prometheus reports it. Any other name is rejected when the
 * rule file loads (`function "foo" not defined`).
 *
 * The `humanize*` formatters are exported for the plugin and the notifiers, which show values the way alert
 * annotations do.
 */
import { parseDuration } from '../util/duration.js';
import { RegexSyntaxError } from '../util/re2.js';
import {
  canBackquote,
  parseGoFloat,
  quote,
  sprint,
  sprintf,
  sprintln,
  sprintTemplateArgs,
  formatValue,
  isGoPrint,
} from './go-fmt.js';
import { TemplateRegex } from './template-regex.js';
import {
  GoAlertData,
  GoByte,
  GoHTML,
  GoMap,
  GoQueryResult,
  GoSample,
  GoTime,
  compareGoStrings,
  goTypeName,
  isTrue,
  stringOf,
  type GoValue,
} from './template-values.js';
import type { Labels } from '../util/labels.js';

/** ParamType is the Go type of a parameter, as far as the calling convention cares. */
export type ParamType = 'string' | 'any' | 'sample' | 'queryResult';

/** PARAM_TYPE_NAMES are the Go names of the parameter types, as argument errors print them. */
export const PARAM_TYPE_NAMES: Readonly<Record<ParamType, string>> = {
  string: 'string',
  any: 'interface {}',
  sample: '*template.sample',
  queryResult: 'template.queryResult',
};

/** TemplateSample is one sample of a query result: its labels (with `__name__`) and value. */
export interface TemplateSample {
  readonly labels: Labels;
  readonly value: number;
}

/** CallEnv is what functions that reach outside the template need from the expansion. */
export interface CallEnv {
  /** query evaluates an instant PromQL query at the rule's evaluation time. */
  readonly query: ((q: string) => Promise<readonly TemplateSample[]>) | undefined;
  /** externalURL is Prometheus's --web.external-url; unset, `externalURL` fails as Prometheus does with none. */
  readonly externalURL: string | undefined;
}

/** Arg is an argument as a function receives it: `null` is a typed nil (a `nil` literal for a pointer). */
export type Arg = GoValue | null;

/** TemplateFunction is one table entry: the Go signature and the implementation. */
export interface TemplateFunction {
  /** params are the fixed parameters. */
  readonly params: readonly ParamType[];
  /** variadic is the type of `...` parameters after the fixed ones, if any. */
  readonly variadic?: ParamType;
  /**
   * stopAt marks `and` (false) and `or` (true): operands are evaluated left to right only until one's truth
   * is stopAt, which is the result; `call` then receives the operands seen and returns the last.
   */
  readonly stopAt?: boolean;
  /** call runs the function; a thrown Error is the Go error (`error calling NAME: …`). */
  call(args: readonly Arg[], env: CallEnv): GoValue | Promise<GoValue>;
}

/** NIL_DEREFERENCE is the Go runtime panic text a nil pointer produces (text/template reports it as an error). */
const NIL_DEREFERENCE = 'runtime error: invalid memory address or nil pointer dereference';

// ---------------------------------------------------------------------------------------------------------
// Humanizing (the exported formatters)

const g4 = (v: number): string => sprintf('%.4g', [v]);

/** humanize prints a number with an SI prefix and 4 significant digits (`1.235M`, `12.35m`), as Prometheus does. */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

/** humanize1024 prints a number with a binary prefix (`1.5Gi`), as Prometheus does for byte counts. */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

/** MIN_INT64 is what Go's float64 → int64 conversion yields on amd64 for values out of range (and NaN). */
const MIN_INT64 = -(2n ** 63n);

/** goInt64 converts a float to int64 as Go does on amd64: truncation, MIN_INT64 when out of range. */
function goInt64(v: number): bigint {
  if (!Number.isFinite(v) || v >= 2 ** 63 || v < -(2 ** 63)) return MIN_INT64;
  return BigInt(Math.trunc(v));
}

/** humanizeDuration prints seconds as a duration (`1d 1h 0m 0s`, `1.5s`, `500ms`), as Prometheus does. */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + 's';
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const d = goInt64(v);
    const seconds = d % 60n;
    const minutes = (d / 60n) % 60n;
    const hours = (d / 3600n) % 24n;
    const days = d / 86400n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

/** humanizePercentage prints a ratio as a percentage with 4 significant digits (`0.1234` → `12.34%`). */
export function humanizePercentage(v: number): string {
  return g4(v * 100) + '%';
}

/** toGoTime converts Unix seconds to a time as Prometheus's floatToTime does (millisecond precision). */
function toGoTime(v: number): GoTime {
  if (!Number.isFinite(v)) throw new Error('value is NaN or Inf');
  const ns = v * 1e9;
  if (ns > 2 ** 63 || ns < -(2 ** 63))
    throw new Error(
      `${formatValue(v, 'v')} cannot be represented as a nanoseconds timestamp since it overflows int64`,
    );
  return new GoTime(goInt64(ns) / 1_000_000n);
}

/**
 * humanizeTimestamp prints Unix seconds as a UTC time (`2015-06-23 13:19:44.128 +0000 UTC`), as Prometheus
 * does; NaN and infinities print as numbers; throws for times beyond int64 nanoseconds.
 */
export function humanizeTimestamp(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  return toGoTime(v).toString();
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** convertToFloat accepts what Prometheus's humanize functions accept: float64, int, and numeric strings. */
function convertToFloat(v: Arg): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseGoFloat(v);
  if (typeof v === 'bigint') return Number(v);
  throw new Error(`can't convert ${v === null || v === undefined ? '<nil>' : goTypeName(v)} to float`);
}

/** str reads a `string` parameter (the calling convention has checked its type). */
function str(v: Arg): string {
  return typeof v === 'string' ? v : '';
}

/** sampleArg reads a `*template.sample` parameter; a nil one panics as a nil dereference does in Go. */
function sampleArg(v: Arg): GoSample {
  if (v instanceof GoSample) return v;
  throw new Error(NIL_DEREFERENCE);
}

/** labelOf is a sample's label value, '' when absent (the zero value of the labels map). */
function labelOf(s: GoSample, name: string): string {
  return stringOf(s.labels.entries.get(name)) ?? '';
}

/** resultArg reads a `template.queryResult` parameter (nil is an empty result). */
function resultArg(v: Arg): GoQueryResult {
  return v instanceof GoQueryResult ? v : new GoQueryResult([]);
}

/** QUERY_UNRESERVED are the bytes url.QueryEscape leaves as they are. */
const QUERY_UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** queryEscape is Go's url.QueryEscape: `+` for space, `%XX` for every byte but A-Z a-z 0-9 - _ . ~. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (QUERY_UNRESERVED.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** htmlEscape is Go's template.HTMLEscapeString. */
function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) =>
    c === '<'
      ? '&lt;'
      : c === '>'
        ? '&gt;'
        : c === '&'
          ? '&amp;'
          : c === "'"
            ? '&#39;'
            : c === '"'
              ? '&#34;'
              : '\uFFFD',
  );
}

/** jsEscape is Go 1.19's template.JSEscapeString. */
function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    const named: Record<string, string> = {
      '\\': '\\\\',
      "'": "\\'",
      '"': '\\"',
      '<': '\\u003C',
      '>': '\\u003E',
      '&': '\\u0026',
      '=': '\\u003D',
    };
    const n = named[ch];
    if (n !== undefined) out += n;
    else if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp < 0x80 || isGoPrint(cp)) out += ch;
    else out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** SIMPLE_UPPER_EXCEPTIONS: letters whose full uppercase is two letters but whose simple one (Go's) is one. */
function simpleUpper(cp: number): number {
  if ((cp >= 0x1f80 && cp <= 0x1f87) || (cp >= 0x1f90 && cp <= 0x1f97) || (cp >= 0x1fa0 && cp <= 0x1fa7))
    return cp + 8;
  if (cp === 0x1fb3 || cp === 0x1fc3 || cp === 0x1ff3) return cp + 9;
  const up = String.fromCodePoint(cp).toUpperCase();
  const upCp = up.codePointAt(0) ?? cp;
  return up.length === String.fromCodePoint(upCp).length ? upCp : cp;
}

/** simpleLower is Go's unicode.ToLower (one code point to one; İ → i). */
function simpleLower(cp: number): number {
  if (cp === 0x130) return 0x69;
  const low = String.fromCodePoint(cp).toLowerCase();
  const lowCp = low.codePointAt(0) ?? cp;
  return low.length === String.fromCodePoint(lowCp).length ? lowCp : cp;
}

/** simpleTitle is Go's unicode.ToTitle: upper case, except digraphs (ǅ) and Georgian, which differ. */
function simpleTitle(cp: number): number {
  if (cp >= 0x1c4 && cp <= 0x1c6) return 0x1c5;
  if (cp >= 0x1c7 && cp <= 0x1c9) return 0x1c8;
  if (cp >= 0x1ca && cp <= 0x1cc) return 0x1cb;
  if (cp >= 0x1f1 && cp <= 0x1f3) return 0x1f2;
  if ((cp >= 0x10d0 && cp <= 0x10fa) || (cp >= 0x10fd && cp <= 0x10ff)) return cp;
  return simpleUpper(cp);
}

function mapRunes(s: string, f: (cp: number) => number): string {
  let out = '';
  for (const ch of s) out += String.fromCodePoint(f(ch.codePointAt(0) ?? 0));
  return out;
}

/** isSeparator is strings.Title's word boundary: not a letter, digit or `_`, among ASCII; spaces beyond. */
function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x80) return !/[0-9A-Za-z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\p{White_Space}/u.test(ch);
}

/** title is Go's strings.Title: the first letter of each word in title case, the rest as it is. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? String.fromCodePoint(simpleTitle(ch.codePointAt(0) ?? 0)) : ch;
    prev = ch;
  }
  return out;
}

/** splitHostPort returns the host of `host:port` as Go's net.SplitHostPort does, or undefined if malformed. */
function splitHostPort(hostport: string): string | undefined {
  const i = hostport.lastIndexOf(':');
  if (i < 0) return undefined;
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0) return undefined;
    if (end + 1 === hostport.length) return undefined;
    if (end + 1 !== i) return undefined;
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) return undefined;
  }
  if (hostport.slice(j).includes('[')) return undefined;
  if (hostport.slice(k).includes(']')) return undefined;
  return host;
}

/** urlPath returns the path of a URL as Go's url.URL.Path holds it (unescaped; empty for `http://host`). */
function urlPath(url: string): string {
  let rest = url.split('#')[0] ?? '';
  rest = rest.split('?')[0] ?? '';
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Builtin comparison (text/template's eq, lt and friends)

type BasicKind = 'bool' | 'int' | 'uint' | 'float' | 'string' | 'invalid';

function basicKind(v: GoValue): BasicKind {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (v instanceof GoByte) return 'uint';
  if (typeof v === 'number') return 'float';
  if (stringOf(v) !== undefined) return 'string';
  return 'invalid';
}

const BAD_COMPARISON_TYPE = 'invalid type for comparison';
const BAD_COMPARISON = 'incompatible types for comparison';

/** comparable reports whether Go can compare the value with == (maps, slices and structs of maps cannot). */
function comparable(v: GoValue): boolean {
  return !(v instanceof GoMap || v instanceof GoQueryResult || v instanceof GoAlertData);
}

function intOf(v: GoValue): bigint {
  return typeof v === 'bigint' ? v : v instanceof GoByte ? BigInt(v.v) : 0n;
}

function eq(args: readonly Arg[]): boolean {
  const a = args[0] ?? undefined;
  if (a !== undefined && !comparable(a))
    throw new Error(`non-comparable type ${formatValue(a, 's')}: ${goTypeName(a)}`);
  if (args.length < 2) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const argOrNull of args.slice(1)) {
    const b = argOrNull ?? undefined;
    const k2 = basicKind(b);
    let truth = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') truth = intOf(a) >= 0n && intOf(a) === intOf(b);
      else if (k1 === 'uint' && k2 === 'int') truth = intOf(b) >= 0n && intOf(a) === intOf(b);
      else if (a !== undefined && b !== undefined) throw new Error(BAD_COMPARISON);
    } else {
      switch (k1) {
        case 'bool':
        case 'float':
          truth = a === b;
          break;
        case 'int':
        case 'uint':
          truth = intOf(a) === intOf(b);
          break;
        case 'string':
          truth = stringOf(a) === stringOf(b);
          break;
        default:
          if (b !== undefined && !comparable(b))
            throw new Error(`non-comparable type ${formatValue(b, 's')}: ${goTypeName(b)}`);
          truth = a === b;
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(x: Arg, y: Arg): boolean {
  const a = x ?? undefined;
  const b = y ?? undefined;
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new Error(BAD_COMPARISON_TYPE);
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return intOf(a) < 0n || intOf(a) < intOf(b);
    if (k1 === 'uint' && k2 === 'int') return intOf(b) >= 0n && intOf(a) < intOf(b);
    throw new Error(BAD_COMPARISON);
  }
  switch (k1) {
    case 'bool':
      throw new Error(BAD_COMPARISON_TYPE);
    case 'float':
      return (a as number) < (b as number);
    case 'int':
    case 'uint':
      return intOf(a) < intOf(b);
    default:
      return compareGoStrings(stringOf(a) ?? '', stringOf(b) ?? '') < 0;
  }
}

function le(x: Arg, y: Arg): boolean {
  return lt(x, y) || eq([x, y]);
}

// ---------------------------------------------------------------------------------------------------------
// Builtin indexing (text/template's index, slice, len)

/** indexArg validates an index against a bound as text/template's indexArg does (x == cap passes it). */
function indexArg(i: Arg, cap: number): number {
  const v = i ?? undefined;
  if (v === undefined) throw new Error('cannot index slice/array with nil');
  if (typeof v !== 'bigint' && !(v instanceof GoByte))
    throw new Error(`cannot index slice/array with type ${goTypeName(v)}`);
  const x = intOf(v);
  if (x < 0n || x > BigInt(cap)) throw new Error(`index out of range: ${x}`);
  return Number(x);
}

/** derefTypeName is the type name of what a pointer points to (what index and len report). */
function derefTypeName(v: GoValue): string {
  if (v instanceof GoSample) return 'template.sample';
  if (v instanceof GoTime) return 'time.Time';
  return goTypeName(v);
}

function index(args: readonly Arg[]): GoValue {
  let item: GoValue = args[0] ?? undefined;
  if (item === undefined) throw new Error('index of untyped nil');
  for (const i of args.slice(1)) {
    const text = stringOf(item);
    if (text !== undefined) {
      const bytes = Buffer.from(text, 'utf8');
      const x = indexArg(i, bytes.length);
      if (x === bytes.length) throw new Error('reflect: string index out of range');
      item = new GoByte(bytes[x] ?? 0);
    } else if (item instanceof GoQueryResult) {
      const x = indexArg(i, item.samples.length);
      if (x === item.samples.length) throw new Error('reflect: slice index out of range');
      item = item.samples[x];
    } else if (item instanceof GoMap) {
      const key = i ?? undefined;
      if (key === undefined) throw new Error('value is nil; should be of type string');
      if (typeof key !== 'string') throw new Error(`value has type ${goTypeName(key)}; should be string`);
      item = item.entries.get(key) ?? (item.elem === 'string' ? '' : undefined);
    } else {
      throw new Error(`can't index item of type ${derefTypeName(item)}`);
    }
  }
  return item;
}

function slice(args: readonly Arg[]): GoValue {
  const item = args[0] ?? undefined;
  if (item === undefined) throw new Error('slice of untyped nil');
  const indexes = args.slice(1);
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const text = typeof item === 'string' ? item : undefined;
  let len: number;
  if (text !== undefined) {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    len = Buffer.byteLength(text, 'utf8');
  } else if (item instanceof GoQueryResult) len = item.samples.length;
  else throw new Error(`can't slice item of type ${goTypeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((x, k) => (idx[k] = indexArg(x, len)));
  const [i = 0, j = len, k = len] = idx;
  if (i > j) throw new Error(`invalid slice index: ${i} > ${j}`);
  if (indexes.length === 3 && j > k) throw new Error(`invalid slice index: ${j} > ${k}`);
  if (text !== undefined) return Buffer.from(text, 'utf8').subarray(i, j).toString('utf8');
  return new GoQueryResult((item as GoQueryResult).samples.slice(i, j));
}

function length(v: Arg): bigint {
  const item = v ?? undefined;
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  const text = stringOf(item);
  if (text !== undefined) return BigInt(Buffer.byteLength(text, 'utf8'));
  if (item instanceof GoMap) return BigInt(item.entries.size);
  if (item instanceof GoQueryResult) return BigInt(item.samples.length);
  throw new Error(`len of type ${derefTypeName(item)}`);
}

// ---------------------------------------------------------------------------------------------------------
// The table

const fn = (
  params: readonly ParamType[],
  call: TemplateFunction['call'],
  variadic?: ParamType,
): TemplateFunction => (variadic ? { params, variadic, call } : { params, call });

/** FUNCTIONS are every function a rule template may call, by name. */
export const FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map<string, TemplateFunction>([
  // text/template builtins (Go 1.19)
  ['and', { params: ['any'], variadic: 'any', stopAt: false, call: (a) => a[a.length - 1] ?? undefined }],
  ['or', { params: ['any'], variadic: 'any', stopAt: true, call: (a) => a[a.length - 1] ?? undefined }],
  ['not', fn(['any'], ([a]) => !isTrue(a ?? undefined))],
  ['len', fn(['any'], ([a]) => length(a))],
  ['index', fn(['any'], (a) => index(a), 'any')],
  ['slice', fn(['any'], (a) => slice(a), 'any')],
  [
    'call',
    fn(
      ['any'],
      ([f]) => {
        const v = f ?? undefined;
        throw new Error(v === undefined ? 'call of nil' : `non-function of type ${goTypeName(v)}`);
      },
      'any',
    ),
  ],
  ['eq', fn(['any'], (a) => eq(a), 'any')],
  ['ne', fn(['any', 'any'], ([a, b]) => !eq([a ?? undefined, b ?? undefined]))],
  ['lt', fn(['any', 'any'], ([a, b]) => lt(a ?? undefined, b ?? undefined))],
  ['le', fn(['any', 'any'], ([a, b]) => le(a ?? undefined, b ?? undefined))],
  ['gt', fn(['any', 'any'], ([a, b]) => !le(a ?? undefined, b ?? undefined))],
  ['ge', fn(['any', 'any'], ([a, b]) => !lt(a ?? undefined, b ?? undefined))],
  ['print', fn([], (a) => sprint(a.map((v) => v ?? undefined)), 'any')],
  [
    'printf',
    fn(
      ['string'],
      ([f, ...a]) =>
        sprintf(
          str(f ?? undefined),
          a.map((v) => v ?? undefined),
        ),
      'any',
    ),
  ],
  ['println', fn([], (a) => sprintln(a.map((v) => v ?? undefined)), 'any')],
  ['html', fn([], (a) => htmlEscape(sprintTemplateArgs(a.map((v) => v ?? undefined))), 'any')],
  ['js', fn([], (a) => jsEscape(sprintTemplateArgs(a.map((v) => v ?? undefined))), 'any')],
  ['urlquery', fn([], (a) => queryEscape(sprintTemplateArgs(a.map((v) => v ?? undefined))), 'any')],

  // Prometheus 2.42 (template/template.go)
  [
    'query',
    fn(['string'], async ([q], env) => {
      if (!env.query) throw new Error('no query function is available to this template');
      const samples = await env.query(str(q));
      return new GoQueryResult(samples.map((s) => new GoSample(GoMap.fromLabels(s.labels), s.value)));
    }),
  ],
  [
    'first',
    fn(['queryResult'], ([v]) => {
      const r = resultArg(v);
      if (r.samples.length === 0) throw new Error('first() called on vector with no elements');
      return r.samples[0];
    }),
  ],
  ['label', fn(['string', 'sample'], ([l, s]) => labelOf(sampleArg(s), str(l)))],
  ['value', fn(['sample'], ([s]) => sampleArg(s).value)],
  ['strvalue', fn(['sample'], ([s]) => labelOf(sampleArg(s), '__value__'))],
  [
    'args',
    fn([], (a) => new GoMap('interface {}', new Map(a.map((v, i) => [`arg${i}`, v ?? undefined]))), 'any'),
  ],
  [
    'reReplaceAll',
    fn(['string', 'string', 'string'], ([p, r, t]) => {
      let re: TemplateRegex;
      try {
        re = new TemplateRegex(str(p));
      } catch (err) {
        // regexp.MustCompile panics with this text; text/template turns the panic into the call's error.
        const shown = canBackquote(str(p)) ? '`' + str(p) + '`' : quote(str(p));
        throw new Error(`regexp: Compile(${shown}): ${(err as Error).message}`);
      }
      return re.replaceAll(str(t), str(r));
    }),
  ],
  [
    'match',
    fn(['string', 'string'], ([p, s]) => {
      try {
        return new TemplateRegex(str(p)).test(str(s));
      } catch (err) {
        if (err instanceof RegexSyntaxError) throw new Error(err.message);
        throw err;
      }
    }),
  ],
  ['safeHtml', fn(['string'], ([s]) => new GoHTML(str(s)))],
  ['title', fn(['string'], ([s]) => title(str(s)))],
  ['toUpper', fn(['string'], ([s]) => mapRunes(str(s), simpleUpper))],
  ['toLower', fn(['string'], ([s]) => mapRunes(str(s), simpleLower))],
  ['graphLink', fn(['string'], ([e]) => `/graph?g0.expr=${queryEscape(str(e))}&g0.tab=0`)],
  ['tableLink', fn(['string'], ([e]) => `/graph?g0.expr=${queryEscape(str(e))}&g0.tab=1`)],
  [
    'sortByLabel',
    fn(['string', 'queryResult'], ([l, v]) => {
      const r = resultArg(v);
      const label = str(l);
      // Sorted in place and stable, as Go's sort.Stable over the slice: a later range sees the new order.
      r.samples.sort((a, b) => compareGoStrings(labelOf(a, label), labelOf(b, label)));
      return r;
    }),
  ],
  ['stripPort', fn(['string'], ([h]) => splitHostPort(str(h)) ?? str(h))],
  ['humanize', fn(['any'], ([v]) => humanize(convertToFloat(v)))],
  ['humanize1024', fn(['any'], ([v]) => humanize1024(convertToFloat(v)))],
  ['humanizeDuration', fn(['any'], ([v]) => humanizeDuration(convertToFloat(v)))],
  ['humanizePercentage', fn(['any'], ([v]) => humanizePercentage(convertToFloat(v)))],
  ['humanizeTimestamp', fn(['any'], ([v]) => humanizeTimestamp(convertToFloat(v)))],
  ['toTime', fn(['any'], ([v]) => toGoTime(convertToFloat(v)))],
  [
    'pathPrefix',
    fn([], (_a, env) => {
      if (env.externalURL === undefined) throw new Error(NIL_DEREFERENCE);
      return urlPath(env.externalURL);
    }),
  ],
  [
    'externalURL',
    fn([], (_a, env) => {
      if (env.externalURL === undefined) throw new Error(NIL_DEREFERENCE);
      return env.externalURL;
    }),
  ],
  [
    'parseDuration',
    fn(['string'], ([d]) => {
      const ms = parseDuration(str(d));
      if (ms === undefined) throw new Error(`not a valid duration string: ${quote(str(d))}`);
      // Go divides int64 nanoseconds by 1e9; the same float operations give the same double.
      return Number(BigInt(ms) * 1_000_000n) / 1e9;
    }),
  ],
]);
