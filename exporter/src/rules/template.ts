/**
 * Alert and recording-rule templates, evaluated exactly as Prometheus 2.42 evaluates the `labels` and
 * `annotations` of a rule: Go's text/template language with Prometheus's functions, over the alert's data
 * (`$labels`, `$value`, `$externalLabels`, `$externalURL`, and `.` = `{Labels, ExternalLabels, ExternalURL,
 * Value}`), with Go's formatting of every value.
 *
 * Lifecycle, as the rule manager uses it:
 *
 * 1. `compileTemplate(name, text)` when the rule file loads. A syntax error or a call to a function that does
 *    not exist throws `TemplateError` (`OM_TEMPLATE_SYNTAX`) worded as Prometheus words it
 *    (`template: __alert_HighCPU:1: function "foo" not defined`), so the file is rejected as Prometheus
 *    rejects it. Prometheus names an alert's templates `__alert_<alertname>`.
 * 2. `expand(compiled, data, opts)` at every evaluation. An execution error (`index` out of range, a failing
 *    `query`, `first` of nothing) rejects with `TemplateError` (`OM_TEMPLATE_EXECUTION`) whose message is the
 *    error Prometheus logs; `expandAnnotation` turns it into the text Prometheus puts in the annotation
 *    instead: `<error expanding template: …>`.
 *
 * Work is bounded: a template cannot loop forever (ranges run over finite values; template recursion, steps
 * and output are capped — `OM_TEMPLATE_LIMIT`).
 *
 * Like Prometheus, the template text is parsed behind four declarations (`{{$labels := .Labels}}…`), so the
 * columns in execution errors are Prometheus's too (the first line's columns include those 112 bytes).
 */
import { printTemplateValue, quote, formatValue } from './go-fmt.js';
import {
  FUNCTIONS,
  PARAM_TYPE_NAMES,
  type Arg,
  type CallEnv,
  type ParamType,
  type TemplateFunction,
  type TemplateSample,
} from './template-functions.js';
import {
  TemplateParseError,
  errorLocation,
  nodeString,
  parseTemplate,
  type ArgNode,
  type BranchNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  type NumberNode,
  type ParsedTemplates,
  type PipeNode,
  type TemplateNode,
  type VariableNode,
} from './template-parse.js';
import {
  GoAlertData,
  GoMap,
  GoQueryResult,
  GoSample,
  goTypeName,
  isTrue,
  utf8Length,
  type GoValue,
} from './template-values.js';
import type { Labels } from '../util/labels.js';

export {
  humanize,
  humanize1024,
  humanizeDuration,
  humanizePercentage,
  humanizeTimestamp,
  type TemplateSample,
} from './template-functions.js';

/**
 * TEMPLATE_PREFIX is what Prometheus puts before every rule template (rules/alerting.go) so that `$labels`,
 * `$externalLabels`, `$externalURL` and `$value` exist.
 */
const TEMPLATE_PREFIX =
  '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

/** TemplateErrorCode says which stage failed: loading, executing, or a bound on the work. */
export type TemplateErrorCode = 'OM_TEMPLATE_SYNTAX' | 'OM_TEMPLATE_EXECUTION' | 'OM_TEMPLATE_LIMIT';

/**
 * TemplateError is a template that cannot load (`OM_TEMPLATE_SYNTAX`: the message is Go's parse error, as
 * `promtool check rules` prints it) or could not expand (`OM_TEMPLATE_EXECUTION`, `OM_TEMPLATE_LIMIT`: the
 * message is the error Prometheus logs, `error executing template NAME: template: NAME:1:115: …`).
 */
export class TemplateError extends Error {
  constructor(
    readonly code: TemplateErrorCode,
    readonly templateName: string,
    message: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }

  /** expansionText is what Prometheus writes in place of a label or annotation that failed to expand. */
  get expansionText(): string {
    return `<error expanding template: ${this.message}>`;
  }
}

/** CompiledTemplate is a parsed rule template, ready to expand any number of times. */
export interface CompiledTemplate {
  /** name is the template's name, as errors print it (`__alert_HighCPU`). */
  readonly name: string;
  /** source is the template as written in the rule file. */
  readonly source: string;
  /** parsed are the parse trees (the main one under `name`, and any `define`d ones). */
  readonly parsed: ParsedTemplates;
  /**
   * constant is the output of a template of plain text (no action of its own, no `define`: a runbook URL),
   * which expand returns without executing the tree, and the steps executing it takes.
   */
  readonly constant?: { readonly text: string; readonly steps: number };
}

/** TemplateData is what an alert template sees: `$labels`/`.Labels`, `$value`/`.Value`, and the external ones. */
export interface TemplateData {
  /** labels are the labels of the alert's sample, `__name__` included when the expression kept it. */
  readonly labels: Labels;
  /** value is the alert's sample value. */
  readonly value: number;
  /** externalLabels are the server's external labels (`$externalLabels`). */
  readonly externalLabels?: Labels;
  /** externalURL is `$externalURL` / `.ExternalURL`; defaults to the `externalURL` option. */
  readonly externalURL?: string;
}

/** ExpandOptions are the outside world of one expansion, and the bounds on its work. */
export interface ExpandOptions {
  /**
   * query evaluates an instant PromQL query at the rule's evaluation time (`timestamp`) for the `query`
   * function; a rejection becomes the template's error (`error calling query: …`).
   */
  readonly query?: (q: string, timestampMs: number | undefined) => Promise<readonly TemplateSample[]>;
  /** externalURL is --web.external-url, for `externalURL` and `pathPrefix` (without it they fail, as in promtool). */
  readonly externalURL?: string;
  /** timestamp is the rule's evaluation time in ms, handed to `query`. */
  readonly timestamp?: number;
  /** maxOutputBytes bounds the expansion's text and every string it builds. */
  readonly maxOutputBytes?: number;
  /** maxSteps bounds the nodes and commands evaluated (ranges nested in ranges, templates calling templates). */
  readonly maxSteps?: number;
  /** maxTemplateDepth bounds `{{template}}` calls within calls. */
  readonly maxTemplateDepth?: number;
}

/** DEFAULT_EXPAND_LIMITS are the bounds used when ExpandOptions leaves them out. */
export const DEFAULT_EXPAND_LIMITS = {
  /** 64 KiB: an annotation is read by a person, and Alertmanager notifications carry every annotation. */
  maxOutputBytes: 64 * 1024,
  /** 100k: a template that ranges over 1 000 query results with 50 nodes per result stays well inside. */
  maxSteps: 100_000,
  /** 100: Go allows 100 000 nested `{{template}}` calls; a rule template has no need for more than a few. */
  maxTemplateDepth: 100,
} as const;

/** isDefined reports whether a function name is known (the parser rejects the others at load). */
const isDefined = (name: string): boolean => FUNCTIONS.has(name);

/** compileTemplate parses a rule template as Prometheus does; throws TemplateError (`OM_TEMPLATE_SYNTAX`). */
export function compileTemplate(name: string, text: string): CompiledTemplate {
  try {
    const parsed = parseTemplate(name, TEMPLATE_PREFIX + text, isDefined);
    const constant = constantOf(parsed, name);
    return { name, source: text, parsed, ...(constant && { constant }) };
  } catch (err) {
    if (err instanceof TemplateParseError) throw new TemplateError('OM_TEMPLATE_SYNTAX', name, err.message);
    throw err;
  }
}

/** PREFIX_ACTIONS is the number of actions TEMPLATE_PREFIX parses to (its four declarations). */
const PREFIX_ACTIONS = 4;

/**
 * constantOf returns the output of a template that is plain text after TEMPLATE_PREFIX, and the steps its
 * execution takes (the root list, two per declaration, one per text node), so that expand fails where
 * execution would under a tighter maxSteps. Undefined for any other template.
 */
function constantOf(parsed: ParsedTemplates, name: string): CompiledTemplate['constant'] {
  const root = parsed.trees.get(name);
  if (!root || parsed.trees.size !== 1) return undefined;
  const prefix = root.nodes.slice(0, PREFIX_ACTIONS);
  const own = root.nodes.slice(PREFIX_ACTIONS);
  if (prefix.length !== PREFIX_ACTIONS || prefix.some((n) => n.kind !== 'action')) return undefined;
  let text = '';
  for (const n of own) {
    if (n.kind !== 'text') return undefined;
    text += n.text;
  }
  return { text, steps: 1 + 2 * PREFIX_ACTIONS + own.length };
}

/** expand executes a compiled template over the alert's data; rejects with TemplateError when execution fails. */
export async function expand(
  t: CompiledTemplate,
  data: TemplateData,
  opts: ExpandOptions = {},
): Promise<string> {
  // A plain-text template (most runbook URLs) says the same whatever the alert: executing its tree would only
  // evaluate TEMPLATE_PREFIX's declarations. Past a bound, execution runs, to fail as it would.
  const constant = t.constant;
  if (
    constant !== undefined &&
    constant.steps <= (opts.maxSteps ?? DEFAULT_EXPAND_LIMITS.maxSteps) &&
    utf8Length(constant.text) <= (opts.maxOutputBytes ?? DEFAULT_EXPAND_LIMITS.maxOutputBytes)
  )
    return constant.text;
  const dot = new GoAlertData(
    GoMap.fromLabels(data.labels),
    GoMap.fromLabels(data.externalLabels ?? {}),
    data.externalURL ?? opts.externalURL ?? '',
    data.value,
  );
  const query = opts.query;
  const env: CallEnv = {
    query: query ? (q) => query(q, opts.timestamp) : undefined,
    externalURL: opts.externalURL,
  };
  const limits = {
    maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_EXPAND_LIMITS.maxOutputBytes,
    maxSteps: opts.maxSteps ?? DEFAULT_EXPAND_LIMITS.maxSteps,
    maxTemplateDepth: opts.maxTemplateDepth ?? DEFAULT_EXPAND_LIMITS.maxTemplateDepth,
  };
  return new Execution(t, env, limits).run(dot);
}

/**
 * expandAnnotation expands as Prometheus expands a rule's label or annotation: the text, or on failure
 * Prometheus's `<error expanding template: …>` text together with the error (for the rule's lastError).
 */
export async function expandAnnotation(
  t: CompiledTemplate,
  data: TemplateData,
  opts: ExpandOptions = {},
): Promise<{ text: string; error?: TemplateError }> {
  try {
    return { text: await expand(t, data, opts) };
  } catch (err) {
    if (err instanceof TemplateError) return { text: err.expansionText, error: err };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Execution (Go's text/template/exec.go, walk by walk)

/** MISSING marks "no value from a previous pipeline stage" (Go's missingVal). */
const MISSING = Symbol('missing');
type Final = GoValue | typeof MISSING;

/** LoopSignal unwinds a `{{break}}` or `{{continue}}` to its range (never escapes an expansion). */
class LoopSignal extends Error {
  constructor(readonly kind: 'break' | 'continue') {
    super(`{{${kind}}} outside {{range}}`);
  }
}

type AnyNode = Node | ArgNode | CommandNode;

interface Limits {
  readonly maxOutputBytes: number;
  readonly maxSteps: number;
  readonly maxTemplateDepth: number;
}

/** Execution is one expansion: the variable stack, the current node (for errors), the output and the budgets. */
class Execution {
  private vars: { name: string; value: GoValue }[] = [];
  private node: AnyNode | undefined;
  private current: string;
  private depth = 0;
  private steps = 0;
  private readonly out: string[] = [];
  private outBytes = 0;

  constructor(
    private readonly tmpl: CompiledTemplate,
    private readonly env: CallEnv,
    private readonly limits: Limits,
  ) {
    this.current = tmpl.name;
  }

  async run(dot: GoValue): Promise<string> {
    const root = this.tmpl.parsed.trees.get(this.tmpl.name) as ListNode;
    this.vars = [{ name: '$', value: dot }];
    await this.walk(dot, root);
    return this.out.join('');
  }

  // --- errors and bounds

  private fail(code: TemplateErrorCode, msg: string): never {
    const name = quote(this.current);
    const where = this.node
      ? `template: ${this.tmpl.name}:${errorLocation(this.tmpl.parsed.text, this.node.pos)}: executing ${name} at <${nodeString(this.node)}>: `
      : `template: ${this.tmpl.name}: `;
    throw new TemplateError(
      code,
      this.tmpl.name,
      `error executing template ${this.tmpl.name}: ${where}${msg}`,
    );
  }

  private errorf(msg: string): never {
    this.fail('OM_TEMPLATE_EXECUTION', msg);
  }

  private at(node: AnyNode): void {
    this.node = node;
  }

  private tick(): void {
    if (++this.steps > this.limits.maxSteps)
      this.fail('OM_TEMPLATE_LIMIT', `template evaluation exceeds ${this.limits.maxSteps} steps`);
  }

  private checkSize(v: GoValue): void {
    if (
      typeof v === 'string' &&
      v.length > this.limits.maxOutputBytes &&
      utf8Length(v) > this.limits.maxOutputBytes
    )
      this.fail(
        'OM_TEMPLATE_LIMIT',
        `a value of ${utf8Length(v)} bytes exceeds the ${this.limits.maxOutputBytes}-byte limit`,
      );
  }

  private write(s: string): void {
    this.outBytes += utf8Length(s);
    if (this.outBytes > this.limits.maxOutputBytes)
      this.fail('OM_TEMPLATE_LIMIT', `template output exceeds the ${this.limits.maxOutputBytes}-byte limit`);
    this.out.push(s);
  }

  // --- variables

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // --- walking the tree

  private async walk(dot: GoValue, node: Node): Promise<void> {
    this.tick();
    this.at(node);
    switch (node.kind) {
      case 'action': {
        const val = await this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) {
          this.at(node);
          this.write(printTemplateValue(val));
        }
        return;
      }
      case 'if':
      case 'with':
        return this.walkIfOrWith(dot, node);
      case 'list':
        for (const n of node.nodes) await this.walk(dot, n);
        return;
      case 'range':
        return this.walkRange(dot, node);
      case 'template':
        return this.walkTemplate(dot, node);
      case 'text':
        this.write(node.text);
        return;
      case 'break':
      case 'continue':
        throw new LoopSignal(node.kind);
    }
  }

  private async walkIfOrWith(dot: GoValue, node: BranchNode): Promise<void> {
    const mark = this.vars.length;
    try {
      const val = await this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) await this.walk(node.kind === 'with' ? val : dot, node.list);
      else if (node.elseList) await this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private async walkRange(dot: GoValue, r: BranchNode): Promise<void> {
    this.at(r);
    const outer = this.vars.length;
    try {
      const val = await this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const iteration = async (index: GoValue, elem: GoValue): Promise<void> => {
        const [first, second] = r.pipe.decl;
        if (r.pipe.isAssign) {
          if (second) {
            this.setVar(first?.ident[0] ?? '', index);
            this.setVar(second.ident[0] ?? '', elem);
          } else if (first) this.setVar(first.ident[0] ?? '', elem);
        } else {
          const top = this.vars[this.vars.length - 1];
          const below = this.vars[this.vars.length - 2];
          if (first && top) top.value = elem;
          if (second && below) below.value = index;
        }
        try {
          await this.walk(elem, r.list);
        } catch (err) {
          if (!(err instanceof LoopSignal && err.kind === 'continue')) throw err;
        } finally {
          this.vars.length = mark;
        }
      };
      if (val instanceof GoQueryResult && val.samples.length > 0) {
        for (let i = 0; i < val.samples.length; i++) await iteration(BigInt(i), val.samples[i]);
        return;
      }
      if (val instanceof GoMap && val.entries.size > 0) {
        for (const k of val.sortedKeys()) await iteration(k, val.entries.get(k));
        return;
      }
      if (val !== undefined && !(val instanceof GoQueryResult) && !(val instanceof GoMap))
        this.errorf(`range can't iterate over ${formatValue(val, 'v')}`);
      if (r.elseList) await this.walk(dot, r.elseList);
    } catch (err) {
      if (!(err instanceof LoopSignal && err.kind === 'break')) throw err;
    } finally {
      this.vars.length = outer;
    }
  }

  private async walkTemplate(dot: GoValue, t: TemplateNode): Promise<void> {
    this.at(t);
    const tree = this.tmpl.parsed.trees.get(t.name);
    if (!tree) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= this.limits.maxTemplateDepth)
      this.fail('OM_TEMPLATE_LIMIT', `exceeded maximum template depth (${this.limits.maxTemplateDepth})`);
    // Variables declared by the pipeline persist in the caller; the callee sees only `$`.
    const newDot = await this.evalPipeline(dot, t.pipe);
    const saved = { vars: this.vars, current: this.current };
    this.vars = [{ name: '$', value: newDot }];
    this.current = t.name;
    this.depth++;
    try {
      await this.walk(newDot, tree);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.current = saved.current;
    }
  }

  // --- evaluating pipelines and commands

  private async evalPipeline(dot: GoValue, pipe: PipeNode | undefined): Promise<GoValue> {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = await this.evalCommand(dot, cmd, value);
    const result = value === MISSING ? undefined : value;
    for (const v of pipe.decl) {
      const name = v.ident[0] ?? '';
      if (pipe.isAssign) this.setVar(name, result);
      else this.vars.push({ name, value: result });
    }
    return result;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    const first = args[0];
    if (first && (args.length > 1 || final !== MISSING))
      this.errorf(`can't give argument to non-function ${nodeString(first)}`);
  }

  private async evalCommand(dot: GoValue, cmd: CommandNode, final: Final): Promise<GoValue> {
    this.tick();
    const first = cmd.args[0] as ArgNode;
    switch (first.kind) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  /** idealConstant types an untyped number by its spelling: `1` is an int, `1.0` and `1e3` are float64. */
  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    const hexInt = /^[+-]?0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    const rune = n.text.startsWith("'");
    if (n.isFloat && !hexInt && !rune && /[.eEpP]/.test(n.text)) return n.float;
    if (n.isInt) return n.int;
    if (n.isUint) this.errorf(`${n.text} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: readonly ArgNode[], final: Final): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, field.ident, args, final);
  }

  private async evalChainNode(
    dot: GoValue,
    chain: ChainNode,
    args: readonly ArgNode[] | undefined,
    final: Final,
  ): Promise<GoValue> {
    this.at(chain);
    if (chain.node.kind === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const receiver = await this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(receiver ?? undefined, chain.field, args, final);
  }

  private evalVariableNode(
    dot: GoValue,
    variable: VariableNode,
    args: readonly ArgNode[] | undefined,
    final: Final,
  ): GoValue {
    this.at(variable);
    const value = this.varValue(variable.ident[0] ?? '');
    if (variable.ident.length === 1) {
      this.notAFunction(args ?? [], final);
      return value;
    }
    return this.evalFieldChain(value, variable.ident.slice(1), args, final);
  }

  /** evalFieldChain walks `.X.Y.Z` from a receiver; only the last field sees the command's arguments. */
  private evalFieldChain(
    receiver: GoValue,
    ident: readonly string[],
    args: readonly ArgNode[] | undefined,
    final: Final,
  ): GoValue {
    let r = receiver;
    for (let i = 0; i < ident.length - 1; i++) r = this.evalField(ident[i] ?? '', undefined, MISSING, r);
    return this.evalField(ident[ident.length - 1] ?? '', args, final, r);
  }

  /** evalField reads a struct field or a map entry (a missing key is the map's zero value: missingkey=zero). */
  private evalField(
    fieldName: string,
    args: readonly ArgNode[] | undefined,
    final: Final,
    receiver: GoValue,
  ): GoValue {
    if (receiver === undefined) return undefined;
    const hasArgs = (args?.length ?? 0) > 1 || final !== MISSING;
    if (receiver instanceof GoAlertData || receiver instanceof GoSample) {
      const fields: [string, GoValue][] =
        receiver instanceof GoSample
          ? [
              ['Labels', receiver.labels],
              ['Value', receiver.value],
            ]
          : receiver.fields();
      const field = fields.find(([n]) => n === fieldName);
      if (field) {
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        return field[1];
      }
    } else if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      return receiver.entries.get(fieldName) ?? (receiver.elem === 'string' ? '' : undefined);
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${goTypeName(receiver)}`);
  }

  private evalFunction(
    dot: GoValue,
    node: IdentifierNode,
    cmd: AnyNode,
    args: readonly ArgNode[] | undefined,
    final: Final,
  ): Promise<GoValue> {
    this.at(node);
    const fn = FUNCTIONS.get(node.ident);
    if (!fn) this.errorf(`${quote(node.ident)} is not a defined function`);
    return this.evalCall(dot, fn, cmd, node.ident, args, final);
  }

  /** evalCall checks the arity, evaluates the arguments against the Go signature, and calls. */
  private async evalCall(
    dot: GoValue,
    fn: TemplateFunction,
    node: AnyNode,
    name: string,
    allArgs: readonly ArgNode[] | undefined,
    final: Final,
  ): Promise<GoValue> {
    const args = allArgs ? allArgs.slice(1) : [];
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    let numFixed = args.length;
    if (fn.variadic) {
      numFixed = fn.params.length;
      if (numIn < numFixed)
        this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }
    if (fn.stopAt !== undefined) {
      // and/or: evaluate operands only until one decides the result.
      const seen: GoValue[] = [];
      for (const arg of args) {
        const v = (await this.evalArg(dot, 'any', arg)) ?? undefined;
        if (isTrue(v) === fn.stopAt) return v;
        seen.push(v);
      }
      if (final !== MISSING) seen.push(final);
      return fn.call(seen, this.env);
    }
    const argv: Arg[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++)
      argv.push(await this.evalArg(dot, fn.params[i], args[i] as ArgNode));
    if (fn.variadic)
      for (; i < args.length; i++) argv.push(await this.evalArg(dot, fn.variadic, args[i] as ArgNode));
    if (final !== MISSING) {
      const t = fn.variadic
        ? numIn - 1 < numFixed
          ? (fn.params[numIn - 1] as ParamType)
          : fn.variadic
        : (fn.params[fn.params.length - 1] as ParamType);
      argv.push(this.validateType(final, t));
    }
    let result: GoValue;
    try {
      result = await fn.call(argv, this.env);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      this.at(node);
      this.errorf(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.checkSize(result);
    return result;
  }

  /** validateType checks a computed argument against the parameter type (Go's assignability, nil rules). */
  private validateType(value: GoValue, t: ParamType | undefined): Arg {
    if (value === undefined) {
      if (t === undefined || t === 'any') return undefined;
      if (t === 'sample' || t === 'queryResult') return null;
      this.errorf(`invalid value; expected ${PARAM_TYPE_NAMES[t]}`);
    }
    if (t === undefined || t === 'any') return value;
    if (t === 'string' && typeof value === 'string') return value;
    if (t === 'sample' && value instanceof GoSample) return value;
    if (t === 'queryResult' && value instanceof GoQueryResult) return value;
    this.errorf(`wrong type for value; expected ${PARAM_TYPE_NAMES[t]}; got ${goTypeName(value)}`);
  }

  /** evalArg evaluates one argument for a parameter type (Go's evalArg); literals are typed by the parameter. */
  private async evalArg(dot: GoValue, t: ParamType | undefined, n: ArgNode): Promise<Arg> {
    this.at(n);
    switch (n.kind) {
      case 'dot':
        return this.validateType(dot, t);
      case 'nil':
        if (t === undefined || t === 'any') return undefined;
        if (t === 'sample' || t === 'queryResult') return null;
        return this.errorf(`cannot assign nil to ${PARAM_TYPE_NAMES[t]}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), t);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, undefined, MISSING), t);
      case 'pipe':
        return this.validateType(await this.evalPipeline(dot, n), t);
      case 'identifier':
        return this.validateType(await this.evalFunction(dot, n, n, undefined, MISSING), t);
      case 'chain':
        return this.validateType(await this.evalChainNode(dot, n, undefined, MISSING), t);
    }
    if (t === 'any' || t === undefined) {
      switch (n.kind) {
        case 'bool':
          return n.value;
        case 'number':
          return this.idealConstant(n);
        case 'string':
          return n.text;
      }
    }
    if (t === 'string') {
      if (n.kind === 'string') return n.text;
      return this.errorf(`expected string; found ${nodeString(n)}`);
    }
    return this.errorf(`can't handle ${nodeString(n)} for arg of type ${PARAM_TYPE_NAMES[t as ParamType]}`);
  }
}
