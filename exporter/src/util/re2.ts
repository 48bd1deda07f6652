/**
 * The one regular-expression implementation of the exporter: Prometheus's regexes are Go's RE2 syntax, and
 * they run here on re2js, a JavaScript port of RE2. Two reasons not to translate them into JavaScript RegExps:
 *
 * - Time: RE2 matches in time linear in the input; V8's backtracking engine can take exponential time on
 *   patterns like `(a|aa)+b`, so one label matcher or `label_replace` in a query could hold the event loop
 *   for minutes.
 * - Meaning: the syntax is RE2's own, with its error messages (`error parsing regexp: missing closing ): ...`,
 *   as Prometheus prints them): `(?i)` flag groups, `(?P<name>...)`, `[[:alpha:]]`, `\pL`, no backreferences.
 *
 * Matches are full matches (anchored at both ends), as label matchers and `label_replace` use them.
 * Compiled patterns are cached (a dashboard sends the same matchers again and again).
 */
import { RE2JS } from 're2js';

/** RegexSyntaxError is a pattern RE2 rejects; its message is RE2's (`error parsing regexp: ...`). */
export class RegexSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

/** RegexMatch is a successful full match: its groups by number (0 = whole) or name; '' for a group that did not take part. */
export interface RegexMatch {
  group(index: number | string): string;
}

/** Regex is a compiled, fully anchored RE2 pattern. */
export interface Regex {
  /** test reports whether the whole of `s` matches. */
  test(s: string): boolean;
  /** match returns the groups of a full match of `s`, or undefined. */
  match(s: string): RegexMatch | undefined;
}

/** RegexOptions chooses RE2 flags: `dotAll` makes `.` match a newline too (Prometheus's label matchers). */
export interface RegexOptions {
  readonly dotAll?: boolean;
}

/** CACHE_SIZE bounds the compiled-pattern cache (entries; a pattern is a few KB compiled). */
const CACHE_SIZE = 512;

const cache = new Map<string, Regex>();

/**
 * compileRegex compiles `source` as an RE2 pattern that must match the whole input; throws RegexSyntaxError
 * with RE2's message for invalid syntax.
 */
export function compileRegex(source: string, opts: RegexOptions = {}): Regex {
  const key = (opts.dotAll ? 's' : '-') + source;
  const hit = cache.get(key);
  if (hit) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, opts.dotAll ? RE2JS.DOTALL : 0);
  } catch (err) {
    throw new RegexSyntaxError((err as Error).message);
  }
  const names = re.namedGroups();
  const compiled: Regex = {
    test: (s) => re.matches(s),
    match: (s) => {
      const m = re.matcher(s);
      if (!m.matches()) return undefined;
      return {
        group: (g) => {
          if (typeof g === 'string' && !(g in names)) return '';
          if (typeof g === 'number' && (g < 0 || g > m.groupCount())) return '';
          return m.group(g) ?? '';
        },
      };
    },
  };
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, compiled);
  return compiled;
}
