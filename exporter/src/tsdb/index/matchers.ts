/**
 * Label matchers compiled for evaluation, with Prometheus semantics: regexes are RE2 (util/re2.ts), fully
 * anchored (`^(?s:re)$`, so `.` also matches a newline, as Prometheus's FastRegexMatcher does), and a matcher is
 * evaluated against the empty string for series that lack the label. Fast paths avoid the regex engine for
 * `.*`, `.+`, literal alternations (`a|b|c`) and literal prefixes (`foo.*`).
 */
import type { Matcher } from '../storage.js';
import { compileRegex as compileRe2, type Regex } from '../../util/re2.js';
import { TsdbError } from '../errors.js';

/** CompiledMatcher tests label values for one Matcher. */
export interface CompiledMatcher {
  readonly name: string;
  readonly type: Matcher['type'];
  /** matches tests a label value ('' stands for "label absent"). */
  readonly matches: (value: string) => boolean;
  /**
   * setMatches lists the exact values a positive matcher (`=`, `=~` literal alternation) accepts, so the
   * index can look postings up directly instead of scanning every value of the label; undefined otherwise.
   */
  readonly setMatches: readonly string[] | undefined;
}

/** REGEX_META are the characters that make a regex alternative more than a literal string. */
const REGEX_META = /[\\^$.|?*+()[\]{}]/;

/** compileRegex turns a Prometheus (RE2) regex into an anchored predicate (util/re2.ts), or throws TSDB_BAD_REGEX. */
function compileRegex(source: string): { test: (v: string) => boolean; literals: string[] | undefined } {
  if (source === '.*') return { test: () => true, literals: undefined };
  if (source === '.+') return { test: (v) => v.length > 0, literals: undefined };
  if (source === '') return { test: (v) => v === '', literals: [''] };
  const alternatives = source.split('|');
  if (alternatives.every((a) => !REGEX_META.test(a))) {
    const set = new Set(alternatives);
    return { test: (v) => set.has(v), literals: [...set] };
  }
  if (source.endsWith('.*')) {
    const prefix = source.slice(0, -2);
    if (prefix.length > 0 && !REGEX_META.test(prefix)) {
      return { test: (v) => v.startsWith(prefix), literals: undefined };
    }
  }
  let re: Regex;
  try {
    re = compileRe2(source, { dotAll: true });
  } catch (err) {
    throw new TsdbError('TSDB_BAD_REGEX', `${(err as Error).message}: fix the regex`, { cause: err });
  }
  return { test: (v) => re.test(v), literals: undefined };
}

/** compileMatcher compiles one Matcher, validating its operator and regex. */
export function compileMatcher(m: Matcher): CompiledMatcher {
  switch (m.type) {
    case '=':
      return { name: m.name, type: m.type, matches: (v) => v === m.value, setMatches: [m.value] };
    case '!=':
      return { name: m.name, type: m.type, matches: (v) => v !== m.value, setMatches: undefined };
    case '=~': {
      const re = compileRegex(m.value);
      return { name: m.name, type: m.type, matches: re.test, setMatches: re.literals };
    }
    case '!~': {
      const re = compileRegex(m.value);
      return { name: m.name, type: m.type, matches: (v) => !re.test(v), setMatches: undefined };
    }
    default: {
      const type: unknown = m.type;
      throw new TsdbError(
        'TSDB_BAD_MATCHER',
        `unknown matcher type ${JSON.stringify(type)}: use =, !=, =~ or !~`,
      );
    }
  }
}

/** inverse returns the matcher that accepts exactly the values `m` rejects (`=` ↔ `!=`, `=~` ↔ `!~`). */
export function inverse(m: Matcher): Matcher {
  const type = ({ '=': '!=', '!=': '=', '=~': '!~', '!~': '=~' } as const)[m.type];
  return { type, name: m.name, value: m.value };
}
