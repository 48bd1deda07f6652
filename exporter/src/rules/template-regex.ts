/**
 * Unanchored RE2 matching for the template functions `match` (Go's regexp.MatchString) and `reReplaceAll`
 * (Go's Regexp.ReplaceAllString), on top of util/re2.ts — the exporter's one regex implementation, which
 * offers full (anchored) matches only. A search is one full match of the pattern P wrapped as
 *
 *     (?s:(PREFIX))((?:P))(?s:.*)
 *
 * The lazy PREFIX finds the leftmost start, P keeps its own leftmost-first preference (the trailing `.*`
 * accepts any rest), group 2 is the match and P's group k is group k + 2. A search from position p > 0 must
 * not lose the left context that `^`, `\b` and `\B` look at, so its subject starts one character before p and
 * its PREFIX (`..*?`) must take at least that character: RE2's assertions read exactly one character back.
 */
import { compileRegex, type Regex } from '../util/re2.js';

/** GROUP_OFFSET is how far the wrapper shifts P's group numbers (the prefix and the whole match). */
const GROUP_OFFSET = 2;

/** SearchMatch is one match: where it is and its groups (0 = the whole match, names too). */
interface SearchMatch {
  readonly start: number;
  readonly end: number;
  group(g: number | string): string;
}

/** closeQuote ends an unterminated `\Q…` literal so that wrapping the pattern cannot extend it. */
function closeQuote(pattern: string): string {
  let quoted = false;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '\\') continue;
    const next = pattern[i + 1];
    if (!quoted && next === 'Q') quoted = true;
    else if (quoted && next === 'E') quoted = false;
    i++;
  }
  return quoted ? pattern + '\\E' : pattern;
}

/** TemplateRegex is a pattern compiled for unanchored use; the constructor throws RegexSyntaxError. */
export class TemplateRegex {
  private readonly fromStart: Regex;
  private readonly fromInside: Regex;
  private readonly anywhere: Regex;

  constructor(pattern: string) {
    compileRegex(pattern); // a bad pattern fails with RE2's message about it, not about the wrapper
    const p = closeQuote(pattern);
    this.fromStart = compileRegex(`(?s:(.*?))((?:${p}))(?s:.*)`);
    this.fromInside = compileRegex(`(?s:(..*?))((?:${p}))(?s:.*)`);
    this.anywhere = compileRegex(`(?s:.*?)(?:${p})(?s:.*)`);
  }

  /** test reports whether the pattern matches anywhere in s (regexp.MatchString). */
  test(s: string): boolean {
    return this.anywhere.test(s);
  }

  /** find returns the leftmost-first match that starts at or after `from`, or undefined. */
  private find(s: string, from: number): SearchMatch | undefined {
    let base = 0;
    let m;
    if (from === 0) m = this.fromStart.match(s);
    else {
      base = from - (from >= 2 && isLowSurrogate(s.charCodeAt(from - 1)) ? 2 : 1);
      m = this.fromInside.match(s.slice(base));
    }
    if (!m) return undefined;
    const found = m;
    const start = base + found.group(1).length;
    return {
      start,
      end: start + found.group(2).length,
      group: (g) => (typeof g === 'number' ? found.group(g + GROUP_OFFSET) : found.group(g)),
    };
  }

  /** replaceAll is Go's ReplaceAllString: each non-overlapping match replaced by the expanded template. */
  replaceAll(src: string, template: string): string {
    let out = '';
    let lastMatchEnd = 0;
    let searchPos = 0;
    while (searchPos <= src.length) {
      const m = this.find(src, searchPos);
      if (!m) break;
      out += src.slice(lastMatchEnd, m.start);
      // An empty match right after a previous match is not replaced (Go's rule against double replacement).
      if (m.end > lastMatchEnd || m.start === 0) out += expand(template, m);
      lastMatchEnd = m.end;
      // Advance past the match, and at least one character.
      const width = searchPos < src.length ? String.fromCodePoint(src.codePointAt(searchPos) ?? 0).length : 0;
      if (searchPos + width > m.end) searchPos += width;
      else if (searchPos + 1 > m.end) searchPos++;
      else searchPos = m.end;
    }
    return out + src.slice(lastMatchEnd);
  }
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * expand substitutes `$1`, `${1}`, `$name`, `${name}` and `$$` in a replacement as Go's Regexp.Expand does:
 * a name is the longest run of letters, digits and `_` (`$1x` is the group named `1x`), an unknown group is
 * empty, and a malformed `$` is kept as it is.
 */
function expand(template: string, m: SearchMatch): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const ref = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(template.slice(i));
    const name = ref?.[1] ?? ref?.[2];
    if (!ref || name === undefined) {
      out += '$';
      continue;
    }
    i += ref[0].length;
    const isNumber = /^[0-9]+$/.test(name) && name.length <= 8 && !(name[0] === '0' && name.length > 1);
    out += isNumber ? m.group(Number(name)) : m.group(name);
  }
  return out + template.slice(i);
}
