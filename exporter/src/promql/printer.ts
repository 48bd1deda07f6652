/**
 * exprToString prints an AST back as PromQL the way Prometheus 2.x's `String()` methods do (used by the
 * `format_query` endpoint): canonical spacing, `by (a, b)` before the arguments, matchers sorted with the
 * metric name outside the braces, durations in their shortest unit form.
 */
import { METRIC_NAME } from '../util/labels.js';
import type { AtModifier, Expr, VectorSelector } from './ast.js';
import { formatDuration } from '../util/duration.js';
import { formatGoFloat, quoteString } from './format.js';

function atString(at: AtModifier | undefined): string {
  if (!at) return '';
  if (at.kind !== 'time') return at.kind === 'start' ? ' @ start()' : ' @ end()';
  return ` @ ${(at.ms / 1000).toFixed(3)}`;
}

function offsetString(ms: number): string {
  if (ms > 0) return ` offset ${formatDuration(ms)}`;
  if (ms < 0) return ` offset -${formatDuration(-ms)}`;
  return '';
}

function selectorBody(vs: VectorSelector): string {
  const matchers = vs.matchers
    .filter((m) => !(m.name === METRIC_NAME && m.type === '=' && m.value === vs.name))
    .map((m) => `${m.name}${m.type}${quoteString(m.value)}`)
    .sort();
  const name = vs.name ?? '';
  return matchers.length === 0 ? name : `${name}{${matchers.join(',')}}`;
}

/** exprToString prints one expression. */
export function exprToString(e: Expr): string {
  switch (e.type) {
    case 'NumberLiteral':
      return formatGoFloat(e.value);
    case 'StringLiteral':
      return quoteString(e.value);
    case 'ParenExpr':
      return `(${exprToString(e.expr)})`;
    case 'UnaryExpr':
      return `${e.op}${exprToString(e.expr)}`;
    case 'VectorSelector':
      return selectorBody(e) + atString(e.at) + offsetString(e.offsetMs);
    case 'MatrixSelector':
      return `${selectorBody(e.selector)}[${formatDuration(e.rangeMs)}]${atString(e.selector.at)}${offsetString(e.selector.offsetMs)}`;
    case 'SubqueryExpr':
      return `${exprToString(e.expr)}[${formatDuration(e.rangeMs)}:${e.stepMs > 0 ? formatDuration(e.stepMs) : ''}]${atString(e.at)}${offsetString(e.offsetMs)}`;
    case 'Call':
      return `${e.name}(${e.args.map(exprToString).join(', ')})`;
    case 'AggregateExpr': {
      let op: string = e.op;
      if (e.without) op += ` without (${e.grouping.join(', ')}) `;
      else if (e.grouping.length > 0) op += ` by (${e.grouping.join(', ')}) `;
      const args = e.param ? `${exprToString(e.param)}, ${exprToString(e.expr)}` : exprToString(e.expr);
      return `${op}(${args})`;
    }
    case 'BinaryExpr': {
      let matching = '';
      const vm = e.matching;
      if (vm && (vm.labels.length > 0 || vm.on)) {
        matching = ` ${vm.on ? 'on' : 'ignoring'} (${vm.labels.join(', ')})`;
        if (vm.card === 'many-to-one' || vm.card === 'one-to-many')
          matching += ` group_${vm.card === 'many-to-one' ? 'left' : 'right'} (${vm.include.join(', ')})`;
      }
      return `${exprToString(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''}${matching} ${exprToString(e.rhs)}`;
    }
  }
}
