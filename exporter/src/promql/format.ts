/**
 * Number, duration and string formatting exactly as Prometheus (Go) prints them: sample values in API
 * responses (`strconv.FormatFloat(v, 'f', -1, 64)`), durations (`model.Duration.String()`), and numbers in
 * printed expressions (`%v`). Kept in one place so the API and the expression printer agree.
 */

/** expandExponent rewrites JS's exponent notation (`1e-7`, `1.5e+21`) as plain decimal digits. */
function expandExponent(s: string): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const sign = m[1] ?? '';
  const digits = (m[2] ?? '') + (m[3] ?? '');
  const exp = Number(m[4]);
  const pointPos = 1 + exp;
  if (pointPos <= 0) return `${sign}0.${'0'.repeat(-pointPos)}${digits}`;
  if (pointPos >= digits.length) return sign + digits + '0'.repeat(pointPos - digits.length);
  return `${sign}${digits.slice(0, pointPos)}.${digits.slice(pointPos)}`;
}

/** formatSampleValue prints a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` (Prometheus API values). */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  return expandExponent(String(v));
}

/** formatGoFloat prints a float as Go's `%v` / `strconv.FormatFloat(v, 'g', -1, 64)` (used by the printer). */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // Go's shortest %g/%v switches to exponent form when the decimal exponent is < -4 or >= 6 (strconv's eprec).
  const e = /e([+-]\d+)$/.exec(v.toExponential());
  const realExp = e ? Number(e[1]) : 0;
  if (realExp < -4 || realExp >= 6) {
    const [mant, ex] = v.toExponential().split('e');
    const n = Number(ex);
    const abs = Math.abs(n);
    return `${mant ?? ''}e${n < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  return expandExponent(String(v));
}

/** quoteString quotes a string as Go's `strconv.Quote` does (printable ASCII kept, others escaped). */
export function quoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}
