/**
 * The PromQL abstract syntax tree produced by `parser.ts` and walked by `engine.ts`. It mirrors the node kinds
 * of Prometheus's `promql/parser/ast.go`; positions are 0-based character offsets into the query string.
 */
import type { Matcher } from '../tsdb/storage.js';

/** ValueType is the static type of an expression, named as Prometheus names them in error messages. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** PosRange is the [start, end) character range a node was parsed from. */
export interface PosRange {
  readonly start: number;
  readonly end: number;
}

/** BinaryOp is every PromQL binary operator. */
export type BinaryOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '^'
  | 'atan2'
  | '=='
  | '!='
  | '>'
  | '<'
  | '>='
  | '<='
  | 'and'
  | 'or'
  | 'unless';

/** AggregateOp is every non-experimental PromQL aggregation operator. */
export type AggregateOp =
  | 'sum'
  | 'min'
  | 'max'
  | 'avg'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'count'
  | 'count_values'
  | 'bottomk'
  | 'topk'
  | 'quantile';

/** AtModifier pins a selector or subquery to a time: a fixed ms timestamp, or the query's start or end. */
export type AtModifier = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'start' | 'end' };

/** VectorSelector selects series by matchers (`name` is the metric name when one was written). */
export interface VectorSelector {
  readonly type: 'VectorSelector';
  readonly name: string | undefined;
  readonly matchers: readonly Matcher[];
  /** offsetMs shifts the evaluation time back (negative values shift it forward). */
  readonly offsetMs: number;
  readonly at: AtModifier | undefined;
  readonly pos: PosRange;
}

/** MatrixSelector is a vector selector with a range `[5m]`. */
export interface MatrixSelector {
  readonly type: 'MatrixSelector';
  readonly selector: VectorSelector;
  readonly rangeMs: number;
  readonly pos: PosRange;
}

/** SubqueryExpr evaluates `expr` over `[rangeMs:stepMs]`; stepMs 0 means the engine's default step. */
export interface SubqueryExpr {
  readonly type: 'SubqueryExpr';
  readonly expr: Expr;
  readonly rangeMs: number;
  readonly stepMs: number;
  readonly offsetMs: number;
  readonly at: AtModifier | undefined;
  readonly pos: PosRange;
}

/** NumberLiteral is a float constant (hex, Inf and NaN included). */
export interface NumberLiteral {
  readonly type: 'NumberLiteral';
  readonly value: number;
  readonly pos: PosRange;
}

/** StringLiteral is an unquoted string constant. */
export interface StringLiteral {
  readonly type: 'StringLiteral';
  readonly value: string;
  readonly pos: PosRange;
}

/** ParenExpr keeps parentheses so that `format_query` can print them back. */
export interface ParenExpr {
  readonly type: 'ParenExpr';
  readonly expr: Expr;
  readonly pos: PosRange;
}

/** UnaryExpr is `-expr` or `+expr`. */
export interface UnaryExpr {
  readonly type: 'UnaryExpr';
  readonly op: '-' | '+';
  readonly expr: Expr;
  readonly pos: PosRange;
}

/** VectorMatching describes how a binary operation pairs series of its two vector operands. */
export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** on is true for `on(...)`, false for `ignoring(...)` or no clause. */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** include are the labels a group_left/group_right copies from the "one" side. */
  readonly include: readonly string[];
}

/** BinaryExpr is an arithmetic, comparison or set operation. */
export interface BinaryExpr {
  readonly type: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  /** matching is set when both operands are vectors. */
  readonly matching: VectorMatching | undefined;
  readonly pos: PosRange;
}

/** AggregateExpr is `op [by|without (labels)] ([param,] expr)`. */
export interface AggregateExpr {
  readonly type: 'AggregateExpr';
  readonly op: AggregateOp;
  readonly expr: Expr;
  readonly param: Expr | undefined;
  readonly grouping: readonly string[];
  readonly without: boolean;
  /** hasModifier records whether `by`/`without` was written, for printing. */
  readonly hasModifier: boolean;
  readonly pos: PosRange;
}

/** Call is a function call; `name` is a key of the function table in `functions.ts`. */
export interface Call {
  readonly type: 'Call';
  readonly name: string;
  readonly args: readonly Expr[];
  readonly pos: PosRange;
}

/** Expr is any PromQL expression. */
export type Expr =
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | NumberLiteral
  | StringLiteral
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call;

/** children returns a node's direct sub-expressions, in source order. */
export function children(e: Expr): Expr[] {
  switch (e.type) {
    case 'MatrixSelector':
      return [e.selector];
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      return [e.expr];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    case 'AggregateExpr':
      return e.param ? [e.param, e.expr] : [e.expr];
    case 'Call':
      return [...e.args];
    default:
      return [];
  }
}

/** walkExpr calls `visit` on every node of `e`, parents before children. */
export function walkExpr(e: Expr, visit: (node: Expr) => void): void {
  visit(e);
  for (const c of children(e)) walkExpr(c, visit);
}
