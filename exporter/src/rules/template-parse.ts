/**
 * The syntax of Go's text/template as Prometheus 2.42 (built with Go 1.19) parses rule templates: a lexer and a
 * recursive-descent parser that accept the same texts, build the same tree and reject the rest with Go's
 * messages (`template: NAME:LINE: function "foo" not defined`, `unexpected {{end}}`, `missing value for if`,
 * `undefined variable "$x"`), so a rule file that Prometheus loads loads here and vice versa.
 *
 * Positions are UTF-16 indexes into the template text; `byteColumn` turns one into the UTF-8 byte column Go
 * reports in execution errors.
 */
import { parseGoFloat, quote } from './go-fmt.js';

// ---------------------------------------------------------------------------------------------------------
// Tokens

type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'eof'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  | Keyword;

type Keyword =
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

const KEYWORDS: ReadonlyMap<string, Keyword> = new Map<string, Keyword>([
  ['.', 'dot'],
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['range', 'range'],
  ['nil', 'nil'],
  ['template', 'template'],
  ['with', 'with'],
]);

interface Item {
  readonly typ: ItemType;
  readonly pos: number;
  readonly val: string;
  readonly line: number;
}

/** itemString prints a token as Go's parse errors name it: `EOF`, `<if>`, `"abc"`, `"aaaaaaaaaa"...`. */
function itemString(i: Item): string {
  if (i.typ === 'eof') return 'EOF';
  if (i.typ === 'error') return i.val;
  if (KEYWORDS.has(i.val) && i.typ === KEYWORDS.get(i.val)) return `<${i.val}>`;
  const runes = [...i.val];
  if (runes.length > 10) return quote(runes.slice(0, 10).join('')) + '...';
  return quote(i.val);
}

const SPACE = ' \t\r\n';
const isSpace = (c: string | undefined): boolean => c !== undefined && c !== '' && SPACE.includes(c);
const isAlphaNumeric = (c: string | undefined): boolean =>
  c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));

/** goRuneDesc formats a character as Go's `%#U` does: `U+0029 ')'`. */
function goRuneDesc(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c) ? `${hex} '${c}'` : hex;
}

/** Lexer splits a template into tokens (Go's text/template/parse/lex.go, state by state). */
class Lexer {
  private pos = 0;
  private start = 0;
  private parenDepth = 0;
  private state: 'text' | 'leftDelim' | 'action' | 'done' = 'text';
  private pendingError: string | undefined;
  private readonly newlines: number[] = [];

  constructor(private readonly input: string) {
    for (let i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) this.newlines.push(i);
  }

  /** lineAt is the 1-based line of a position. */
  lineAt(pos: number): number {
    let lo = 0;
    let hi = this.newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.newlines[mid] ?? 0) < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  nextItem(): Item {
    if (this.pendingError !== undefined) return this.errorf(this.pendingError);
    switch (this.state) {
      case 'text':
        return this.lexText();
      case 'leftDelim':
        return this.lexLeftDelim();
      case 'action':
        return this.lexInsideAction();
      case 'done':
        return this.item('eof', this.pos, '');
    }
  }

  private item(typ: ItemType, pos: number, val: string): Item {
    return { typ, pos, val, line: this.lineAt(pos) };
  }

  private emit(typ: ItemType): Item {
    const it = this.item(typ, this.start, this.input.slice(this.start, this.pos));
    this.start = this.pos;
    return it;
  }

  private errorf(msg: string): Item {
    const it = this.item('error', this.start, msg);
    this.state = 'done';
    this.pendingError = undefined;
    return it;
  }

  private next(): string | undefined {
    if (this.pos >= this.input.length) {
      this.pos = this.input.length + 1; // past the end, so backup() returns to the end
      return undefined;
    }
    const cp = this.input.codePointAt(this.pos) ?? 0;
    const ch = String.fromCodePoint(cp);
    this.pos += ch.length;
    return ch;
  }

  private backup(ch: string | undefined): void {
    this.pos -= ch === undefined ? 1 : ch.length;
  }

  private peek(): string | undefined {
    const ch = this.next();
    this.backup(ch);
    return ch;
  }

  private accept(valid: string): boolean {
    const ch = this.next();
    if (ch !== undefined && valid.includes(ch)) return true;
    this.backup(ch);
    return false;
  }

  private acceptRun(valid: string): void {
    for (;;) {
      const ch = this.next();
      if (ch === undefined || !valid.includes(ch)) {
        this.backup(ch);
        return;
      }
    }
  }

  private hasLeftTrimMarker(at: number): boolean {
    return this.input[at] === '-' && isSpace(this.input[at + 1]);
  }

  private hasRightTrimMarker(at: number): boolean {
    return isSpace(this.input[at]) && this.input[at + 1] === '-';
  }

  /** atRightDelim reports whether `}}` (or ` -}}`) starts here, and whether it trims. */
  private atRightDelim(): { delim: boolean; trim: boolean } {
    if (this.hasRightTrimMarker(this.pos) && this.input.startsWith('}}', this.pos + 2))
      return { delim: true, trim: true };
    return { delim: this.input.startsWith('}}', this.pos), trim: false };
  }

  private leftTrimLength(at: number): number {
    let i = at;
    while (isSpace(this.input[i])) i++;
    return i - at;
  }

  private lexText(): Item {
    const x = this.input.indexOf('{{', this.pos);
    if (x < 0) {
      this.pos = this.input.length;
      this.state = 'done';
      if (this.pos > this.start) return this.emit('text');
      return this.item('eof', this.pos, '');
    }
    let end = x;
    if (this.hasLeftTrimMarker(x + 2)) while (end > this.start && isSpace(this.input[end - 1])) end--;
    const text = this.item('text', this.start, this.input.slice(this.start, end));
    this.pos = x;
    this.start = x;
    this.state = 'leftDelim';
    return text.val.length > 0 ? text : this.lexLeftDelim();
  }

  private lexLeftDelim(): Item {
    this.pos += 2;
    const afterMarker = this.hasLeftTrimMarker(this.pos) ? 2 : 0;
    if (this.input.startsWith('/*', this.pos + afterMarker)) {
      this.pos += afterMarker;
      this.start = this.pos;
      return this.lexComment();
    }
    const it = this.emit('leftDelim');
    this.pos += afterMarker;
    this.start = this.pos;
    this.parenDepth = 0;
    this.state = 'action';
    return it;
  }

  private lexComment(): Item {
    this.pos += 2;
    const x = this.input.indexOf('*/', this.pos);
    if (x < 0) return this.errorf('unclosed comment');
    this.pos = x + 2;
    const { delim, trim } = this.atRightDelim();
    if (!delim) return this.errorf('comment ends before closing delimiter');
    this.pos += (trim ? 2 : 0) + 2;
    if (trim) this.pos += this.leftTrimLength(this.pos);
    this.start = this.pos;
    this.state = 'text';
    return this.lexText();
  }

  private lexRightDelim(): Item {
    const { trim } = this.atRightDelim();
    if (trim) {
      this.pos += 2;
      this.start = this.pos;
    }
    this.pos += 2;
    const it = this.emit('rightDelim');
    if (trim) {
      this.pos += this.leftTrimLength(this.pos);
      this.start = this.pos;
    }
    this.state = 'text';
    return it;
  }

  private lexInsideAction(): Item {
    if (this.atRightDelim().delim) {
      if (this.parenDepth === 0) return this.lexRightDelim();
      return this.errorf('unclosed left paren');
    }
    const r = this.next();
    if (r === undefined) return this.errorf('unclosed action');
    if (isSpace(r)) {
      this.backup(r);
      return this.lexSpace();
    }
    switch (r) {
      case '=':
        return this.emit('assign');
      case ':':
        if (this.next() !== '=') return this.errorf('expected :=');
        return this.emit('declare');
      case '|':
        return this.emit('pipe');
      case '"':
        return this.lexQuote();
      case '`':
        return this.lexRawQuote();
      case '$':
        return this.lexVariable();
      case "'":
        return this.lexChar();
      case '(':
        this.parenDepth++;
        return this.emit('leftParen');
      case ')':
        // Go 1.19 hands the parser the `)` before the error, so the parser's complaint comes first.
        this.parenDepth--;
        if (this.parenDepth < 0) this.pendingError = `unexpected right paren ${goRuneDesc(r)}`;
        return this.emit('rightParen');
    }
    if (r === '.') {
      const n = this.input[this.pos];
      if (this.pos < this.input.length && n !== undefined && (n < '0' || n > '9'))
        return this.lexFieldOrVariable('field');
    }
    if (r === '.' || r === '+' || r === '-' || (r >= '0' && r <= '9')) {
      this.backup(r);
      return this.lexNumber();
    }
    if (isAlphaNumeric(r)) {
      this.backup(r);
      return this.lexIdentifier();
    }
    const cp = r.codePointAt(0) ?? 0;
    if (cp < 0x7f && cp >= 0x20) return this.emit('char');
    return this.errorf(`unrecognized character in action: ${goRuneDesc(r)}`);
  }

  private lexSpace(): Item {
    let n = 0;
    while (isSpace(this.peek())) {
      this.next();
      n++;
    }
    if (this.hasRightTrimMarker(this.pos - 1) && this.input.startsWith('}}', this.pos + 1)) {
      this.pos--;
      if (n === 1) return this.lexRightDelim();
    }
    return this.emit('space');
  }

  /** atTerminator: what may follow an identifier (Go 1.19 also accepts the first rune of `}}`). */
  private atTerminator(): boolean {
    const r = this.peek();
    if (r === undefined || isSpace(r)) return true;
    return '.,|:)(}'.includes(r);
  }

  private lexIdentifier(): Item {
    for (;;) {
      const r = this.next();
      if (isAlphaNumeric(r)) continue;
      this.backup(r);
      const word = this.input.slice(this.start, this.pos);
      if (!this.atTerminator()) return this.errorf(`bad character ${goRuneDesc(r ?? '')}`);
      const kw = KEYWORDS.get(word);
      if (kw !== undefined && kw !== 'dot') return this.emit(kw);
      if (word === 'true' || word === 'false') return this.emit('bool');
      return this.emit('identifier');
    }
  }

  private lexVariable(): Item {
    if (this.atTerminator()) return this.emit('variable');
    return this.lexFieldOrVariable('variable');
  }

  private lexFieldOrVariable(typ: 'field' | 'variable'): Item {
    if (this.atTerminator()) return this.emit(typ === 'variable' ? 'variable' : 'dot');
    let r: string | undefined;
    for (;;) {
      r = this.next();
      if (!isAlphaNumeric(r)) {
        this.backup(r);
        break;
      }
    }
    if (!this.atTerminator()) return this.errorf(`bad character ${goRuneDesc(r ?? '')}`);
    return this.emit(typ);
  }

  private lexChar(): Item {
    for (;;) {
      const r = this.next();
      if (r === '\\') {
        const e = this.next();
        if (e !== undefined && e !== '\n') continue;
        return this.errorf('unterminated character constant');
      }
      if (r === undefined || r === '\n') return this.errorf('unterminated character constant');
      if (r === "'") return this.emit('charConstant');
    }
  }

  private lexNumber(): Item {
    if (!this.scanNumber())
      return this.errorf(`bad number syntax: ${quote(this.input.slice(this.start, this.pos))}`);
    const sign = this.peek();
    if (sign === '+' || sign === '-') {
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i')
        return this.errorf(`bad number syntax: ${quote(this.input.slice(this.start, this.pos))}`);
      return this.emit('complex');
    }
    return this.emit('number');
  }

  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }

  private lexQuote(): Item {
    for (;;) {
      const r = this.next();
      if (r === '\\') {
        const e = this.next();
        if (e !== undefined && e !== '\n') continue;
        return this.errorf('unterminated quoted string');
      }
      if (r === undefined || r === '\n') return this.errorf('unterminated quoted string');
      if (r === '"') return this.emit('string');
    }
  }

  private lexRawQuote(): Item {
    for (;;) {
      const r = this.next();
      if (r === undefined) return this.errorf('unterminated raw quoted string');
      if (r === '`') return this.emit('rawString');
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Literals (strconv.Unquote, UnquoteChar, ParseInt)

/** unquoteChar decodes one (possibly escaped) character of a Go literal; undefined for bad syntax. */
function unquoteChar(
  s: string,
  i: number,
  q: string,
): { value: number; multibyte: boolean; next: number } | undefined {
  const c = s[i];
  if (c === undefined) return undefined;
  if (c === q && (q === "'" || q === '"')) return undefined;
  if (c !== '\\') {
    const cp = s.codePointAt(i) ?? 0;
    return { value: cp, multibyte: true, next: i + String.fromCodePoint(cp).length };
  }
  const e = s[i + 1];
  if (e === undefined) return undefined;
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
  const sv = simple[e];
  if (sv !== undefined) return { value: sv, multibyte: false, next: i + 2 };
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    const hex = s.slice(i + 2, i + 2 + n);
    if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
    const v = parseInt(hex, 16);
    if (e === 'x') return { value: v, multibyte: false, next: i + 2 + n };
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
    return { value: v, multibyte: true, next: i + 2 + n };
  }
  if (e >= '0' && e <= '7') {
    const oct = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(oct)) return undefined;
    const v = parseInt(oct, 8);
    if (v > 255) return undefined;
    return { value: v, multibyte: false, next: i + 4 };
  }
  if (e === "'" || e === '"') {
    if (e !== q) return undefined;
    return { value: e.charCodeAt(0), multibyte: false, next: i + 2 };
  }
  return undefined;
}

/** unquote is Go's strconv.Unquote for "…" and `…` literals; undefined for bad syntax. */
function unquote(lit: string): string | undefined {
  const q = lit[0];
  if (lit.length < 2 || q !== lit[lit.length - 1]) return undefined;
  const body = lit.slice(1, -1);
  if (q === '`') return body.includes('`') ? undefined : body.replace(/\r/g, '');
  if (q !== '"' || body.includes('\n')) return undefined;
  // Escapes \x.. and \ooo are bytes (they may combine into UTF-8); the rest are runes.
  const bytes: number[] = [];
  for (let i = 0; i < body.length;) {
    const c = unquoteChar(body, i, '"');
    if (!c) return undefined;
    if (c.multibyte) bytes.push(...Buffer.from(String.fromCodePoint(c.value), 'utf8'));
    else bytes.push(c.value);
    i = c.next;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** parseGoInt is strconv.ParseInt/ParseUint with base 0 (prefixes 0x 0o 0b 0, underscores); undefined if bad. */
function parseGoInt(text: string, signed: boolean): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    if (!signed) return undefined;
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  let digits = s;
  if (/^0[xX]/.test(s)) [base, digits] = [16, s.slice(2)];
  else if (/^0[oO]/.test(s)) [base, digits] = [8, s.slice(2)];
  else if (/^0[bB]/.test(s)) [base, digits] = [2, s.slice(2)];
  else if (s.length > 1 && s[0] === '0') [base, digits] = [8, s.slice(1)];
  if (digits.includes('_')) {
    if (!/^(?:[0-9a-fA-F]+_?)*[0-9a-fA-F]+$/.test(digits.replace(/^_/, base === 10 ? '!' : '')))
      return undefined;
    digits = digits.replace(/_/g, '');
  }
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base];
  if (!valid?.test(digits)) return undefined;
  const prefix = { 2: '0b', 8: '0o', 10: '', 16: '0x' }[base] ?? '';
  let v = BigInt(prefix + digits);
  if (neg) v = -v;
  const limit = signed ? 1n << 63n : 1n << 64n;
  if (v >= limit || v < (signed ? -limit : 0n)) return undefined;
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// Nodes

/** TextNode is plain text between actions. */
export interface TextNode {
  readonly kind: 'text';
  readonly pos: number;
  readonly text: string;
}
/** IdentifierNode names a function. */
export interface IdentifierNode {
  readonly kind: 'identifier';
  readonly pos: number;
  readonly ident: string;
}
/** DotNode is the cursor `.`. */
export interface DotNode {
  readonly kind: 'dot';
  readonly pos: number;
}
/** NilNode is the untyped `nil`. */
export interface NilNode {
  readonly kind: 'nil';
  readonly pos: number;
}
/** BoolNode is `true` or `false`. */
export interface BoolNode {
  readonly kind: 'bool';
  readonly pos: number;
  readonly value: boolean;
}
/** NumberNode is a numeric or character constant with every Go interpretation it admits. */
export interface NumberNode {
  readonly kind: 'number';
  readonly pos: number;
  readonly text: string;
  readonly isInt: boolean;
  readonly isUint: boolean;
  readonly isFloat: boolean;
  readonly int: bigint;
  readonly float: number;
}
/** StringNode is a quoted or raw string: `quoted` as written, `text` unquoted. */
export interface StringNode {
  readonly kind: 'string';
  readonly pos: number;
  readonly quoted: string;
  readonly text: string;
}
/** FieldNode is `.A.B`: fields of the cursor. */
export interface FieldNode {
  readonly kind: 'field';
  readonly pos: number;
  readonly ident: readonly string[];
}
/** VariableNode is `$x.A.B`: a variable and fields of it. */
export interface VariableNode {
  readonly kind: 'variable';
  readonly pos: number;
  readonly ident: readonly string[];
}
/** ChainNode is `(pipeline).A.B` or `fn.A`: fields of a computed value. */
export interface ChainNode {
  readonly kind: 'chain';
  readonly pos: number;
  readonly node: ArgNode;
  readonly field: readonly string[];
}
/** CommandNode is one stage of a pipeline: an operand or a function with arguments. */
export interface CommandNode {
  readonly kind: 'command';
  readonly pos: number;
  readonly args: ArgNode[];
}
/** PipeNode is a pipeline with optional declarations (`$x :=`) or assignments (`$x =`). */
export interface PipeNode {
  readonly kind: 'pipe';
  readonly pos: number;
  readonly isAssign: boolean;
  readonly decl: VariableNode[];
  readonly cmds: CommandNode[];
}
/** ArgNode is anything that may stand as an operand. */
export type ArgNode =
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | FieldNode
  | VariableNode
  | ChainNode
  | PipeNode;

/** ListNode is a sequence of nodes. */
export interface ListNode {
  readonly kind: 'list';
  readonly pos: number;
  readonly nodes: Node[];
}
/** ActionNode is `{{pipeline}}`: printed unless it declares variables. */
export interface ActionNode {
  readonly kind: 'action';
  readonly pos: number;
  readonly pipe: PipeNode;
}
/** BranchNode is `{{if}}`, `{{range}}` or `{{with}}` with its lists. */
export interface BranchNode {
  readonly kind: 'if' | 'range' | 'with';
  readonly pos: number;
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList: ListNode | undefined;
}
/** TemplateNode is `{{template "name" pipeline}}`. */
export interface TemplateNode {
  readonly kind: 'template';
  readonly pos: number;
  readonly name: string;
  readonly pipe: PipeNode | undefined;
}
/** LoopControlNode is `{{break}}` or `{{continue}}` inside a range. */
export interface LoopControlNode {
  readonly kind: 'break' | 'continue';
  readonly pos: number;
}
/** Node is a node of a template body. */
export type Node = TextNode | ActionNode | BranchNode | TemplateNode | LoopControlNode | ListNode;

/** EndOrElse is what ends an item list while parsing; never part of a finished tree. */
interface EndOrElse {
  readonly kind: 'end' | 'else';
  readonly pos: number;
}

function isEndOrElse(n: Node | EndOrElse): n is EndOrElse {
  return n.kind === 'end' || n.kind === 'else';
}

/** nodeString prints a node as Go's Node.String() does; execution errors quote it as `at <…>`. */
export function nodeString(n: Node | ArgNode | CommandNode | EndOrElse): string {
  switch (n.kind) {
    case 'text':
      return n.text;
    case 'identifier':
      return n.ident;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'field':
      return n.ident.map((i) => '.' + i).join('');
    case 'variable':
      return n.ident.join('.');
    case 'chain':
      return (
        (n.node.kind === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) +
        n.field.map((f) => '.' + f).join('')
      );
    case 'command':
      return n.args.map((a) => (a.kind === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'pipe':
      return (
        (n.decl.length > 0 ? n.decl.map(nodeString).join(', ') + ' := ' : '') +
        n.cmds.map(nodeString).join(' | ')
      );
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'if':
    case 'range':
    case 'with':
      return (
        `{{${n.kind} ${nodeString(n.pipe)}}}${nodeString(n.list)}` +
        (n.elseList ? `{{else}}${nodeString(n.elseList)}` : '') +
        '{{end}}'
      );
    case 'template':
      return n.pipe ? `{{template ${quote(n.name)} ${nodeString(n.pipe)}}}` : `{{template ${quote(n.name)}}}`;
    case 'break':
    case 'continue':
    case 'end':
    case 'else':
      return `{{${n.kind}}}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parser

/** MAX_PAREN_DEPTH bounds nested parentheses (Go's parser has a like bound; ours protects the JS stack). */
const MAX_PAREN_DEPTH = 1000;

/** TemplateParseError is a syntax error; `message` is Go's (`template: NAME:LINE: reason`). */
export class TemplateParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'TemplateParseError';
  }
}

/** ParsedTemplates are the trees of one template text: the main one under its name, plus `define`d ones. */
export interface ParsedTemplates {
  readonly text: string;
  readonly trees: ReadonlyMap<string, ListNode>;
}

/** isEmptyTree reports whether a tree holds nothing but whitespace (such a tree may be redefined). */
function isEmptyTree(n: Node): boolean {
  if (n.kind === 'list') return n.nodes.every(isEmptyTree);
  if (n.kind === 'text') return n.text.trim() === '';
  return false;
}

/** Tree parses one template body (Go's parse.Tree); `define` and `block` start nested trees on the same lexer. */
class Tree {
  private vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;
  private parenDepth = 0;

  constructor(
    private name: string,
    private readonly parseName: string,
    private readonly p: TokenStream,
    private readonly treeSet: Map<string, ListNode>,
    private readonly hasFunction: (name: string) => boolean,
  ) {}

  private errorf(msg: string): never {
    const line = this.p.lastLine();
    throw new TemplateParseError(`template: ${this.parseName}:${line}: ${msg}`, line);
  }

  private unexpected(token: Item, context: string): never {
    if (token.typ === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(token.val + extra);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  private expect(typ: ItemType, context: string): Item {
    const token = this.p.nextNonSpace();
    if (token.typ !== typ) this.unexpected(token, context);
    return token;
  }

  /** parseMain parses the top-level template to EOF, with `define`s allowed at top level only. */
  parseMain(): void {
    const root: ListNode = { kind: 'list', pos: this.p.peek().pos, nodes: [] };
    while (this.p.peek().typ !== 'eof') {
      if (this.p.peek().typ === 'leftDelim') {
        const delim = this.p.next();
        if (this.p.nextNonSpace().typ === 'define') {
          new Tree('definition', this.parseName, this.p, this.treeSet, this.hasFunction).parseDefinition();
          continue;
        }
        this.p.backup2(delim);
      }
      const n = this.textOrAction();
      if (isEndOrElse(n)) return this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    this.add(root);
  }

  private add(root: ListNode): void {
    const existing = this.treeSet.get(this.name);
    if (existing === undefined || isEmptyTree(existing)) {
      this.treeSet.set(this.name, root);
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${quote(this.name)}`);
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const token = this.p.nextNonSpace();
    if (token.typ !== 'string' && token.typ !== 'rawString') this.unexpected(token, context);
    const name = unquote(token.val);
    if (name === undefined) this.errorf('invalid syntax');
    this.name = name;
    this.expect('rightDelim', context);
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.add(list);
  }

  private itemList(): [ListNode, EndOrElse] {
    const list: ListNode = { kind: 'list', pos: this.p.peekNonSpace().pos, nodes: [] };
    while (this.p.peekNonSpace().typ !== 'eof') {
      const n = this.textOrAction();
      if (isEndOrElse(n)) return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node | EndOrElse {
    const token = this.p.nextNonSpace();
    switch (token.typ) {
      case 'text':
        return { kind: 'text', pos: token.pos, text: token.val };
      case 'leftDelim':
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      default:
        this.unexpected(token, 'input');
    }
  }

  private action(): Node | EndOrElse {
    const token = this.p.nextNonSpace();
    switch (token.typ) {
      case 'block':
        return this.blockControl();
      case 'break':
      case 'continue': {
        const t = this.p.nextNonSpace();
        if (t.typ !== 'rightDelim') this.unexpected(t, `{{${token.typ}}}`);
        if (this.rangeDepth === 0) this.errorf(`{{${token.typ}}} outside {{range}}`);
        return { kind: token.typ, pos: token.pos };
      }
      case 'else':
        return this.elseControl();
      case 'end':
        this.expect('rightDelim', 'end');
        return { kind: 'end', pos: token.pos };
      case 'if':
      case 'range':
      case 'with':
        return this.control(token.typ);
      case 'template':
        return this.templateControl();
    }
    this.p.backup();
    const first = this.p.peek();
    return { kind: 'action', pos: first.pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private elseControl(): EndOrElse {
    const peek = this.p.peekNonSpace();
    if (peek.typ === 'if') return { kind: 'else', pos: peek.pos };
    const token = this.expect('rightDelim', 'else');
    return { kind: 'else', pos: token.pos };
  }

  private control(kind: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(kind, 'rightDelim');
      if (kind === 'range') this.rangeDepth++;
      let list: ListNode;
      let next: EndOrElse;
      try {
        [list, next] = this.itemList();
      } finally {
        if (kind === 'range') this.rangeDepth--;
      }
      let elseList: ListNode | undefined;
      if (next.kind === 'else') {
        if (kind === 'if' && this.p.peek().typ === 'if') {
          // {{else if b}} is {{else}}{{if b}}…{{end}} sharing the one {{end}}.
          const ifItem = this.p.next();
          elseList = { kind: 'list', pos: ifItem.pos, nodes: [this.control('if')] };
        } else {
          [elseList, next] = this.itemList();
          if (next.kind !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return { kind, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const token = this.p.nextNonSpace();
    const name = this.templateName(token, context);
    const pipe = this.pipeline(context, 'rightDelim');
    const block = new Tree(name, this.parseName, this.p, this.treeSet, this.hasFunction);
    const [list, end] = block.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    block.add(list);
    return { kind: 'template', pos: token.pos, name, pipe };
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const token = this.p.nextNonSpace();
    const name = this.templateName(token, context);
    let pipe: PipeNode | undefined;
    if (this.p.nextNonSpace().typ !== 'rightDelim') {
      this.p.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { kind: 'template', pos: token.pos, name, pipe };
  }

  private templateName(token: Item, context: string): string {
    if (token.typ !== 'string' && token.typ !== 'rawString') this.unexpected(token, context);
    const s = unquote(token.val);
    if (s === undefined) this.errorf('invalid syntax');
    return s;
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const start = this.p.peekNonSpace();
    const pipe = {
      kind: 'pipe' as const,
      pos: start.pos,
      isAssign: false,
      decl: [] as VariableNode[],
      cmds: [] as CommandNode[],
    };
    for (;;) {
      const v = this.p.peekNonSpace();
      if (v.typ !== 'variable') break;
      this.p.next();
      const after = this.p.peek();
      const next = this.p.peekNonSpace();
      if (next.typ === 'assign' || next.typ === 'declare') {
        pipe.isAssign = next.typ === 'assign';
        this.p.nextNonSpace();
        pipe.decl.push(newVariable(v.pos, v.val));
        this.vars.push(v.val);
        break;
      }
      if (next.typ === 'char' && next.val === ',') {
        this.p.nextNonSpace();
        pipe.decl.push(newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.p.peekNonSpace().typ;
          if (t === 'variable' || t === 'rightDelim' || t === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      if (after.typ === 'space') this.p.backup3(v, after);
      else this.p.backup2(v);
      break;
    }
    for (;;) {
      const token = this.p.nextNonSpace();
      if (token.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (token.typ) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.p.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]?.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string')
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.p.peekNonSpace().pos, args: [] };
    for (;;) {
      this.p.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.p.next();
      if (token.typ === 'space') continue;
      if (token.typ === 'rightDelim' || token.typ === 'rightParen') this.p.backup();
      else if (token.typ !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.p.peek().typ !== 'field') return node;
    const pos = this.p.peek().pos;
    const fields: string[] = [];
    while (this.p.peek().typ === 'field') fields.push(this.p.next().val.slice(1));
    switch (node.kind) {
      case 'field':
        return { kind: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable':
        return { kind: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
      default:
        return { kind: 'chain', pos, node, field: fields };
    }
  }

  private term(): ArgNode | undefined {
    const token = this.p.nextNonSpace();
    switch (token.typ) {
      case 'identifier':
        if (!this.hasFunction(token.val)) this.errorf(`function ${quote(token.val)} not defined`);
        return { kind: 'identifier', pos: token.pos, ident: token.val };
      case 'dot':
        return { kind: 'dot', pos: token.pos };
      case 'nil':
        return { kind: 'nil', pos: token.pos };
      case 'variable': {
        const v = newVariable(token.pos, token.val);
        if (!this.vars.includes(v.ident[0] ?? ''))
          this.errorf(`undefined variable ${quote(v.ident[0] ?? '')}`);
        return v;
      }
      case 'field':
        return { kind: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case 'bool':
        return { kind: 'bool', pos: token.pos, value: token.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        return this.number(token);
      case 'leftParen': {
        if (this.parenDepth >= MAX_PAREN_DEPTH) this.errorf('max expression depth exceeded');
        this.parenDepth++;
        try {
          return this.pipeline('parenthesized pipeline', 'rightParen');
        } finally {
          this.parenDepth--;
        }
      }
      case 'string':
      case 'rawString': {
        const text = unquote(token.val);
        if (text === undefined) this.errorf('invalid syntax');
        return { kind: 'string', pos: token.pos, quoted: token.val, text };
      }
    }
    this.p.backup();
    return undefined;
  }

  /** number interprets a numeric token every way Go can (parse.newNumber). */
  private number(token: Item): NumberNode {
    const text = token.val;
    const base = { kind: 'number' as const, pos: token.pos, text };
    if (token.typ === 'charConstant') {
      const c = unquoteChar(text, 1, "'");
      if (!c) this.errorf('invalid syntax');
      if (text.slice(c.next) !== "'") this.errorf(`malformed character constant: ${text}`);
      return { ...base, isInt: true, isUint: true, isFloat: true, int: BigInt(c.value), float: c.value };
    }
    if (token.typ === 'complex' || text.endsWith('i'))
      this.errorf(`complex number ${quote(text)} is not supported in rule templates`);
    const u = parseGoInt(text, false);
    const i = parseGoInt(text, true);
    let isInt = i !== undefined;
    let isUint = u !== undefined || i === 0n;
    let int = i ?? 0n;
    let float = 0;
    let isFloat = false;
    if (isInt) {
      isFloat = true;
      float = Number(int);
    } else if (u !== undefined) {
      isFloat = true;
      float = Number(u);
    } else {
      let f: number | undefined;
      try {
        f = parseGoFloat(text);
      } catch {
        f = undefined;
      }
      if (f !== undefined) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${quote(text)}`);
        isFloat = true;
        float = f;
        if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
          isInt = true;
          int = BigInt(f);
        }
        if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) isUint = true;
      }
    }
    if (!isInt && !isUint && !isFloat) this.errorf(`illegal number syntax: ${quote(text)}`);
    return { ...base, isInt, isUint, isFloat, int, float };
  }
}

function newVariable(pos: number, name: string): VariableNode {
  return { kind: 'variable', pos, ident: name.split('.') };
}

/** TokenStream is the parser's three-token lookahead over the lexer (Go's Tree.next/peek/backup). */
class TokenStream {
  private readonly token: Item[] = [];
  private peekCount = 0;

  constructor(private readonly lex: Lexer) {}

  /** lastLine is the line of the most recently lexed token, the line Go's parse errors report. */
  lastLine(): number {
    return this.token[0]?.line ?? 1;
  }

  next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lex.nextItem();
    return this.token[this.peekCount] as Item;
  }

  backup(): void {
    this.peekCount++;
  }

  backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1] as Item;
    this.peekCount = 1;
    this.token[0] = this.lex.nextItem();
    return this.token[0];
  }

  nextNonSpace(): Item {
    for (;;) {
      const t = this.next();
      if (t.typ !== 'space') return t;
    }
  }

  peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }
}

/**
 * parseTemplate parses `text` as the template `name`, accepting calls only to functions for which
 * `hasFunction` is true; throws TemplateParseError with Go's message.
 */
export function parseTemplate(
  name: string,
  text: string,
  hasFunction: (fn: string) => boolean,
): ParsedTemplates {
  const trees = new Map<string, ListNode>();
  new Tree(name, name, new TokenStream(new Lexer(text)), trees, hasFunction).parseMain();
  return { text, trees };
}

/** errorLocation returns Go's `line:column` of a position: the column in UTF-8 bytes, 0-based as Go prints it. */
export function errorLocation(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  const line = before.split('\n').length;
  const col = nl < 0 ? Buffer.byteLength(before, 'utf8') : Buffer.byteLength(before.slice(nl + 1), 'utf8');
  return `${line}:${col}`;
}
