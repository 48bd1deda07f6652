/**
 * fast-check arbitraries of PromQL text for the fuzzer: mostly well-typed expressions over the exporter's
 * real series (so they reach the evaluator, not just the parser), built from every function of the engine's
 * own table, aggregations, binary operators with vector matching, subqueries with huge ranges and tiny steps,
 * `@` and `offset` with extreme values, pathological regular expressions; plus deep nesting and garbage for
 * the parser. Expressions are strings: the point is what the exporter makes of text a client may send.
 */
import fc from 'fast-check';
import { FUNCTIONS } from '../../src/promql/functions.js';
import type { ValueType } from '../../src/promql/ast.js';
import { FUZZ_METRIC_PREFIX, type Vocabulary } from './vocabulary.js';

/** PromqlArbitraries are the generators of one vocabulary. */
export interface PromqlArbitraries {
  /** instant is an expression of type instant vector (or scalar: valid wherever a range query wants one). */
  readonly instant: fc.Arbitrary<string>;
  /** rangeVector is an expression of type range vector (a matrix selector or a subquery). */
  readonly rangeVector: fc.Arbitrary<string>;
  /** selector is a plain vector selector (what `match[]` takes), sometimes an invalid one. */
  readonly selector: fc.Arbitrary<string>;
  /** query is what the fuzzer sends as `query`: mostly typed expressions, some deep nesting and garbage. */
  readonly query: fc.Arbitrary<string>;
}

/**
 * PATHOLOGICAL_REGEXES are regular expressions that are slow under a backtracking engine (JavaScript's) on
 * long label values, that RE2 (Prometheus's engine) rejects, or that are plain invalid.
 */
export const PATHOLOGICAL_REGEXES: readonly string[] = [
  '(a+)+$',
  '(a|aa)+$',
  '(a|a?)+b',
  '(.*a){25}',
  '(x+x+)+y',
  '(.*)*x',
  '.*.*.*.*.*.*.*.*.*.*=',
  '(?:a*)*b',
  '^(([a-z])+.)+[A-Z]([a-z])+$',
  'a{1000}',
  '(a{1000}){1000}',
  '(?=a)a',
  '(a)\\1',
  '(?<n>x)\\k<n>',
  '\\p{L}+',
  '[',
  '(',
  '\\',
  '*',
  '(?i)WEB.*',
  'web-0[1-3]|db-.*',
  '.+',
  '.*',
  '',
  '^$',
];

/** DURATIONS are range, subquery and offset durations, from a millisecond to far beyond any history. */
const DURATIONS: readonly string[] = [
  '1ms',
  '1s',
  '15s',
  '1m',
  '5m',
  '1h',
  '1h30m',
  '6h',
  '1d',
  '7d',
  '30d',
  '1y',
  '10y',
  '100y',
  '10000y',
  '99999999999y',
  '0s',
  '0',
  '1e3s',
  '-5m',
];

/** STEPS are subquery resolutions: the tiny ones make `[10y:1s]` enumerate hundreds of millions of steps. */
const STEPS: readonly string[] = ['', '1ms', '1s', '10s', '1m', '1h', '1d', '0s', '100y'];

/** AT_TIMES are `@` arguments: extreme, non-finite and ordinary Unix seconds. */
const AT_TIMES: readonly string[] = [
  '0',
  '1',
  '-1',
  '1e20',
  '-1e20',
  '1e308',
  '9007199254740993',
  '1700000000',
  '1.5e9',
  'Inf',
  '-Inf',
  'NaN',
  'start()',
  'end()',
];

/** NUMBERS are scalar literals: ordinary, huge, tiny, non-finite, hex, and the ones topk's k chokes on. */
const NUMBERS: readonly string[] = [
  '0',
  '1',
  '-1',
  '0.5',
  '2',
  '5',
  '100',
  '1e9',
  '1e308',
  '-1e308',
  '5e-324',
  'Inf',
  '-Inf',
  'NaN',
  '0x1F',
  '1e10',
  '9007199254740993',
];

const AGGREGATIONS: readonly string[] = ['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'group'];
/** PARAM_AGGREGATIONS repeats the common ones: limitk is rarer (Prometheus 3 only, our parser refuses it). */
const PARAM_AGGREGATIONS: readonly string[] = [
  'topk',
  'bottomk',
  'quantile',
  'topk',
  'bottomk',
  'quantile',
  'limitk',
];
const ARITHMETIC: readonly string[] = ['+', '-', '*', '/', '%', '^', 'atan2'];
const COMPARISONS: readonly string[] = ['==', '!=', '>', '<', '>=', '<='];
const SET_OPS: readonly string[] = ['and', 'or', 'unless'];
const MATCH_OPS: readonly string[] = ['=', '!=', '=~', '!~'];

/** TOKENS are PromQL's lexemes, shuffled into token soup for the parser. */
const TOKENS: readonly string[] = [
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '@',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'sum',
  'rate',
  '=~',
  '!~',
  '=',
  '+',
  '-',
  '*',
  '/',
  '^',
  '"',
  "'",
  '`',
  '5m',
  '1',
  'NaN',
  'Inf',
  'openmanager_cpu_usage_percent',
  '__name__',
  '#',
  '\n',
  '\\',
  '\u0000',
  '\u202e',
];

/** stringLiteral quotes text as a PromQL string, in any of the three quote styles (Go escapes for "). */
function stringLiteral(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: text.map((s) => JSON.stringify(s)) },
    { weight: 1, arbitrary: text.map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`) },
    { weight: 1, arbitrary: text.filter((s) => !s.includes('`')).map((s) => `\`${s}\``) },
  );
}

/** promqlArbitraries builds the PromQL generators for a vocabulary; `maxDepth` bounds expression nesting. */
export function promqlArbitraries(v: Vocabulary, maxDepth = 3): PromqlArbitraries {
  const metric = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...v.metrics) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('up', 'nonexistent_metric', `${FUZZ_METRIC_PREFIX}gauge`, 'ALERTS'),
    },
    { weight: 1, arbitrary: fc.constantFrom(...v.metrics).map((m) => FUZZ_METRIC_PREFIX + m) },
  );
  const labelName = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...v.labelNames) },
    { weight: 1, arbitrary: fc.constantFrom('__name__', 'job', 'instance', 'nonexistent', 'fuzz', '__meta') },
  );
  const knownValue = fc.constantFrom(...[...v.labelValues.values()].flat(), ...v.servers);
  const valueText = fc.oneof(
    { weight: 6, arbitrary: knownValue },
    { weight: 3, arbitrary: fc.constantFrom(...PATHOLOGICAL_REGEXES) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3_000 }).map((n) => 'a'.repeat(n)) },
  );
  const matcher = fc
    .tuple(labelName, fc.constantFrom(...MATCH_OPS), stringLiteral(valueText))
    .map(([n, op, val]) => `${n}${op}${val}`);
  const matchers = fc
    .tuple(fc.array(matcher, { minLength: 0, maxLength: 4 }), fc.boolean())
    .map(([ms, trailingComma]) => `{${ms.join(',')}${trailingComma && ms.length > 0 ? ',' : ''}}`);
  const bareSelector = fc.oneof(
    { weight: 6, arbitrary: metric },
    { weight: 4, arbitrary: fc.tuple(metric, matchers).map(([m, ls]) => m + ls) },
    { weight: 2, arbitrary: matchers },
    { weight: 1, arbitrary: fc.constantFrom('{__name__=~".+"}', '{__name__=~".*"}', '{}', '{__name__!=""}') },
  );
  const duration = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...DURATIONS) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.nat({ max: 1_000_000 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'y'))
        .map(([n, u]) => `${n}${u}`),
    },
  );
  const modifiers = fc
    .tuple(
      fc.option(
        fc.tuple(fc.constantFrom('', '-'), duration).map(([sign, d]) => ` offset ${sign}${d}`),
        { freq: 4 },
      ),
      fc.option(
        fc
          .oneof(
            { weight: 3, arbitrary: fc.constantFrom('start()', 'end()', '1700000000', '0', '1.5e9') },
            { weight: 1, arbitrary: fc.constantFrom(...AT_TIMES) },
          )
          .map((t) => ` @ ${t}`),
        { freq: 8 },
      ),
      fc.boolean(),
    )
    .map(([off, at, atFirst]) => (atFirst ? (at ?? '') + (off ?? '') : (off ?? '') + (at ?? '')));
  const vectorSelector = fc.tuple(bareSelector, modifiers).map(([s, m]) => s + m);
  const matrixSelector = fc.tuple(bareSelector, duration, modifiers).map(([s, d, m]) => `${s}[${d}]${m}`);
  const number = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NUMBERS) },
    { weight: 1, arbitrary: fc.double().map((x) => String(x)) },
  );
  const stringArg = stringLiteral(
    fc.oneof(
      { weight: 4, arbitrary: labelName },
      { weight: 2, arbitrary: fc.constantFrom('$1', '${1}x', '$name', '', ',') },
      { weight: 3, arbitrary: fc.constantFrom(...PATHOLOGICAL_REGEXES) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
  );
  const grouping = fc
    .tuple(fc.constantFrom('by', 'without'), fc.array(labelName, { maxLength: 3 }))
    .map(([kw, ls]) => ` ${kw} (${ls.join(', ')})`);

  // Expressions of each type by depth, memoised: depth 0 is leaves only.
  const instantAt: fc.Arbitrary<string>[] = [];
  const scalarAt: fc.Arbitrary<string>[] = [];
  const rangeAt: fc.Arbitrary<string>[] = [];

  const argOf = (t: ValueType, d: number): fc.Arbitrary<string> => {
    switch (t) {
      case 'vector':
        return instantAt[d] ?? vectorSelector;
      case 'matrix':
        return rangeAt[d] ?? matrixSelector;
      case 'scalar':
        return scalarAt[d] ?? number;
      case 'string':
        return stringArg;
    }
  };

  /** call generates calls of every function returning `ret`, arguments one level shallower. */
  const calls = (ret: ValueType, d: number): fc.Arbitrary<string> | undefined => {
    const defs = [...FUNCTIONS.values()].filter((f) => f.returnType === ret);
    if (defs.length === 0) return undefined;
    return fc.constantFrom(...defs).chain((f) => {
      const types = [...f.argTypes];
      const optional = f.variadic > 0 ? f.variadic : 0;
      const extra = f.variadic < 0 ? fc.nat({ max: 3 }) : fc.constant(0);
      return fc
        .tuple(fc.nat({ max: optional }), extra)
        .chain(([dropped, repeats]) => {
          const kept = types.slice(0, types.length - dropped);
          const last = types[types.length - 1];
          for (let i = 0; i < repeats && last !== undefined; i++) kept.push(last);
          return fc.tuple(...kept.map((t) => argOf(t, d)));
        })
        .map((args) => `${f.name}(${args.join(', ')})`);
    });
  };

  for (let d = 0; d <= maxDepth; d++) {
    const below = d - 1;
    const scalarLeaves = fc.oneof(number, fc.constant('time()'));
    scalarAt[d] =
      d === 0
        ? scalarLeaves
        : fc.oneof(
            { weight: 4, arbitrary: scalarLeaves },
            { weight: 2, arbitrary: calls('scalar', below) ?? scalarLeaves },
            {
              weight: 1,
              arbitrary: fc
                .tuple(scalarAt[below] ?? number, fc.constantFrom(...ARITHMETIC), scalarAt[below] ?? number)
                .map(([a, op, b]) => `(${a} ${op} ${b})`),
            },
          );
    const vectorLeaves = vectorSelector;
    if (d === 0) {
      instantAt[d] = vectorLeaves;
      rangeAt[d] = matrixSelector;
      continue;
    }
    const sub = instantAt[below] ?? vectorLeaves;
    const subquery = fc
      .tuple(sub, duration, fc.constantFrom(...STEPS), modifiers)
      .map(([e, r, s, m]) => `(${e})[${r}:${s}]${m}`);
    rangeAt[d] = fc.oneof({ weight: 3, arbitrary: matrixSelector }, { weight: 2, arbitrary: subquery });
    const aggregation = fc
      .tuple(fc.constantFrom(...AGGREGATIONS), fc.option(grouping), sub, fc.boolean())
      .map(([op, g, e, groupFirst]) => (groupFirst ? `${op}${g ?? ''} (${e})` : `${op} (${e})${g ?? ''}`));
    const paramAggregation = fc
      .tuple(fc.constantFrom(...PARAM_AGGREGATIONS), fc.option(grouping), scalarAt[below] ?? number, sub)
      .map(([op, g, k, e]) => `${op}${g ?? ''} (${k}, ${e})`);
    const countValues = fc.tuple(stringArg, sub).map(([label, e]) => `count_values(${label}, ${e})`);
    const matching = fc.option(
      fc
        .tuple(
          fc.constantFrom('on', 'ignoring'),
          fc.array(labelName, { maxLength: 3 }),
          fc.option(
            fc
              .tuple(fc.constantFrom('group_left', 'group_right'), fc.array(labelName, { maxLength: 2 }))
              .map(([g, ls]) => ` ${g}(${ls.join(', ')})`),
          ),
        )
        .map(([kw, ls, g]) => ` ${kw}(${ls.join(', ')})${g ?? ''}`),
      { freq: 3 },
    );
    const binary = fc
      .tuple(
        sub,
        fc.constantFrom(...ARITHMETIC, ...COMPARISONS, ...SET_OPS),
        fc.boolean(),
        matching,
        fc.oneof(sub, scalarAt[below] ?? number),
      )
      .map(([a, op, useBool, m, b]) => {
        const boolKw = useBool && COMPARISONS.includes(op) ? ' bool' : '';
        return `(${a} ${op}${boolKw}${m ?? ''} ${b})`;
      });
    instantAt[d] = fc.oneof(
      { weight: 4, arbitrary: vectorLeaves },
      { weight: 6, arbitrary: calls('vector', below) ?? vectorLeaves },
      { weight: 3, arbitrary: aggregation },
      { weight: 2, arbitrary: paramAggregation },
      { weight: 1, arbitrary: countValues },
      { weight: 3, arbitrary: binary },
      { weight: 1, arbitrary: sub.map((e) => `-(${e})`) },
      { weight: 1, arbitrary: scalarAt[d] ?? number },
    );
  }
  const instant = instantAt[maxDepth] ?? vectorSelector;
  const rangeVector = rangeAt[maxDepth] ?? matrixSelector;

  const deep = fc.oneof(
    fc
      .tuple(fc.integer({ min: 1, max: 20_000 }), instant, fc.nat({ max: 2 }))
      .map(([n, e, unbalanced]) => '('.repeat(n) + e + ')'.repeat(Math.max(0, n - unbalanced))),
    fc.integer({ min: 1, max: 20_000 }).map((n) => `${'-'.repeat(n)}1`),
    fc.integer({ min: 1, max: 20_000 }).map((n) => Array.from({ length: n + 1 }, () => '1').join(' + ')),
    fc
      .integer({ min: 1, max: 5_000 })
      .map((n) => `${'abs('.repeat(n)}openmanager_memory_usage_percent${')'.repeat(n)}`),
    fc
      .integer({ min: 1, max: 2_000 })
      .map((n) => `${'sum('.repeat(n)}rate(openmanager_cpu_context_switches_total[5m])${')'.repeat(n)}`),
    fc
      .integer({ min: 1, max: 1_000 })
      .map((n) => `openmanager_memory_usage_percent${Array.from({ length: n }, () => '[1h:1m]').join('')}`),
  );
  const garbage = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((ts) => ts.join(' ')),
    fc.tuple(instant, fc.nat(), fc.string({ maxLength: 5 })).map(([e, i, s]) => {
      const at = e.length === 0 ? 0 : i % e.length;
      return e.slice(0, at) + s + e.slice(at);
    }),
  );
  const selector = fc.oneof(
    { weight: 8, arbitrary: vectorSelector },
    { weight: 1, arbitrary: instant },
    { weight: 1, arbitrary: garbage },
  );
  const query = fc.oneof(
    { weight: 12, arbitrary: instant },
    { weight: 3, arbitrary: rangeVector },
    { weight: 1, arbitrary: deep },
    { weight: 2, arbitrary: garbage },
  );
  return { instant, rangeVector, selector, query };
}
