/** The PromQL module's public API: parse, evaluate, cache; the engine reads storage only through Queryable. */
export type * from './ast.js';
export { children, walkExpr } from './ast.js';
export { parseExpr, parseExprPaced, typeOf } from './parser.js';
export { exprToString } from './printer.js';
export {
  Engine,
  DEFAULT_ENGINE_OPTIONS,
  type EngineOptions,
  type QueryResult,
  type QueryOptions,
  type QueryOutcome,
  type QueryStats,
  type InstantSample,
  type MatrixSeries,
} from './engine.js';
export { ParseCache, DEFAULT_PARSE_CACHE_ENTRIES } from './parse-cache.js';
export { QueryCache, DEFAULT_QUERY_CACHE_OPTIONS, type QueryCacheOptions } from './cache.js';
export {
  chooseTier,
  DEFAULT_TIER_OPTIONS,
  TIER_AGGREGATES,
  type TierOptions,
  type TierPlan,
} from './tiers.js';
export {
  PromQLError,
  ParseError,
  type ErrorType,
  executionError,
  queryTimeout,
  tooManySamples,
} from './errors.js';
export { FUNCTIONS, type FunctionDef } from './functions.js';
export { formatSampleValue, formatGoFloat, quoteString } from './format.js';
export { labelsToString, sortByLabels } from './labels-util.js';
