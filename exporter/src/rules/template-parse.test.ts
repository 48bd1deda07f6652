import { describe, expect, it } from 'vitest';
import {
  errorLocation,
  nodeString,
  parseTemplate,
  TemplateParseError,
  type ListNode,
} from './template-parse.js';

// Messages are Go 1.19's, as `promtool check rules` (Prometheus 2.42) prints them; template-promtool.test.ts
// compares a larger set with promtool itself.

const KNOWN = new Set(['printf', 'len', 'index', 'humanize', 'eq']);
const parse = (text: string): ListNode => {
  const t = parseTemplate('T', text, (f) => KNOWN.has(f)).trees.get('T');
  if (!t) throw new Error('no tree');
  return t;
};
const parseError = (text: string): string => {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof TemplateParseError) return err.message;
    throw err;
  }
  return 'parsed';
};

describe('parseTemplate rejects what Go rejects, with Go’s message', () => {
  it.each([
    ['{{ foo }}', 'template: T:1: function "foo" not defined'],
    ['line1\n{{ foo 1 }}', 'template: T:2: function "foo" not defined'],
    ['{{ if }}', 'template: T:1: missing value for if'],
    ['{{ end }}', 'template: T:1: unexpected {{end}}'],
    ['{{ else }}', 'template: T:1: unexpected {{else}}'],
    ['{{ if 1 }}', 'template: T:1: unexpected EOF'],
    ['{{ $x }}', 'template: T:1: undefined variable "$x"'],
    ['{{ "abc }}', 'template: T:1: unterminated quoted string'],
    ['{{ 1 | 2 }}', 'template: T:1: non executable command in pipeline stage 2'],
    ['{{ range $i, $v, $w := 1 }}{{end}}', 'template: T:1: too many declarations in range'],
    ['{{ .Labels. }}', 'template: T:1: unexpected <.> in operand'],
    ['{{ 3x }}', 'template: T:1: bad number syntax: "3x"'],
    ['{{ ( 1 }}', 'template: T:1: unclosed left paren'],
    ['{{ ) }}', 'template: T:1: unexpected ")" in command'],
    ['{{ }}', 'template: T:1: missing value for command'],
    ['{{ /* c */ }}', 'template: T:1: unexpected "/" in command'],
    ['{{ break }}', 'template: T:1: {{break}} outside {{range}}'],
    ["{{ 'ab' }}", "template: T:1: malformed character constant: 'ab'"],
    ['{{ 1.2.3 }}', 'template: T:1: unexpected ".3" in operand'],
    ['{{ if 1 }}{{ else }}{{ else }}{{ end }}', 'template: T:1: expected end; found {{else}}'],
    ['{{ - 3 }}', 'template: T:1: illegal number syntax: "-"'],
    ['{{ 99999999999999999999 }}', 'template: T:1: integer overflow: "99999999999999999999"'],
    ['{{ "\\q" }}', 'template: T:1: invalid syntax'],
    ['{{ nil.x }}', 'template: T:1: unexpected . after term "nil"'],
    ['{{ if $x := 1 }}{{ end }}{{ $x }}', 'template: T:1: undefined variable "$x"'],
    ['a\n{{ if 1 }}\nb\n{{ else }}\n{{ end }}\n{{ end }}', 'template: T:6: unexpected {{end}}'],
    ['{{ printf "%d" 1 }\n}}', 'template: T:1: unexpected "}" in operand'],
    ['{{ 1 }}{{', 'template: T:1: unclosed action'],
    ['{{ 1 |\n\n "abc }}', 'template: T:3: unterminated quoted string in action started at T:1'],
    ['{{ 1 \n\n', 'template: T:3: unclosed action started at T:1'],
    ['{{/* x', 'template: T:1: unclosed comment'],
    ['{{ define "T" }}x{{ end }}y', 'template: T:1: template: multiple definition of template "T"'],
    ['{{ aaaaaaaaaaaaaaa(1) }}', 'template: T:1: function "aaaaaaaaaaaaaaa" not defined'],
    ['{{ printf "aaaaaaaaaaaaaaaa" | }', 'template: T:1: unexpected "}" in command'],
    ['{{ 1i }}', 'template: T:1: complex number "1i" is not supported in rule templates'],
    ['{{ ((((((((((((((((((((1)))))))))))))))))))) }}', 'parsed'],
    ['{{ .X | }}', 'parsed'],
    ['{{- 3 -}}{{-3}}', 'parsed'],
  ])('%j → %s', (text, want) => {
    expect(parseError(text)).toBe(want);
  });

  it('bounds nesting depth instead of exhausting the stack', () => {
    expect(parseError('{{ ' + '('.repeat(5000) + '1' + ')'.repeat(5000) + ' }}')).toBe(
      'template: T:1: max expression depth exceeded',
    );
  });

  it('reports the line of the offending token', () => {
    try {
      parse('a\nb\n{{ foo }}');
      expect.unreachable();
    } catch (err) {
      expect((err as TemplateParseError).line).toBe(3);
    }
  });
});

describe('the parse tree', () => {
  it.each([
    ['x {{ $labels := 1 }}{{ $labels }}', 'x {{$labels := 1}}{{$labels}}'],
    ['{{ .A.B | printf "%s" 1 }}', '{{.A.B | printf "%s" 1}}'],
    ['{{ (index . 1).X }}', '{{(index . 1).X}}'],
    [
      '{{ if eq 1 2 }}a{{ else if eq 2 2 }}b{{ else }}c{{ end }}',
      '{{if eq 1 2}}a{{else}}{{if eq 2 2}}b{{else}}c{{end}}{{end}}',
    ],
    [
      '{{ range $i, $v := . }}{{ $v }}{{ else }}none{{ end }}',
      '{{range $i, $v := .}}{{$v}}{{else}}none{{end}}',
    ],
    ['{{ with $x := 1 }}{{ $x }}{{ end }}', '{{with $x := 1}}{{$x}}{{end}}'],
    ['{{ template "t" . }}', '{{template "t" .}}'],
    ["{{ 'a' }}{{ `r` }}{{ nil }}{{ true }}", "{{'a'}}{{`r`}}{{nil}}{{true}}"],
  ])('%j prints back as %s', (text, want) => {
    expect(nodeString(parse(text))).toBe(want);
  });

  it.each([
    ['a  {{- 3 -}}  b', 'a{{3}}b'],
    ['a \n {{- /* c */ -}} \n b', 'ab'],
    ['a {{-3}} b', 'a {{-3}} b'],
    ['{{ 3 -}}\n\n c', '{{3}}c'],
  ])('trims %j to %s', (text, want) => {
    expect(nodeString(parse(text))).toBe(want);
  });

  it('keeps defined templates beside the main one', () => {
    const parsed = parseTemplate(
      'T',
      '{{ define "x" }}X{{ end }}{{ block "y" . }}Y{{ end }}main',
      () => false,
    );
    expect([...parsed.trees.keys()].sort()).toEqual(['T', 'x', 'y']);
    expect(nodeString(parsed.trees.get('T') as ListNode)).toBe('{{template "y" .}}main');
  });

  it('positions a chained variable at its first field, as Go does', () => {
    const root = parse('{{ $ := . }}{{ $.a.b }}');
    const action = root.nodes[1];
    expect(action?.kind === 'action' ? action.pipe.cmds[0]?.args[0]?.pos : -1).toBe(16);
  });
});

describe('errorLocation', () => {
  it.each([
    ['{{ x }}', 3, '1:3'],
    ['ab\ncd {{ x }}', 9, '2:6'],
    ['é{{ x }}', 4, '1:5'], // columns count UTF-8 bytes
    ['😀\n😀 x', 6, '2:5'],
  ])('%j at %d is %s', (text, pos, want) => {
    expect(errorLocation(text, pos)).toBe(want);
  });
});
