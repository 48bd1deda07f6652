import { describe, expect, it } from 'vitest';
import type { Labels } from '../util/labels.js';
import {
  compileTemplate,
  expand,
  expandAnnotation,
  TemplateError,
  type ExpandOptions,
  type TemplateData,
  type TemplateSample,
} from './template.js';

// Expected strings are what Prometheus 2.42 produces (template-promtool.test.ts holds the comparison with
// promtool); these tables pin the behaviour without it. Execution errors carry Go's line:column, where the
// first line's columns include the 112 bytes of the declarations Prometheus puts before every template.

const DATA: TemplateData = {
  labels: { __name__: 'cpu_usage', server: 'web-1', instance: '10.0.0.1:9100', job: 'node' },
  value: 85.5,
  externalLabels: { region: 'eu-west' },
};

/** SERIES answer the `query` function: a selector's metric name picks its samples (a stand-in for PromQL). */
const SERIES: Record<string, TemplateSample[]> = {
  cpu_usage: [
    { labels: { __name__: 'cpu_usage', server: 'db-1' }, value: 42 },
    { labels: { __name__: 'cpu_usage', server: 'web-1' }, value: 85.5 },
    { labels: { __name__: 'cpu_usage', server: 'api-1' }, value: 0.5 },
  ],
  mem_bytes: [{ labels: { __name__: 'mem_bytes', server: 'web-1' }, value: 1073741824 }],
  nothing: [],
};
const query = (q: string): Promise<TemplateSample[]> => {
  const samples = SERIES[q];
  return samples
    ? Promise.resolve(samples.map((s) => ({ ...s })))
    : Promise.reject(new Error(`1:1: parse error: ${q}`));
};

const run = (text: string, opts: ExpandOptions = { query }, data: TemplateData = DATA): Promise<string> =>
  expand(compileTemplate('T', text), data, opts);

const failure = async (text: string, opts: ExpandOptions = { query }): Promise<TemplateError> => {
  try {
    await run(text, opts);
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error(`${text} expanded without error`);
};

describe('compileTemplate', () => {
  it.each([
    ['{{ foo }}', 'template: T:1: function "foo" not defined'],
    ['a\n{{ humanize $x }}', 'template: T:2: undefined variable "$x"'],
    ['{{ if $value }}', 'template: T:1: unexpected EOF'],
  ])('rejects %j at load: %s', (text, message) => {
    try {
      compileTemplate('T', text);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).code).toBe('OM_TEMPLATE_SYNTAX');
      expect((err as TemplateError).message).toBe(message);
      expect((err as TemplateError).templateName).toBe('T');
    }
  });

  it('keeps the source and can expand any number of times, concurrently', async () => {
    const t = compileTemplate('T', '{{ $labels.server }}={{ $value }}');
    expect(t.source).toBe('{{ $labels.server }}={{ $value }}');
    const outs = await Promise.all(
      ['a', 'b', 'c'].map((s, i) => expand(t, { labels: { server: s }, value: i }, { query })),
    );
    expect(outs).toEqual(['a=0', 'b=1', 'c=2']);
  });
});

describe('expand: the language', () => {
  it.each([
    // data
    ['High CPU on {{ $labels.server }}: {{ $value | humanizePercentage }}', 'High CPU on web-1: 8550%'],
    ['{{ .Labels.instance }} {{ .Value }} {{ $.Labels.job }}', '10.0.0.1:9100 85.5 node'],
    ['{{ $externalLabels.region }}|{{ $labels.missing }}|', 'eu-west||'],
    ['{{ $labels }}', 'map[__name__:cpu_usage instance:10.0.0.1:9100 job:node server:web-1]'],
    [
      '{{ . }}',
      '{map[__name__:cpu_usage instance:10.0.0.1:9100 job:node server:web-1] map[region:eu-west]  85.5}',
    ],
    // literals
    [
      '{{ "a\\tb" }}|{{ `r\\n` }}|{{ \'a\' }}|{{ 1 }}|{{ 1.0 }}|{{ 1e3 }}|{{ 0x1F }}|{{ true }}',
      'a\tb|r\\n|97|1|1|1000|31|true',
    ],
    // pipelines and parentheses
    ['{{ $value | printf "%.1f%%" }}', '85.5%'],
    ['{{ printf "%s-%s" "a" ($labels.server | toUpper) }}', 'a-WEB-1'],
    ['{{ "x" | printf "%s-%s" "y" }}', 'y-x'],
    // conditionals
    ['{{ if gt $value 90.0 }}high{{ else if gt $value 80.0 }}elevated{{ else }}ok{{ end }}', 'elevated'],
    ['{{ if and (eq $labels.job "node") (ne $labels.server "db-1") }}yes{{ end }}', 'yes'],
    ['{{ if or 0 "" }}t{{ else }}f{{ end }}|{{ if not 0 }}t{{ end }}', 'f|t'],
    [
      '{{ with $labels.server }}<{{ . }}>{{ end }}{{ with $labels.nope }}x{{ else }}none{{ end }}',
      '<web-1>none',
    ],
    // ranges
    [
      '{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}',
      '__name__=cpu_usage;instance=10.0.0.1:9100;job=node;server=web-1;',
    ],
    ['{{ range $externalLabels }}{{ . }}{{ end }}', 'eu-west'],
    [
      '{{ range $i, $v := $labels }}{{ if eq $i "job" }}{{ break }}{{ end }}{{ $i }} {{ end }}',
      '__name__ instance ',
    ],
    [
      '{{ range $k, $v := $labels }}{{ if eq $k "job" }}{{ continue }}{{ end }}{{ $k }} {{ end }}',
      '__name__ instance server ',
    ],
    ['{{ range (args).nope }}x{{ else }}empty{{ end }}', 'empty'],
    // variables
    ['{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}', '2'],
    ['{{ $s := $labels.server }}{{ range $labels }}{{ $s }}{{ break }}{{ end }}', 'web-1'],
    // whitespace control and comments
    ['a  {{- 3 -}}  b|{{-3}}|{{/* gone */}}|{{- /* trimmed */ -}} |', 'a3b|-3|||'],
    // define, template, block
    [
      '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" 42 }}{{ block "b" "x" }}<{{ . }}>{{ end }}',
      '[42]<x>',
    ],
    ['{{ define "t" }}{{ .arg0 }}-{{ .arg1 }}{{ end }}{{ template "t" args "x" 2 }}', 'x-2'],
    // queries
    [
      '{{ range sortByLabel "server" (query "cpu_usage") }}{{ .Labels.server }}={{ .Value }};{{ end }}',
      'api-1=0.5;db-1=42;web-1=85.5;',
    ],
    [
      '{{ range $i, $s := query "cpu_usage" }}{{ $i }}:{{ label "server" $s }} {{ end }}',
      '0:db-1 1:web-1 2:api-1 ',
    ],
    ['{{ query "mem_bytes" | first | value | humanize1024 }}B', '1GiB'],
    ['{{ with query "nothing" }}{{ . | first }}{{ else }}no data{{ end }}', 'no data'],
    [
      '{{ $r := query "cpu_usage" }}{{ $_ := sortByLabel "server" $r }}{{ range $r }}{{ .Labels.server }} {{ end }}',
      'api-1 db-1 web-1 ',
    ],
    ['{{ (query "cpu_usage" | first).Labels.server }}|{{ len (query "cpu_usage") }}', 'db-1|3'],
    ['{{ query "mem_bytes" | first }}', '{map[__name__:mem_bytes server:web-1] 1.073741824e+09}'],
  ])('%j → %j', async (text, want) => {
    expect(await run(text)).toBe(want);
  });
});

describe('expand: functions', () => {
  it.each([
    [
      '{{ humanize 1234567 }}|{{ humanize1024 1536 }}|{{ humanizeDuration 90000 }}|{{ humanizeTimestamp 0 }}',
      '1.235M|1.5ki|1d 1h 0m 0s|1970-01-01 00:00:00 +0000 UTC',
    ],
    ['{{ humanize "1e3" }}|{{ humanize 2 }}|{{ toTime 1.5 }}', '1k|2|1970-01-01 00:00:01.5 +0000 UTC'],
    [
      '{{ title "hello wORLD foo_bar" }}|{{ toUpper "straße" }}|{{ toLower "İΣ" }}',
      'Hello WORLD Foo_bar|STRAßE|iσ',
    ],
    [
      '{{ match "^web-[0-9]+$" $labels.server }}|{{ reReplaceAll "(.*):.*" "$1" $labels.instance }}',
      'true|10.0.0.1',
    ],
    [
      '{{ graphLink "up > 0" }}|{{ tableLink "up" }}',
      '/graph?g0.expr=up+%3E+0&g0.tab=0|/graph?g0.expr=up&g0.tab=1',
    ],
    ['{{ safeHtml "<b>" }}|{{ html "<b>" }}|{{ js "a\'b" }}|{{ urlquery "a b" }}', "<b>|&lt;b&gt;|a\\'b|a+b"],
    [
      '{{ stripPort $labels.instance }}|{{ stripPort "[::1]:9090" }}|{{ stripPort "host" }}',
      '10.0.0.1|::1|host',
    ],
    ['{{ parseDuration "1h30m" }}|{{ parseDuration "500ms" }}', '5400|0.5'],
    ['{{ args 1 "a" }}|{{ (args 1 "a").arg1 }}|{{ (args 1).arg5 }}', 'map[arg0:1 arg1:a]|a|<no value>'],
    [
      '{{ len "héllo" }}|{{ index "abc" 1 }}|{{ slice "abcdef" 1 3 }}|{{ index $labels "job" }}',
      '6|98|bc|node',
    ],
    [
      '{{ eq 1 1 }}|{{ eq "a" "b" "a" }}|{{ ne 1 2 }}|{{ lt 1.5 2.5 }}|{{ le 2 2 }}|{{ gt "b" "a" }}|{{ ge 1 2 }}',
      'true|true|true|true|true|true|false',
    ],
    ['{{ and 1 0 2 }}|{{ or 0 "" 3 }}|{{ 0 | and 1 }}', '0|3|0'],
    ['{{ print 1 2 "a" "b" }}|{{ println "x" }}|{{ printf "%d %s %v" 42 "s" nil }}', '1 2ab|x\n|42 s <nil>'],
    ['{{ first (query "cpu_usage") | strvalue }}|', '|'],
  ])('%j → %j', async (text, want) => {
    expect(await run(text)).toBe(want);
  });

  it('reads externalURL and pathPrefix from the option, $externalURL from the data or the option', async () => {
    const opts = { query, externalURL: 'http://prom.example.com:9090/sub/path%20x' };
    expect(await run('{{ externalURL }}|{{ pathPrefix }}|{{ $externalURL }}', opts)).toBe(
      'http://prom.example.com:9090/sub/path%20x|/sub/path x|http://prom.example.com:9090/sub/path%20x',
    );
    expect(
      await run(
        '{{ pathPrefix }}|{{ .ExternalURL }}',
        { externalURL: 'http://h:9090' },
        { ...DATA, externalURL: 'x' },
      ),
    ).toBe('|x');
  });

  it('hands the evaluation time to the query function', async () => {
    const seen: (number | undefined)[] = [];
    const opts: ExpandOptions = {
      timestamp: 600_000,
      query: (q, t) => {
        seen.push(t);
        return query(q);
      },
    };
    expect(await run('{{ len (query "cpu_usage") }}', opts)).toBe('3');
    expect(seen).toEqual([600_000]);
  });
});

describe('expand: execution errors are Prometheus’s', () => {
  it.each([
    ['{{ index "abc" 5 }}', '1:115', 'index "abc" 5', 'error calling index: index out of range: 5'],
    [
      '{{ first (query "nothing") }}',
      '1:115',
      'first (query "nothing")',
      'error calling first: first() called on vector with no elements',
    ],
    ['{{ query "bad{" }}', '1:115', 'query "bad{"', 'error calling query: 1:1: parse error: bad{'],
    ['{{ toUpper 3 }}', '1:123', '3', 'expected string; found 3'],
    ['{{ toUpper $value }}', '1:123', '$value', 'wrong type for value; expected string; got float64'],
    [
      '{{ humanize "abc" }}',
      '1:115',
      'humanize "abc"',
      'error calling humanize: strconv.ParseFloat: parsing "abc": invalid syntax',
    ],
    ['{{ humanize 1 2 }}', '1:115', 'humanize', 'wrong number of args for humanize: want 1 got 2'],
    ['{{ range 5 }}x{{ end }}', '1:121', '5', "range can't iterate over 5"],
    ['{{ $labels.server.x }}', '1:122', '$labels.server.x', "can't evaluate field x in type string"],
    [
      '{{ .Nope }}',
      '1:115',
      '.Nope',
      "can't evaluate field Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }",
    ],
    ['{{ template "nope" }}', '1:124', '{{template "nope"}}', 'template "nope" not defined'],
    [
      '{{ reReplaceAll "(" "x" "y" }}',
      '1:115',
      'reReplaceAll "(" "x" "y"',
      'error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`',
    ],
    ['{{ lt 1 2.0 }}', '1:115', 'lt 1 2.0', 'error calling lt: incompatible types for comparison'],
    [
      '{{ value nil }}',
      '1:115',
      'value nil',
      'error calling value: runtime error: invalid memory address or nil pointer dereference',
    ],
    [
      '{{ externalURL }}',
      '1:115',
      'externalURL',
      'error calling externalURL: runtime error: invalid memory address or nil pointer dereference',
    ],
    ['{{ $z := 1 }}{{ $y = 2 }}', '1:133', '2', 'undefined variable: $y'],
    ['a\nb {{ index "x" 9 }}', '2:5', 'index "x" 9', 'error calling index: index out of range: 9'],
    ['{{ "é" }}{{ index "abc" 9 }}', '1:125', 'index "abc" 9', 'error calling index: index out of range: 9'],
  ])('%j fails at %s <%s>: %s', async (text, where, context, reason) => {
    const err = await failure(text);
    expect(err.code).toBe('OM_TEMPLATE_EXECUTION');
    const message = `error executing template T: template: T:${where}: executing "T" at <${context}>: ${reason}`;
    expect(err.message).toBe(message);
    expect(err.expansionText).toBe(`<error expanding template: ${message}>`);
  });

  it('names the defined template that failed', async () => {
    const err = await failure('{{ define "e" }}{{ index "a" 7 }}{{ end }}{{ template "e" }}');
    expect(err.message).toBe(
      'error executing template T: template: T:1:131: executing "e" at <index "a" 7>: error calling index: index out of range: 7',
    );
  });

  it('expandAnnotation returns Prometheus’s replacement text together with the error', async () => {
    const ok = await expandAnnotation(compileTemplate('T', '{{ $value }}'), DATA);
    expect(ok).toEqual({ text: '85.5' });
    const bad = await expandAnnotation(compileTemplate('T', '{{ index "abc" 5 }}'), DATA);
    expect(bad.error?.code).toBe('OM_TEMPLATE_EXECUTION');
    expect(bad.text).toBe(bad.error?.expansionText);
    expect(bad.text.startsWith('<error expanding template: error executing template T: ')).toBe(true);
  });

  it('says so when no query function was given', async () => {
    const err = await failure('{{ query "up" }}', {});
    expect(err.message).toContain('error calling query: no query function is available to this template');
  });
});

describe('expand: bounded work', () => {
  const many: Labels = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`l${i}`, 'v']));
  const limitError = async (
    text: string,
    opts: ExpandOptions,
    data: TemplateData = DATA,
  ): Promise<string> => {
    try {
      await run(text, opts, data);
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).code).toBe('OM_TEMPLATE_LIMIT');
      return (err as TemplateError).message;
    }
    throw new Error('no limit error');
  };

  it('caps the output', async () => {
    const msg = await limitError('{{ range $labels }}0123456789{{ end }}', { maxOutputBytes: 25 });
    expect(msg).toContain('template output exceeds the 25-byte limit');
    expect(await run('{{ range $labels }}0123456789{{ end }}', { maxOutputBytes: 40 })).toHaveLength(40);
  });

  it('caps the size of any value a function builds (strings doubled in a loop)', async () => {
    const text =
      '{{ $x := "0123456789" }}{{ range $labels }}{{ $x = printf "%s%s" $x $x }}{{ end }}{{ len $x }}';
    const msg = await limitError(text, {}, { labels: many, value: 1 });
    expect(msg).toContain('bytes exceeds the 65536-byte limit');
    expect(await limitError('{{ printf "%01000000d" 1 }}', {})).toContain('exceeds the 65536-byte limit');
  });

  it('caps the steps of nested ranges that print nothing', async () => {
    const text =
      '{{ range $labels }}{{ range $labels }}{{ range $labels }}{{ range $labels }}{{ end }}{{ end }}{{ end }}{{ end }}';
    const msg = await limitError(text, {}, { labels: many, value: 1 });
    expect(msg).toContain('template evaluation exceeds 100000 steps');
  });

  it.each([
    ['https://example.com/runbook#a'],
    [''],
    ['two\nlines, ünïcode'],
    ['text{{/* a comment */}} and more'],
    ['{{ "not" }} plain'],
    ['{{ define "d" }}x{{ end }}plain'],
  ])('expands %j as executing its tree does, at every step and output bound', async (text) => {
    // A plain-text template is answered without executing it: its answer, or its limit error, must be the
    // same as the execution's (the same template without the constant) under any bound.
    const compiled = compileTemplate('T', text);
    const { constant: _constant, ...executed } = compiled;
    const outcome = (t: typeof compiled, opts: ExpandOptions): Promise<string> =>
      expand(t, DATA, opts).catch((err: unknown) => `error: ${(err as Error).message}`);
    for (let maxSteps = 0; maxSteps <= 20; maxSteps++)
      expect(await outcome(compiled, { maxSteps })).toBe(await outcome(executed, { maxSteps }));
    for (let maxOutputBytes = 0; maxOutputBytes <= 40; maxOutputBytes++)
      expect(await outcome(compiled, { maxOutputBytes })).toBe(await outcome(executed, { maxOutputBytes }));
    expect(await outcome(compiled, {})).toBe(await outcome(executed, {}));
  });

  it('caps template recursion', async () => {
    const msg = await limitError('{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}', {});
    expect(msg).toContain('exceeded maximum template depth (100)');
  });
});
