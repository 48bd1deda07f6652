/** The PromQL module's public API: parse, evaluate, cache; the engine reads storage only through Queryable. */
export type * from './ast.js';
export { parseExpr, typeOf } from './parser.js';
export { exprToString } from './printer.js';
export {
  Engine,
  DEFAULT_ENGINE_OPTIONS,
  type EngineOptions,
  type QueryResult,
  type QueryOutcome,
  type QueryStats,
  type InstantSample,
  type MatrixSeries,
} from './engine.js';
export { QueryCache, DEFAULT_QUERY_CACHE_OPTIONS, type QueryCacheOptions } from './cache.js';
export {
  chooseTier,
  DEFAULT_TIER_OPTIONS,
  TIER_AGGREGATES,
  type TierOptions,
  type TierPlan,
} from './tiers.js';
export { PromQLError, ParseError, type ErrorType } from './errors.js';
export { FUNCTIONS, type FunctionDef } from './functions.js';
export { formatSampleValue } from './format.js';
