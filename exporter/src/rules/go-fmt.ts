/**
 * Go's `fmt` and `strconv` formatting of template values, byte for byte: what `{{ $value }}`, `printf`,
 * `print` and the `humanize*` functions produce decides what an annotation reads, so the rules here are
 * Go's (fmt/print.go, fmt/format.go, strconv/ftoa.go, strconv/quote.go), not C's or JavaScript's:
 *
 * - floats are rounded half-to-even on their exact binary value (`%.0f` of 2.5 is `2`, `%.2f` of 1.005 is
 *   `1.00`), `%v` switches to exponent form at 1e21 → `1e+21` and below 1e-4, infinities print `+Inf`;
 * - a verb that does not fit its operand prints `%!d(float64=85.5)`, a missing operand `%!d(MISSING)`, an
 *   extra one `%!(EXTRA int=2)`;
 * - maps print `map[k:v]` with sorted keys, structs `{a b}`, pointers to structs `&{a b}`.
 *
 * The shortest `%v` of a float64 is the PromQL printer's `formatGoFloat` (one implementation in the tree).
 */
import { formatGoFloat } from '../promql/index.js';
import {
  GoByte,
  GoHTML,
  GoMap,
  GoQueryResult,
  GoSample,
  GoTime,
  goTypeName,
  type GoValue,
} from './template-values.js';

/** MAX_WIDTH is fmt's bound on a width or precision (fmt's `tooLarge`: 1e6); larger ones are `BADWIDTH`. */
const MAX_WIDTH = 1_000_000;

// ---------------------------------------------------------------------------------------------------------
// strconv: floats

/** Decimal is a non-negative decimal `0.d1d2… × 10^dp` with no trailing zeros (strconv's `decimal`). */
interface Decimal {
  d: string;
  dp: number;
}

/** floatBits splits a float64 into sign, biased exponent and 52-bit fraction. */
function floatBits(v: number): { neg: boolean; exp: number; frac: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  return { neg: bits >> 63n === 1n, exp: Number((bits >> 52n) & 0x7ffn), frac: bits & ((1n << 52n) - 1n) };
}

/** exactDecimal returns the exact decimal expansion of a finite |v| (a double is a finite binary fraction). */
function exactDecimal(v: number): Decimal {
  const { exp, frac } = floatBits(v);
  if (exp === 0 && frac === 0n) return { d: '', dp: 0 };
  const mant = exp === 0 ? frac : frac | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075;
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  return { d: digits.replace(/0+$/, ''), dp };
}

/** shortestDecimal returns the shortest digits that read back as |v| (JavaScript's and Go's choice agree). */
function shortestDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const [mant = '', exp = '0'] = Math.abs(v).toExponential().split('e');
  return { d: mant.replace('.', '').replace(/0+$/, ''), dp: Number(exp) + 1 };
}

/** roundDecimal rounds to nd digits, half to even on the exact value (strconv's decimal.Round). */
function roundDecimal(x: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= x.d.length) return x;
  const next = x.d.charCodeAt(nd) - 48;
  const halfway = next === 5 && nd + 1 === x.d.length;
  const up = halfway ? nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1 : next >= 5;
  if (!up) {
    const d = x.d.slice(0, nd).replace(/0+$/, '');
    return { d, dp: d === '' ? 0 : x.dp };
  }
  let i = nd - 1;
  while (i >= 0 && x.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: x.dp + 1 };
  return { d: x.d.slice(0, i) + String.fromCharCode(x.d.charCodeAt(i) + 1), dp: x.dp };
}

/** fmtE writes d.ddddde±dd with prec digits after the point. */
function fmtE(neg: boolean, x: Decimal, prec: number, e: 'e' | 'E'): string {
  let s = neg ? '-' : '';
  s += x.d[0] ?? '0';
  if (prec > 0) s += '.' + x.d.slice(1, prec + 1).padEnd(prec, '0');
  let exp = x.d === '' ? 0 : x.dp - 1;
  const sign = exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return `${s}${e}${sign}${exp < 10 ? '0' : ''}${exp}`;
}

/** fmtF writes ddd.dddd with prec digits after the point. */
function fmtF(neg: boolean, x: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  if (x.dp > 0) s += x.d.slice(0, x.dp).padEnd(x.dp, '0');
  else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) {
      const j = x.dp + i;
      s += j >= 0 && j < x.d.length ? x.d[j] : '0';
    }
  }
  return s;
}

/** fmtX writes the hexadecimal form -0x1.yyyyp±dd of a float (strconv's 'x' and 'X'). */
function fmtX(v: number, prec: number, verb: 'x' | 'X'): string {
  const { neg, exp: biased, frac } = floatBits(v);
  let mant = biased === 0 ? frac : frac | (1n << 52n);
  let exp = (biased === 0 ? 1 : biased) - 1023;
  if (mant === 0n) exp = 0;
  mant <<= 8n; // leading 1 (if any) at bit 60
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = verb === 'x' ? '0123456789abcdef' : '0123456789ABCDEF';
  let s = (neg ? '-' : '') + '0' + verb + String((mant >> 60n) & 1n);
  mant = (mant << 4n) & ((1n << 64n) - 1n);
  if ((prec < 0 && mant !== 0n) || prec > 0) {
    s += '.';
    for (let i = 0; prec < 0 ? mant !== 0n : i < prec; i++) {
      s += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  }
  const sign = exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return `${s}${verb === 'x' ? 'p' : 'P'}${sign}${exp < 10 ? '0' : ''}${exp}`;
}

/** FloatFormat is a strconv.FormatFloat format byte. */
export type FloatFormat = 'e' | 'E' | 'f' | 'g' | 'G' | 'x' | 'X' | 'b';

/**
 * formatFloat is Go's `strconv.FormatFloat(v, fmt, prec, 64)`: prec -1 means the fewest digits that read back
 * as v. NaN is `NaN`, infinities `+Inf` and `-Inf`.
 */
export function formatFloat(v: number, fmt: FloatFormat, prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (fmt === 'g' && prec < 0) return formatGoFloat(v);
  if (fmt === 'G' && prec < 0) return formatGoFloat(v).toUpperCase();
  if (fmt === 'x' || fmt === 'X') return fmtX(v, prec, fmt);
  const neg = floatBits(v).neg;
  if (fmt === 'b') {
    const { exp, frac } = floatBits(v);
    const mant = exp === 0 ? frac : frac | (1n << 52n);
    const e = (exp === 0 ? 1 : exp) - 1075;
    return `${neg ? '-' : ''}${mant}p${e < 0 ? '-' : '+'}${Math.abs(e)}`;
  }
  const shortest = prec < 0;
  let x = shortest ? shortestDecimal(v) : exactDecimal(v);
  if (!shortest) {
    if (fmt === 'e' || fmt === 'E') x = roundDecimal(x, prec + 1);
    else if (fmt === 'f') x = roundDecimal(x, x.dp + prec);
    else x = roundDecimal(x, prec === 0 ? 1 : prec);
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, x, shortest ? Math.max(x.d.length - 1, 0) : prec, fmt);
    case 'f':
      return fmtF(neg, x, shortest ? Math.max(x.d.length - x.dp, 0) : prec);
    default: {
      // %g: exponent form when the exponent is < -4 or >= the precision (strconv's rule).
      let p = shortest ? x.d.length : prec === 0 ? 1 : prec;
      let eprec = p;
      if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length;
      if (shortest) eprec = 6;
      const exp = x.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (p > x.d.length) p = x.d.length;
        return fmtE(neg, x, Math.max(p - 1, 0), fmt === 'g' ? 'e' : 'E');
      }
      if (p > x.dp) p = x.d.length;
      return fmtF(neg, x, Math.max(p - x.dp, 0));
    }
  }
}

/** parseFloatError is the error strconv.ParseFloat returns. */
function parseFloatError(s: string, reason: string): Error {
  return new Error(`strconv.ParseFloat: parsing ${quote(s)}: ${reason}`);
}

/** underscoreOK reports whether underscores in a number sit only between digits (strconv's rule). */
export function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '+' || s[0] === '-') i++;
  if (s.length - i >= 2 && s[i] === '0' && /[bBoOxX]/.test(s[i + 1] ?? '')) {
    i += 2;
    saw = '0';
  }
  const hex = /^[+-]?0[xX]/.test(s);
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if (/[0-9]/.test(c) || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** parseGoFloat is Go's `strconv.ParseFloat(s, 64)`; throws its error (`invalid syntax`, `value out of range`). */
export function parseGoFloat(s: string): number {
  const special = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (s.includes('_') && !underscoreOK(s)) throw parseFloatError(s, 'invalid syntax');
  const t = s.replace(/_/g, '');
  let v: number;
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(t);
  if (hex) {
    const intPart = hex[2] ?? '';
    const fracPart = hex[3] ?? '';
    if (intPart + fracPart === '') throw parseFloatError(s, 'invalid syntax');
    const mant = BigInt('0x' + intPart + fracPart);
    const exp = Number(hex[4]) - 4 * fracPart.length;
    v = Number(mant) * 2 ** exp;
    if (hex[1] === '-') v = -v;
  } else if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(t)) {
    v = Number(t);
  } else {
    throw parseFloatError(s, 'invalid syntax');
  }
  if (!Number.isFinite(v)) throw parseFloatError(s, 'value out of range');
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// strconv: quoting

/** isGoPrint is strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isGoPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(cp));
}

/** escapeRune appends the Go escape of one code point inside a quote character `q`. */
function escapeRune(cp: number, q: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (ch === q || ch === '\\') return '\\' + ch;
  if (asciiOnly ? cp < 0x80 && isGoPrint(cp) : isGoPrint(cp)) return ch;
  const named: Record<number, string> = { 7: 'a', 8: 'b', 12: 'f', 10: 'n', 13: 'r', 9: 't', 11: 'v' };
  const n = named[cp];
  if (n) return '\\' + n;
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // a lone surrogate is not a valid rune
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** quote is Go's `strconv.Quote` (or `QuoteToASCII`): a double-quoted Go string literal. */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0) ?? 0, '"', asciiOnly);
  return out + '"';
}

/** quoteRune is Go's `strconv.QuoteRune`: a single-quoted Go character literal. */
function quoteRune(cp: number, asciiOnly: boolean): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  return "'" + escapeRune(cp, "'", asciiOnly) + "'";
}

/** canBackquote reports whether s can be a raw string literal (strconv.CanBackquote). */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c === 0xfeff) return false;
    if ((c < 0x20 && c !== 9) || c === 0x60 || c === 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// fmt

/** Flags are the flags, width and precision of one fmt verb (fmt's `fmtFlags` plus wid/prec). */
interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid?: number;
  prec?: number;
}

function noFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false };
}

/** runeCount counts code points, fmt's measure of width. */
function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Printer builds one fmt result; its methods mirror fmt's pp/fmt pair. */
class Printer {
  out = '';
  f: Flags = noFlags();

  /** derefTop prints a top-level pointer as the value it points to (text/template's printableValue). */
  constructor(private readonly derefTop = false) {}

  private padding(n: number): string {
    return n > 0 ? (this.f.zero ? '0' : ' ').repeat(n) : '';
  }

  /** pad writes s padded to the width, left or right (fmt.pad). */
  pad(s: string): void {
    const w = this.f.wid;
    if (w === undefined || w === 0) {
      this.out += s;
      return;
    }
    const fill = w - runeCount(s);
    if (this.f.minus) this.out += s + (fill > 0 ? ' '.repeat(fill) : '');
    else this.out += this.padding(fill) + s;
  }

  /** truncate cuts s to the precision in runes (fmt.truncateString). */
  private truncate(s: string): string {
    const p = this.f.prec;
    if (p === undefined) return s;
    let n = 0;
    let i = 0;
    for (const ch of s) {
      if (n === p) return s.slice(0, i);
      n++;
      i += ch.length;
    }
    return s;
  }

  fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.pad(v ? 'true' : 'false');
    else this.badVerb(verb, v);
  }

  fmtString(v: string, verb: string, operand: GoValue): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.fmtQ(v);
        else this.pad(this.truncate(v));
        return;
      case 's':
        this.pad(this.truncate(v));
        return;
      case 'x':
      case 'X':
        this.fmtSx(v, verb === 'x' ? '0123456789abcdef' : '0123456789ABCDEF');
        return;
      case 'q':
        this.fmtQ(v);
        return;
      default:
        this.badVerb(verb, operand);
    }
  }

  private fmtQ(v: string): void {
    const s = this.truncate(v);
    if (this.f.sharp && canBackquote(s)) this.pad('`' + s + '`');
    else this.pad(quote(s, this.f.plus));
  }

  private fmtSx(v: string, digits: string): void {
    let bytes = Buffer.from(v, 'utf8');
    if (this.f.prec !== undefined && this.f.prec < bytes.length) bytes = bytes.subarray(0, this.f.prec);
    const length = bytes.length;
    let width = 2 * length;
    if (width === 0) {
      if (this.f.wid !== undefined) this.out += this.padding(this.f.wid);
      return;
    }
    if (this.f.space) {
      if (this.f.sharp) width *= 2;
      width += length - 1;
    } else if (this.f.sharp) width += 2;
    const w = this.f.wid ?? 0;
    if (w > width && !this.f.minus) this.out += this.padding(w - width);
    let s = this.f.sharp ? '0' + (digits[15] === 'f' ? 'x' : 'X') : '';
    bytes.forEach((c, i) => {
      if (this.f.space && i > 0) s += ' ' + (this.f.sharp ? '0' + (digits[15] === 'f' ? 'x' : 'X') : '');
      s += (digits[c >> 4] ?? '') + (digits[c & 15] ?? '');
    });
    this.out += s;
    if (w > width && this.f.minus) this.out += ' '.repeat(w - width);
  }

  fmtInteger(v: bigint, verb: string, operand: GoValue): void {
    switch (verb) {
      case 'v':
      case 'd':
        return this.integer(v, 10, verb, '0123456789abcdef');
      case 'b':
        return this.integer(v, 2, verb, '01');
      case 'o':
      case 'O':
        return this.integer(v, 8, verb, '01234567');
      case 'x':
        return this.integer(v, 16, verb, '0123456789abcdef');
      case 'X':
        return this.integer(v, 16, verb, '0123456789ABCDEF');
      case 'c':
        return this.pad(String.fromCodePoint(validRune(v)));
      case 'q':
        return this.pad(quoteRune(validRune(v), this.f.plus));
      case 'U': {
        const hex = (v < 0n ? BigInt.asUintN(64, v) : v).toString(16).toUpperCase();
        let s = 'U+' + hex.padStart(Math.max(this.f.prec ?? 4, 4), '0');
        const cp = Number(v);
        if (this.f.sharp && v >= 0n && v <= 0x10ffffn && isGoPrint(cp))
          s += " '" + String.fromCodePoint(cp) + "'";
        const saved = this.f.zero;
        this.f.zero = false;
        this.pad(s);
        this.f.zero = saved;
        return;
      }
      default:
        this.badVerb(verb, operand);
    }
  }

  /** integer formats an integer in a base with precision, zero padding, sign and prefix (fmt.fmtInteger). */
  private integer(v: bigint, base: number, verb: string, digits: string): void {
    const negative = v < 0n;
    const u = negative ? -v : v;
    let prec = 0;
    if (this.f.prec !== undefined) {
      prec = this.f.prec;
      if (prec === 0 && u === 0n) {
        const saved = this.f.zero;
        this.f.zero = false;
        this.out += this.padding(this.f.wid ?? 0);
        this.f.zero = saved;
        return;
      }
    } else if (this.f.zero && this.f.wid !== undefined) {
      prec = this.f.wid;
      if (negative || this.f.plus || this.f.space) prec--;
    }
    let s = '';
    let n = u;
    const b = BigInt(base);
    do {
      s = (digits[Number(n % b)] ?? '') + s;
      n /= b;
    } while (n > 0n);
    if (prec > s.length) s = '0'.repeat(prec - s.length) + s;
    if (this.f.sharp) {
      if (base === 2) s = '0b' + s;
      else if (base === 8 && s[0] !== '0') s = '0' + s;
      else if (base === 16) s = '0' + (digits[15] === 'f' ? 'x' : 'X') + s;
    }
    if (verb === 'O') s = '0o' + s;
    if (negative) s = '-' + s;
    else if (this.f.plus) s = '+' + s;
    else if (this.f.space) s = ' ' + s;
    const saved = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = saved;
  }

  fmtFloat(v: number, verb: string, operand: GoValue): void {
    let fmtChar: FloatFormat;
    let prec: number;
    switch (verb) {
      case 'v':
        fmtChar = 'g';
        prec = -1;
        break;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        fmtChar = verb;
        prec = -1;
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
        fmtChar = verb === 'F' ? 'f' : verb;
        prec = 6;
        break;
      default:
        this.badVerb(verb, operand);
        return;
    }
    if (this.f.prec !== undefined) prec = this.f.prec;
    let num = formatFloat(v, fmtChar, prec);
    num = num[0] === '-' || num[0] === '+' ? num : '+' + num;
    if (this.f.space && num[0] === '+' && !this.f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const saved = this.f.zero;
      this.f.zero = false;
      if (num[1] === 'N' && !this.f.space && !this.f.plus) num = num.slice(1);
      this.pad(num);
      this.f.zero = saved;
      return;
    }
    if (this.f.sharp && fmtChar !== 'b') num = sharpFloat(num, fmtChar, verb, prec);
    if (this.f.plus || num[0] !== '+') {
      if (this.f.zero && this.f.wid !== undefined && this.f.wid > num.length) {
        this.out += num[0] + '0'.repeat(this.f.wid - num.length) + num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  /** badVerb prints `%!verb(type=value)` for a verb that does not fit its operand. */
  badVerb(verb: string, operand: GoValue): void {
    this.out += '%!' + verb + '(';
    if (operand === undefined) this.out += '<nil>';
    else {
      this.out += goTypeName(operand) + '=';
      this.printValue(operand, 'v', 0);
    }
    this.out += ')';
  }

  /** printArg formats one operand with one verb (fmt's printArg). */
  printArg(arg: GoValue, verb: string): void {
    if (arg === undefined) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, arg);
      return;
    }
    if (verb === 'T') {
      this.pad(this.truncate(goTypeName(arg)));
      return;
    }
    if (verb === 'p') {
      this.badVerb(verb, arg);
      return;
    }
    this.printValue(arg, verb, 0);
  }

  /** printValue formats a value, descending into maps, structs and slices (fmt's printValue). */
  printValue(v: GoValue, verb: string, depth: number): void {
    if (v === undefined) {
      // A nil interface inside a map or struct prints <nil> whatever the verb.
      if (depth === 0) this.badVerb(verb, v);
      else this.out += '<nil>';
      return;
    }
    switch (typeof v) {
      case 'boolean':
        return this.fmtBool(v, verb);
      case 'number':
        return this.fmtFloat(v, verb, v);
      case 'bigint':
        return this.fmtInteger(v, verb, v);
      case 'string':
        return this.fmtString(v, verb, v);
    }
    if (v instanceof GoByte) return this.fmtInteger(BigInt(v.v), verb, v);
    if (v instanceof GoHTML) return this.fmtString(v.s, verb, v);
    if (v instanceof GoTime) {
      // *time.Time is a fmt.Stringer: %v %s %q %x %X print its String().
      if ('vsqxX'.includes(verb)) this.fmtString(v.toString(), verb, v);
      else this.badVerb(verb, v);
      return;
    }
    if (v instanceof GoMap) {
      this.out += 'map[';
      v.sortedKeys().forEach((k, i) => {
        if (i > 0) this.out += ' ';
        this.printValue(k, verb, depth + 1);
        this.out += ':';
        this.printValue(v.entries.get(k), verb, depth + 1);
      });
      this.out += ']';
      return;
    }
    if (v instanceof GoQueryResult) {
      this.out += '[';
      v.samples.forEach((s, i) => {
        if (i > 0) this.out += ' ';
        // Go prints the pointers' addresses here; their contents are more use and as deterministic.
        this.printValue(s, verb, 0);
      });
      this.out += ']';
      return;
    }
    if (v instanceof GoSample) {
      if (depth === 0 && !this.derefTop) this.out += '&';
      this.printStruct(
        [
          ['Labels', v.labels],
          ['Value', v.value],
        ],
        verb,
        depth,
      );
      return;
    }
    this.printStruct(v.fields(), verb, depth);
  }

  /** printStruct prints `{a b}`, or `{A:a B:b}` for %+v. */
  printStruct(fields: [string, GoValue][], verb: string, depth: number): void {
    this.out += '{';
    fields.forEach(([name, value], i) => {
      if (i > 0) this.out += ' ';
      if (this.f.plusV) this.out += name + ':';
      this.printValue(value, verb, depth + 1);
    });
    this.out += '}';
  }
}

/** validRune maps an integer to the code point fmt prints for %c and %q (invalid ones become U+FFFD). */
function validRune(v: bigint): number {
  if (v < 0n || v > 0x10ffffn) return 0xfffd;
  const cp = Number(v);
  return cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
}

/** sharpFloat applies the # flag to a formatted float: keep the point, and trailing zeros for %g. */
function sharpFloat(num: string, fmtChar: FloatFormat, verb: string, prec: number): string {
  let digits = 0;
  if (verb === 'v' || fmtChar === 'g' || fmtChar === 'G' || fmtChar === 'x') digits = prec === -1 ? 6 : prec;
  let tail = '';
  let body = num;
  let hasPoint = false;
  let sawNonzero = false;
  for (let i = 1; i < body.length; i++) {
    const c = body[i];
    if (c === '.') hasPoint = true;
    else if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && fmtChar !== 'x' && fmtChar !== 'X')) {
      tail = body.slice(i);
      body = body.slice(0, i);
      break;
    } else {
      if (c !== '0') sawNonzero = true;
      if (sawNonzero) digits--;
    }
  }
  if (!hasPoint) {
    if (body.length === 2 && body[1] === '0') digits--;
    body += '.';
  }
  while (digits > 0) {
    body += '0';
    digits--;
  }
  return body + tail;
}

/** isStringKind reports whether fmt's Sprint treats the operand as a string (no space next to it). */
function isStringKind(v: GoValue): boolean {
  return typeof v === 'string' || v instanceof GoHTML;
}

/** sprint is Go's `fmt.Sprint`: operands printed with %v, a space between two non-strings. */
export function sprint(args: readonly GoValue[]): string {
  return sprintWith(new Printer(), args);
}

function sprintWith(p: Printer, args: readonly GoValue[]): string {
  args.forEach((a, i) => {
    if (i > 0 && !isStringKind(a) && !isStringKind(args[i - 1])) p.out += ' ';
    p.printArg(a, 'v');
  });
  return p.out;
}

/** NO_VALUE is what text/template prints for a missing value (a nil interface, an invalid reflect.Value). */
export const NO_VALUE = '<no value>';

/**
 * printTemplateValue is how an action prints its value (text/template's printValue): `<no value>` for
 * nothing, a pointer as what it points to, the rest as fmt.Sprint does.
 */
export function printTemplateValue(v: GoValue): string {
  if (v === undefined) return NO_VALUE;
  return sprintWith(new Printer(true), [v]);
}

/**
 * sprintTemplateArgs is how `html`, `js` and `urlquery` turn their operands into one string (text/template's
 * evalArgs): one string stays as it is; otherwise nothing prints as `<no value>`, pointers as what they point
 * to, and the operands are joined as fmt.Sprint joins them.
 */
export function sprintTemplateArgs(args: readonly GoValue[]): string {
  const only = args.length === 1 ? args[0] : undefined;
  if (typeof only === 'string') return only;
  return sprintWith(
    new Printer(true),
    args.map((a) => (a === undefined ? NO_VALUE : a)),
  );
}

/** sprintln is Go's `fmt.Sprintln`: operands printed with %v, spaces between, a newline at the end. */
export function sprintln(args: readonly GoValue[]): string {
  const p = new Printer();
  args.forEach((a, i) => {
    if (i > 0) p.out += ' ';
    p.printArg(a, 'v');
  });
  return p.out + '\n';
}

/** parseNum reads a decimal number at i (fmt's parsenum); a too large one swallows the rest of the format. */
function parseNum(s: string, i: number): { n?: number; i: number } {
  let n = 0;
  let j = i;
  let any = false;
  while (j < s.length && s[j] !== undefined && /[0-9]/.test(s[j] ?? '')) {
    if (n > MAX_WIDTH) return { i: s.length };
    n = n * 10 + Number(s[j]);
    any = true;
    j++;
  }
  return any ? { n, i: j } : { i: j };
}

/** intFromArg reads a `*` width or precision operand (fmt's intFromArg). */
function intFromArg(args: readonly GoValue[], argNum: number): { n?: number; argNum: number } {
  if (argNum >= args.length) return { argNum };
  const a = args[argNum];
  let n: number | undefined;
  if (typeof a === 'bigint') n = Number(a);
  else if (a instanceof GoByte) n = a.v;
  if (n !== undefined && Math.abs(n) > MAX_WIDTH) n = undefined;
  return n === undefined ? { argNum: argNum + 1 } : { n, argNum: argNum + 1 };
}

/** sprintf is Go's `fmt.Sprintf` over template values, error forms (`%!d(…)`, `MISSING`, `EXTRA`) included. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  const p = new Printer();
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const end = format.length;

  // argNumber reads an explicit `[n]` operand index (fmt's argNumber).
  const argNumber = (at: number, state: { good: boolean }): { at: number; found: boolean } => {
    if (format[at] !== '[') return { at, found: false };
    reordered = true;
    const close = format.indexOf(']', at + 1);
    if (close < 0 || close - at < 2) {
      state.good = false;
      return { at: at + 1, found: false };
    }
    const num = parseNum(format, at + 1);
    if (num.n === undefined || num.i !== close) {
      state.good = false;
      return { at: close + 1, found: false };
    }
    const index = num.n - 1;
    if (index >= 0 && index < args.length) {
      argNum = index;
      return { at: close + 1, found: true };
    }
    state.good = false;
    return { at: close + 1, found: true };
  };

  while (i < end) {
    const state = { good: true };
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      p.out += format.slice(i);
      break;
    }
    p.out += format.slice(i, pct);
    i = pct + 1;
    p.f = noFlags();
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          p.f.sharp = true;
          break;
        case '0':
          p.f.zero = !p.f.minus;
          break;
        case '+':
          p.f.plus = true;
          break;
        case '-':
          p.f.minus = true;
          p.f.zero = false;
          break;
        case ' ':
          p.f.space = true;
          break;
        default:
          break flags;
      }
    }
    let r = argNumber(i, state);
    i = r.at;
    let afterIndex = r.found;
    if (format[i] === '*') {
      i++;
      const w = intFromArg(args, argNum);
      argNum = w.argNum;
      if (w.n === undefined) p.out += '%!(BADWIDTH)';
      else {
        p.f.wid = Math.abs(w.n);
        if (w.n < 0) {
          p.f.minus = true;
          p.f.zero = false;
        }
      }
      afterIndex = false;
    } else {
      const w = parseNum(format, i);
      i = w.i;
      if (w.n !== undefined) {
        p.f.wid = w.n;
        if (afterIndex) state.good = false;
      }
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) state.good = false;
      r = argNumber(i, state);
      i = r.at;
      afterIndex = r.found;
      if (format[i] === '*') {
        i++;
        const pr = intFromArg(args, argNum);
        argNum = pr.argNum;
        if (pr.n === undefined) p.out += '%!(BADPREC)';
        else if (pr.n >= 0) p.f.prec = pr.n;
        afterIndex = false;
      } else {
        const pr = parseNum(format, i);
        i = pr.i;
        p.f.prec = pr.n ?? 0;
      }
    }
    if (!afterIndex) {
      r = argNumber(i, state);
      i = r.at;
      afterIndex = r.found;
    }
    if (i >= end) {
      p.out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === '%') {
      p.out += '%';
    } else if (!state.good) {
      p.out += '%!' + verb + '(BADINDEX)';
    } else if (argNum >= args.length) {
      p.out += '%!' + verb + '(MISSING)';
    } else {
      if (verb === 'v') {
        p.f.sharpV = p.f.sharp;
        p.f.sharp = false;
        p.f.plusV = p.f.plus;
        p.f.plus = false;
      }
      p.printArg(args[argNum], verb);
      argNum++;
    }
  }
  if (!reordered && argNum < args.length) {
    p.f = noFlags();
    p.out += '%!(EXTRA ';
    args.slice(argNum).forEach((a, k) => {
      if (k > 0) p.out += ', ';
      if (a === undefined) p.out += '<nil>';
      else {
        p.out += goTypeName(a) + '=';
        p.printArg(a, 'v');
      }
    });
    p.out += ')';
  }
  return p.out;
}

/** formatValue prints one value as `fmt.Sprintf(format, v)` with a single verb would, e.g. `%s` of a value. */
export function formatValue(v: GoValue, verb: string): string {
  const p = new Printer();
  p.printArg(v, verb);
  return p.out;
}
