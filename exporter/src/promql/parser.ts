/**
 * parseExpr turns a PromQL string into the typed AST of `ast.ts`, using the lezer grammar of
 * `@prometheus-io/lezer-promql` (the grammar Prometheus's own UI uses) for syntax, then checking types the
 * way Prometheus's `parser.checkAST` does. Errors are `ParseError`s whose messages read as Prometheus's
 * (`1:5: parse error: ...`). The grammar is newer than Prometheus 2.x; constructs that 2.x lacks
 * (experimental functions, `fill`, `smoothed`, duration arithmetic) are refused as unknown.
 */
import { parser as lezerParser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode, Tree } from '@lezer/common';
import type { Matcher, MatchType } from '../tsdb/storage.js';
import { METRIC_NAME } from '../util/labels.js';
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Expr,
  PosRange,
  ValueType,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { Pacer } from '../util/pacer.js';
import { ParseError, queryTimeout } from './errors.js';
import { parseDuration } from '../util/duration.js';
import { FUNCTIONS } from './functions.js';
import { compileRegex } from '../util/re2.js';

/** AGGREGATE_OPS are the aggregation operators Prometheus 2.x supports. */
const AGGREGATE_OPS: ReadonlySet<string> = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
]);

/** BINARY_OPS maps the grammar's operator node names to operators. */
const BINARY_OPS: Readonly<Record<string, BinaryOp>> = {
  Pow: '^',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Atan2: 'atan2',
  Add: '+',
  Sub: '-',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

const MATCH_OPS: Readonly<Record<string, MatchType>> = {
  EqlSingle: '=',
  Neq: '!=',
  EqlRegex: '=~',
  NeqRegex: '!~',
};

/** COMPARISON_OPS are the operators that filter unless `bool` is given. */
export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '<', '>=', '<=']);
/** SET_OPS are the operators that act on series sets rather than values. */
export const SET_OPS: ReadonlySet<BinaryOp> = new Set(['and', 'or', 'unless']);

/**
 * HOLT_WINTERS_STANDIN is a same-length function name the lezer grammar knows, substituted for
 * `holt_winters` (the 2.x name the newer grammar no longer lists) so positions stay unchanged.
 */
const HOLT_WINTERS_STANDIN = 'day_of_month';

/** documentedType names a value type as Prometheus's error messages do. */
export function documentedType(t: ValueType): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

/** typeOf returns the static type of an expression. */
export function typeOf(e: Expr): ValueType {
  switch (e.type) {
    case 'VectorSelector':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'ParenExpr':
    case 'UnaryExpr':
      return typeOf(e.expr);
    case 'BinaryExpr':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'AggregateExpr':
      return 'vector';
    case 'Call':
      return FUNCTIONS.get(e.name)?.returnType ?? 'vector';
  }
}

/** parseExpr parses and type-checks a query. */
export function parseExpr(query: string): Expr {
  const b = new Builder(query);
  return b.build(lezerParser.parse(b.text));
}

/**
 * parseExprPaced parses like parseExpr for callers on a server's event loop: lezer's incremental parser runs
 * in steps, with a turn for the loop whenever a slice is used up, and gives up with `timeout` at `deadline`
 * (performance.now() ms). Pathological input (thousands of nested calls) costs lezer ~10 µs per character,
 * so a 1 MB body would otherwise hold the loop for seconds.
 */
export async function parseExprPaced(query: string, deadline = Infinity): Promise<Expr> {
  const b = new Builder(query);
  const parse = lezerParser.startParse(b.text);
  const pacer = new Pacer();
  for (;;) {
    const tree = parse.advance();
    if (tree) return b.build(tree);
    if (pacer.due()) {
      await pacer.yield();
      if (performance.now() > deadline) throw queryTimeout();
    }
  }
}

/** unquote decodes a PromQL string literal (Go escapes in "…" and '…', raw in `…`). */
export function unquote(lit: string): string | undefined {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) return undefined;
  const body = lit.slice(1, -1);
  if (q === '`') return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] ?? '';
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
      case '"':
      case "'":
        out += n;
        break;
      case 'x': {
        const hex = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
        out += String.fromCharCode(parseInt(hex, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const len = n === 'u' ? 4 : 8;
        const hex = body.slice(i + 1, i + 1 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return undefined;
        out += String.fromCodePoint(parseInt(hex, 16));
        i += len;
        break;
      }
      default: {
        const oct = body.slice(i, i + 3);
        if (/^[0-7]{3}$/.test(oct)) {
          out += String.fromCharCode(parseInt(oct, 8));
          i += 2;
          break;
        }
        return undefined;
      }
    }
  }
  return out;
}

/** parseNumber parses a PromQL number literal as Prometheus's lexer does (ints in base 0 first). */
export function parseNumber(text: string): number | undefined {
  let s = text.replace(/[_\s]/g, '');
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  const lower = s.toLowerCase();
  if (lower === 'inf') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/i.test(s)) return sign * parseInt(s.slice(2), 16);
  if (/^0[0-7]+$/.test(s)) return sign * parseInt(s, 8);
  if (/^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return sign * Number(s);
  const d = parseDuration(s);
  if (d !== undefined) return (sign * d) / 1000;
  return undefined;
}

class Builder {
  /** text is the query as lezer parses it (holt_winters renamed). */
  readonly text: string;
  private readonly holtWintersAt = new Set<number>();

  constructor(private readonly query: string) {
    this.text = query.replace(/\bholt_winters(?=\s*\()/g, (m, offset: number) => {
      this.holtWintersAt.add(offset);
      return HOLT_WINTERS_STANDIN.slice(0, m.length);
    });
  }

  build(tree: Tree): Expr {
    if (this.text.replace(/#[^\n]*/g, '').trim() === '') throw this.err(0, 'no expression found in input');
    const top = tree.topNode;
    this.checkSyntax(top);
    const child = top.firstChild;
    if (!child) throw this.err(0, 'no expression found in input');
    return this.expr(child);
  }

  private err(pos: number, detail: string): ParseError {
    return new ParseError(this.query, pos, detail);
  }

  private src(n: SyntaxNode): string {
    return this.text.slice(n.from, n.to);
  }

  private pos(n: SyntaxNode): PosRange {
    return { start: n.from, end: n.to };
  }

  /** checkSyntax reports the first error node of the lezer tree in Prometheus's words. */
  private checkSyntax(top: SyntaxNode): void {
    let first: SyntaxNode | undefined;
    let unterminated: SyntaxNode | undefined;
    top.cursor().iterate((ref) => {
      if (first) return false;
      if (ref.type.isError) {
        first = ref.node;
        return false;
      }
      if (
        ref.name === 'StringLiteral' &&
        !unterminated &&
        unquote(this.text.slice(ref.from, ref.to)) === undefined
      )
        unterminated = ref.node;
      return undefined;
    });
    if (unterminated && (!first || unterminated.from < first.from)) {
      const lit = this.src(unterminated);
      const q = lit[0] ?? '"';
      if (lit.length < 2 || lit[lit.length - 1] !== q)
        throw this.err(unterminated.from, 'unterminated quoted string');
      throw this.err(unterminated.from, `invalid syntax in string literal ${lit}`);
    }
    if (!first) return;
    const at = first.from;
    const prev = first.prevSibling;
    const rest = this.text.slice(at).trimStart();
    if (prev && prev.name === 'Identifier' && rest.startsWith('(')) {
      const name = this.src(prev);
      throw this.err(prev.from, `unknown function with name ${JSON.stringify(name)}`);
    }
    if (rest === '') {
      const inBraces = /\{[^}]*$/.test(this.text);
      throw this.err(at, inBraces ? 'unexpected end of input inside braces' : 'unexpected end of input');
    }
    const token = /^(\w+|\S)/.exec(rest)?.[0] ?? rest[0] ?? '';
    if (/^[\w]/.test(token))
      throw this.err(
        at + (this.text.slice(at).length - rest.length),
        `unexpected identifier ${JSON.stringify(token)}`,
      );
    throw this.err(at + (this.text.slice(at).length - rest.length), `unexpected character: '${token}'`);
  }

  private children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  private child(n: SyntaxNode, i = 0): SyntaxNode {
    const c = this.children(n)[i];
    if (!c) throw this.err(n.from, 'unexpected end of input');
    return c;
  }

  private expr(n: SyntaxNode): Expr {
    switch (n.name) {
      case 'NumberDurationLiteral': {
        const v = parseNumber(this.src(n));
        if (v === undefined)
          throw this.err(n.from, `bad number or duration syntax: ${JSON.stringify(this.src(n))}`);
        return { type: 'NumberLiteral', value: v, pos: this.pos(n) };
      }
      case 'StringLiteral': {
        const v = unquote(this.src(n));
        if (v === undefined) throw this.err(n.from, 'unterminated quoted string');
        return { type: 'StringLiteral', value: v, pos: this.pos(n) };
      }
      case 'ParenExpr':
        return { type: 'ParenExpr', expr: this.expr(this.child(n)), pos: this.pos(n) };
      case 'UnaryExpr':
        return this.unary(n);
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'MatrixSelector':
        return this.matrixSelector(n);
      case 'SubqueryExpr':
        return this.subquery(n);
      case 'OffsetExpr':
        return this.offsetOf(n);
      case 'StepInvariantExpr':
        return this.atOf(n);
      case 'BinaryExpr':
        return this.binary(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'FunctionCall':
        return this.call(n);
      default:
        throw this.err(n.from, `unexpected ${JSON.stringify(this.src(n))}`);
    }
  }

  private unary(n: SyntaxNode): Expr {
    const op = this.src(this.child(n, 0)) === '-' ? '-' : '+';
    return this.makeUnary(op, this.expr(this.child(n, 1)), n.from, n.to);
  }

  private makeUnary(op: '-' | '+', inner: Expr, from: number, to: number): Expr {
    const t = typeOf(inner);
    if (t !== 'scalar' && t !== 'vector')
      throw this.err(from, 'unary expression only allowed on expressions of type scalar or instant vector');
    if (inner.type === 'NumberLiteral')
      return {
        type: 'NumberLiteral',
        value: op === '-' ? -inner.value : inner.value,
        pos: { start: from, end: to },
      };
    return { type: 'UnaryExpr', op, expr: inner, pos: { start: from, end: to } };
  }

  /**
   * The lezer grammar attaches the postfix constructs (`offset`, `@`, `[range]`, `[range:step]`) to a whole
   * preceding binary or unary expression; in PromQL they bind tightest, to the rightmost operand
   * (`a - b offset 5m` is `a - (b offset 5m)`). postfix re-associates them, then re-checks the types.
   */
  private postfix(inner: Expr, apply: (e: Expr) => Expr): Expr {
    if (inner.type === 'BinaryExpr') {
      const rhs = this.postfix(inner.rhs, apply);
      return this.checkBinary(
        { ...inner, rhs, pos: { start: inner.pos.start, end: rhs.pos.end } },
        inner.pos.start,
      );
    }
    if (inner.type === 'UnaryExpr') {
      const e = this.postfix(inner.expr, apply);
      return this.makeUnary(inner.op, e, inner.pos.start, e.pos.end);
    }
    return apply(inner);
  }

  private offsetOf(n: SyntaxNode): Expr {
    const durNode = n.getChild('OffsetDurationExpr');
    if (!durNode) throw this.err(n.to, 'unexpected end of input');
    const offsetMs = this.duration(durNode, true);
    return this.postfix(this.expr(this.child(n, 0)), (e) => {
      const end = n.to;
      const dup = (): ParseError => this.err(n.from, 'offset may not be set multiple times');
      switch (e.type) {
        case 'VectorSelector':
          if (e.offsetMs !== 0) throw dup();
          return { ...e, offsetMs, pos: { start: e.pos.start, end } };
        case 'MatrixSelector':
          if (e.selector.offsetMs !== 0) throw dup();
          return { ...e, selector: { ...e.selector, offsetMs }, pos: { start: e.pos.start, end } };
        case 'SubqueryExpr':
          if (e.offsetMs !== 0) throw dup();
          return { ...e, offsetMs, pos: { start: e.pos.start, end } };
        default:
          throw this.err(
            n.from,
            'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
          );
      }
    });
  }

  private atOf(n: SyntaxNode): Expr {
    let at: AtModifier;
    const pre = n.getChild('AtModifierPreprocessors');
    if (pre) {
      at = { kind: this.src(pre) === 'start' ? 'start' : 'end' };
    } else {
      const num = n.getChild('NumberDurationLiteral');
      const v = num ? parseNumber(this.src(num)) : undefined;
      if (v === undefined || !Number.isFinite(v))
        throw this.err(n.from, `timestamp out of bounds for @ modifier: ${String(v)}`);
      at = { kind: 'time', ms: Math.round(v * 1000) };
    }
    return this.postfix(this.expr(this.child(n, 0)), (e) => {
      const end = n.to;
      const dup = (): ParseError => this.err(n.from, '@ <timestamp> may not be set multiple times');
      switch (e.type) {
        case 'VectorSelector':
          if (e.at) throw dup();
          return { ...e, at, pos: { start: e.pos.start, end } };
        case 'MatrixSelector':
          if (e.selector.at) throw dup();
          return { ...e, selector: { ...e.selector, at }, pos: { start: e.pos.start, end } };
        case 'SubqueryExpr':
          if (e.at) throw dup();
          return { ...e, at, pos: { start: e.pos.start, end } };
        default:
          throw this.err(
            n.from,
            '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
          );
      }
    });
  }

  private vectorSelector(n: SyntaxNode): VectorSelector {
    const ident = n.getChild('Identifier');
    const name = ident ? this.src(ident) : undefined;
    const matchers: Matcher[] = [];
    const lm = n.getChild('LabelMatchers');
    if (lm) {
      for (const m of this.children(lm)) {
        if (m.name === 'QuotedLabelName') {
          const v = unquote(this.src(m)) ?? '';
          matchers.push({ type: '=', name: METRIC_NAME, value: v });
          continue;
        }
        if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue;
        const [ln, op, lit] = this.children(m);
        if (!ln || !op || !lit) throw this.err(m.from, 'unexpected end of input inside braces');
        const labelName = ln.name === 'QuotedLabelName' ? (unquote(this.src(ln)) ?? '') : this.src(ln);
        const opNode = op.firstChild;
        const type = opNode ? MATCH_OPS[opNode.name] : undefined;
        if (!type) throw this.err(op.from, `unexpected ${this.src(op)}`);
        const value = unquote(this.src(lit));
        if (value === undefined) throw this.err(lit.from, 'unterminated quoted string');
        if (type === '=~' || type === '!~') {
          try {
            compileRegex(value, { dotAll: true });
          } catch {
            // Prometheus reports the anchored pattern it compiled, at the matcher's position.
            throw this.err(m.from, regexSyntaxMessage(`^(?:${value})$`));
          }
        }
        matchers.push({ type, name: labelName, value });
      }
    }
    if (name !== undefined) {
      const dup = matchers.find((m) => m.name === METRIC_NAME);
      if (dup)
        throw this.err(
          n.from,
          `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(dup.value)}`,
        );
      matchers.unshift({ type: '=', name: METRIC_NAME, value: name });
    }
    if (!matchers.some((m) => !matchesEmpty(m)))
      throw this.err(n.from, 'vector selector must contain at least one non-empty matcher');
    return {
      type: 'VectorSelector',
      name: name ?? matchers.find((m) => m.name === METRIC_NAME && m.type === '=')?.value,
      matchers,
      offsetMs: 0,
      at: undefined,
      pos: this.pos(n),
    };
  }

  private matrixSelector(n: SyntaxNode): Expr {
    const durNode = n.getChild('DurationExpr');
    if (!durNode) throw this.err(n.to, 'unexpected end of input');
    const rangeMs = this.duration(durNode, false);
    if (rangeMs <= 0) throw this.err(durNode.from, 'duration must be greater than 0');
    return this.postfix(this.expr(this.child(n, 0)), (e) => {
      if (e.type !== 'VectorSelector')
        throw this.err(e.pos.start, 'ranges only allowed for vector selectors');
      return { type: 'MatrixSelector', selector: e, rangeMs, pos: { start: e.pos.start, end: n.to } };
    });
  }

  private subquery(n: SyntaxNode): Expr {
    const durs = n.getChildren('DurationExpr');
    const first = durs[0];
    if (!first) throw this.err(n.to, 'unexpected end of input');
    const rangeMs = this.duration(first, false);
    const second = durs[1];
    const stepMs = second ? this.duration(second, false) : 0;
    if (rangeMs <= 0) throw this.err(first.from, 'duration must be greater than 0');
    if (second && stepMs <= 0) throw this.err(second.from, 'duration must be greater than 0');
    return this.postfix(this.expr(this.child(n, 0)), (inner) => {
      const t = typeOf(inner);
      if (t !== 'vector')
        throw this.err(
          inner.pos.start,
          `subquery is only allowed on instant vector, got ${documentedType(t)} instead`,
        );
      return {
        type: 'SubqueryExpr',
        expr: inner,
        rangeMs,
        stepMs,
        offsetMs: 0,
        at: undefined,
        pos: { start: inner.pos.start, end: n.to },
      };
    });
  }

  /** duration evaluates a duration node (a literal, or 3.x-style arithmetic of literals) in ms. */
  private duration(n: SyntaxNode, allowNegative: boolean): number {
    const kids = this.children(n);
    if (n.name === 'NumberDurationLiteralInDurationContext') {
      const text = this.src(n);
      const d = parseDuration(text);
      if (d !== undefined) return d;
      const v = parseNumber(text);
      if (v === undefined || !Number.isFinite(v))
        throw this.err(n.from, `bad number or duration syntax: ${JSON.stringify(text)}`);
      return Math.round(v * 1000);
    }
    if (kids.length === 1 && kids[0]) return this.duration(kids[0], allowNegative);
    if (kids.length === 2 && kids[0]?.name === 'UnaryOp' && kids[1]) {
      const v = this.duration(kids[1], allowNegative);
      if (this.src(kids[0]) === '-') {
        if (!allowNegative && n.name !== 'DurationExpr') throw this.err(n.from, 'unexpected "-"');
        return -v;
      }
      return v;
    }
    throw this.err(n.from, `unexpected ${JSON.stringify(this.src(n))} in duration`);
  }

  private binary(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const lhsNode = kids[0];
    const opNode = kids[1];
    const rhsNode = kids[kids.length - 1];
    if (!lhsNode || !opNode || !rhsNode) throw this.err(n.from, 'unexpected end of input');
    const op = BINARY_OPS[opNode.name];
    if (!op) throw this.err(opNode.from, `unexpected ${JSON.stringify(this.src(opNode))}`);
    const lhs = this.expr(lhsNode);
    const rhs = this.expr(rhsNode);
    // The grammar folds a sign into a number literal, but in PromQL unary minus binds looser than `^`:
    // `-2 ^ 2` is `-(2 ^ 2)`.
    const lhsText = this.src(lhsNode);
    if (op === '^' && lhs.type === 'NumberLiteral' && (lhsText.startsWith('-') || lhsText.startsWith('+'))) {
      const unsigned = { ...lhs, value: lhsText.startsWith('-') ? -lhs.value : lhs.value };
      const inner: Expr = {
        type: 'BinaryExpr',
        op,
        lhs: unsigned,
        rhs,
        returnBool: false,
        matching: undefined,
        pos: this.pos(n),
      };
      if (typeOf(rhs) !== 'scalar' && typeOf(rhs) !== 'vector')
        throw this.err(rhsNode.from, 'binary expression must contain only scalar and instant vector types');
      return lhsText.startsWith('-') ? { type: 'UnaryExpr', op: '-', expr: inner, pos: this.pos(n) } : inner;
    }
    let returnBool = false;
    let matching:
      { on: boolean; labels: string[]; include: string[]; card: VectorMatching['card'] } | undefined;
    for (const k of kids.slice(2, -1)) {
      if (k.name === 'BoolModifier') returnBool = true;
      else if (k.name === 'MatchingModifierClause') {
        const mk = this.children(k);
        const groups = k.getChildren('GroupingLabels');
        const on = mk[0]?.name === 'On';
        const card = k.getChild('GroupLeft')
          ? 'many-to-one'
          : k.getChild('GroupRight')
            ? 'one-to-many'
            : 'one-to-one';
        matching = {
          on,
          labels: groups[0] ? this.groupingLabels(groups[0]) : [],
          include: groups[1] ? this.groupingLabels(groups[1]) : [],
          card,
        };
      } else if (k.name === 'FillModifier') {
        throw this.err(k.from, `unexpected ${JSON.stringify(this.src(k).split('(')[0])}`);
      }
    }
    if (returnBool && !COMPARISON_OPS.has(op))
      throw this.err(opNode.from, 'bool modifier can only be used on comparison operators');
    if (matching && matching.on)
      for (const l of matching.labels)
        if (matching.include.includes(l))
          throw this.err(
            opNode.from,
            `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`,
          );
    if (matching && SET_OPS.has(op) && (matching.card === 'many-to-one' || matching.card === 'one-to-many'))
      throw this.err(n.from, `no grouping allowed for "${op}" operation`);
    const vm: VectorMatching | undefined = matching && {
      card: SET_OPS.has(op) ? 'many-to-many' : matching.card,
      on: matching.on,
      labels: matching.labels,
      include: matching.include,
    };
    return this.checkBinary(
      { type: 'BinaryExpr', op, lhs, rhs, returnBool, matching: vm, pos: this.pos(n) },
      opNode.from,
    );
  }

  /**
   * checkBinary applies Prometheus's type rules to a binary expression (again after postfix re-association).
   * `b.matching` holds the written clause, if any; the result's matching is set iff both operands are vectors.
   */
  private checkBinary(b: BinaryExpr, opPos: number): Expr {
    const { op, lhs, rhs, returnBool } = b;
    const written = b.matching;
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    const isSet = SET_OPS.has(op);
    if (COMPARISON_OPS.has(op) && !returnBool && lt === 'scalar' && rt === 'scalar')
      throw this.err(opPos, 'comparisons between scalars must use BOOL modifier');
    if (lt !== 'scalar' && lt !== 'vector')
      throw this.err(lhs.pos.start, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector')
      throw this.err(rhs.pos.start, 'binary expression must contain only scalar and instant vector types');
    let vm: VectorMatching | undefined;
    if (lt === 'vector' && rt === 'vector') {
      vm = written ?? { card: isSet ? 'many-to-many' : 'one-to-one', on: false, labels: [], include: [] };
    } else {
      if (written && (written.labels.length > 0 || written.on))
        throw this.err(b.pos.start, 'vector matching only allowed between instant vectors');
      if (isSet) throw this.err(b.pos.start, `set operator "${op}" not allowed in binary scalar expression`);
    }
    return { ...b, matching: vm };
  }

  private groupingLabels(n: SyntaxNode): string[] {
    const out: string[] = [];
    for (const c of this.children(n)) {
      if (c.name === 'LabelName') out.push(this.src(c));
      else if (c.name === 'QuotedLabelName') out.push(unquote(this.src(c)) ?? '');
    }
    return out;
  }

  private aggregate(n: SyntaxNode): AggregateExpr {
    const opNode = this.child(n, 0);
    const op = this.src(opNode);
    if (!AGGREGATE_OPS.has(op))
      throw this.err(opNode.from, `unknown aggregation operator ${JSON.stringify(op)}`);
    const body = n.getChild('FunctionCallBody');
    if (!body) throw this.err(n.to, 'unexpected end of input');
    const mod = n.getChild('AggregateModifier');
    let grouping: string[] = [];
    let without = false;
    if (mod) {
      without = mod.getChild('Without') !== null;
      const gl = mod.getChild('GroupingLabels');
      grouping = gl ? this.groupingLabels(gl) : [];
    }
    const args = this.children(body).map((c) => this.expr(c));
    const hasParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values';
    const want = hasParam ? 2 : 1;
    if (args.length !== want)
      throw this.err(
        n.from,
        `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`,
      );
    const expr = hasParam ? args[1] : args[0];
    const param = hasParam ? args[0] : undefined;
    if (!expr) throw this.err(n.from, 'unexpected end of input');
    const et = typeOf(expr);
    if (et !== 'vector')
      throw this.err(
        expr.pos.start,
        `expected type instant vector in aggregation expression, got ${documentedType(et)}`,
      );
    if (param) {
      const want = op === 'count_values' ? 'string' : 'scalar';
      const pt = typeOf(param);
      if (pt !== want)
        throw this.err(
          param.pos.start,
          `expected type ${documentedType(want)} in aggregation parameter, got ${documentedType(pt)}`,
        );
    }
    return {
      type: 'AggregateExpr',
      op: op as AggregateOp,
      expr,
      param,
      grouping,
      without,
      hasModifier: mod !== null,
      pos: this.pos(n),
    };
  }

  private call(n: SyntaxNode): Expr {
    const ident = this.child(n, 0);
    let name = this.src(ident);
    if (this.holtWintersAt.has(ident.from)) name = 'holt_winters';
    const def = FUNCTIONS.get(name);
    if (!def) throw this.err(ident.from, `unknown function with name ${JSON.stringify(name)}`);
    const body = n.getChild('FunctionCallBody');
    const args = body ? this.children(body).map((c) => this.expr(c)) : [];
    const nargs = def.argTypes.length;
    if (def.variadic === 0) {
      if (nargs !== args.length)
        throw this.err(
          n.from,
          `expected ${nargs} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`,
        );
    } else {
      const na = nargs - 1;
      if (na > args.length)
        throw this.err(
          n.from,
          `expected at least ${na} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`,
        );
      const max = na + def.variadic;
      if (def.variadic > 0 && max < args.length)
        throw this.err(
          n.from,
          `expected at most ${max} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`,
        );
    }
    args.forEach((a, i) => {
      let idx = i;
      if (idx >= nargs) {
        if (def.variadic !== -1) return;
        idx = nargs - 1;
      }
      const want = def.argTypes[idx];
      const got = typeOf(a);
      if (want && got !== want)
        throw this.err(
          a.pos.start,
          `expected type ${documentedType(want)} in call to function ${JSON.stringify(name)}, got ${documentedType(got)}`,
        );
    });
    return { type: 'Call', name, args, pos: this.pos(n) };
  }
}

/** regexSyntaxMessage is RE2's message for a pattern it rejects. */
function regexSyntaxMessage(pattern: string): string {
  try {
    compileRegex(pattern);
  } catch (e) {
    return (e as Error).message;
  }
  return `error parsing regexp: ${pattern}`;
}

/** matchesEmpty reports whether a matcher accepts the empty label value. */
export function matchesEmpty(m: Matcher): boolean {
  switch (m.type) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return compileRegex(m.value, { dotAll: true }).test('');
    case '!~':
      return !compileRegex(m.value, { dotAll: true }).test('');
  }
}
