import { describe, expect, it } from 'vitest';
import { TemplateRegex } from './template-regex.js';

// Go's regexp semantics: unanchored, leftmost-first, replacement with Expand's `$name` rules.

describe('TemplateRegex.replaceAll (Regexp.ReplaceAllString)', () => {
  it.each([
    ['(.*):.*', '$1', '10.0.0.1:9100', '10.0.0.1'],
    ['(a)(b)?', '[$1|$2|${1}x|$1x|$$]', 'abaab', '[a|b|ax||$][a||ax||$][a|b|ax||$]'],
    ['^a', 'X', 'aaa', 'Xaa'],
    ['', '-', 'abc', '-a-b-c-'],
    ['a*', '-', 'baaac', '-b-c-'],
    ['\\b', '|', 'ab cd', '|ab| |cd|'],
    ['\\B', '.', 'abc', 'a.b.c'],
    ['(?P<word>\\w+)', '<${word}>', 'hi there', '<hi> <there>'],
    ['(?m)^', '> ', 'a\nb', '> a\n> b'],
    ['é', 'e', 'café résumé', 'cafe resume'],
    ['x', '$', 'axb', 'a$b'],
    ['x', '${1', 'axb', 'a${1b'],
    ['(x)', '$10', 'axb', 'ab'],
    ['a|ab', '[$0]', 'ab', '[a]b'],
    ['😀', '_', 'a😀b😀', 'a_b_'],
    ['', '.', '😀', '.😀.'],
    ['\\Qa.b', 'X', 'a.b a-b', 'X a-b'],
    ['z', 'y', 'abc', 'abc'],
  ])('%j → %j in %j = %j', (pattern, repl, src, want) => {
    expect(new TemplateRegex(pattern).replaceAll(src, repl)).toBe(want);
  });
});

describe('TemplateRegex.test (regexp.MatchString)', () => {
  it.each([
    ['^web-[0-9]+$', 'web-1', true],
    ['b+', 'abbc', true],
    ['^b', 'abc', false],
    ['(?i)WEB', 'web', true],
    ['c$', 'abc\n', false],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'a\nb', false],
  ])('%j in %j is %s', (pattern, s, want) => {
    expect(new TemplateRegex(pattern).test(s)).toBe(want);
  });

  it('rejects a bad pattern with RE2’s message about the pattern itself', () => {
    expect(() => new TemplateRegex('(')).toThrow('error parsing regexp: missing closing ): `(`');
  });
});
