import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Engine } from '../promql/engine.js';
import { MemoryQueryable } from '../promql/promqltest/memory-queryable.js';
import { expandValues, parseSeriesDesc } from '../promql/promqltest/script.js';
import type { Labels } from '../util/labels.js';
import { compileTemplate, expandAnnotation, type TemplateSample } from './template.js';

// Differential test: Prometheus 2.42's own Go templates (through `promtool test rules`) must produce exactly
// the labels and annotations our engine produces. The rule file holds alerts whose annotations are the
// templates below; our engine evaluates each alert's expression and each `query` with the exporter's PromQL
// engine over the same input series, expands every template, and writes the results as exp_labels and
// exp_annotations. promtool exits 0 only if every string is identical, execution errors included
// (`<error expanding template: …>` with Go's message, line and byte column).
//
// promtool 2.42 hands templates no external URL (the `externalURL` and `pathPrefix` functions fail with a nil
// dereference, while `$externalURL` holds the test's external_url); our side is configured the same way.

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const run = promisify(execFile);

const EVAL_MS = 10 * 60_000;
const EXTERNAL_LABELS: Labels = { region: 'eu-west', cluster: 'prod' };
const EXTERNAL_URL = 'http://prom.example.com:9090/sub/path';

const SERIES: { series: string; values: string }[] = [
  { series: 'cpu_usage{server="web-1",instance="10.0.0.1:9100",job="node",role="web"}', values: '85.5x20' },
  { series: 'cpu_usage{server="db-1",instance="10.0.0.2:9100",job="node",role="db"}', values: '42x20' },
  { series: 'cpu_usage{server="api-1",instance="[::1]:9100",job="node",role="api"}', values: '0.5x20' },
  { series: 'mem_bytes{server="web-1"}', values: '1073741824x20' },
  { series: 'disk_free_ratio{server="web-1",mount="/"}', values: '0.0421x20' },
  { series: 'up{server="web-1",job="node"}', values: '1x20' },
  { series: 'up{server="db-1",job="node"}', values: '0+0x20' },
];

/** TEMPLATES run in one alert over `cpu_usage{server="web-1"}` (value 85.5): every construct and function. */
const TEMPLATES: string[] = [
  // data and variables
  '{{ $value }}',
  '{{ .Value }}',
  '{{ $labels.server }}',
  '{{ .Labels.instance }}',
  '{{ $labels }}',
  '{{ $labels.missing }}|',
  '{{ $externalLabels.region }}',
  '{{ $externalLabels }}',
  '{{ $externalURL }}|{{ .ExternalURL }}',
  '{{ . }}',
  '{{ $.Labels.job }}',
  '{{ index $labels "job" }}',
  '{{ len $labels }}',
  // literals
  "{{ \"\\x41\\101\\u00e9\\t|\" }}{{ 'a' }}{{ '\\n' }}{{ `raw\\n` }}",
  '{{ 0x1F }}|{{ 0o17 }}|{{ 017 }}|{{ 0b101 }}|{{ 1_000 }}|{{ 0x1p-2 }}|{{ -0 }}|{{ .5 }}|{{ 1e3 }}|{{ 1.0 }}',
  '{{ true }}|{{ false }}|{{ -0.0 }}|{{ 1e21 }}|{{ 123456789.0 }}|{{ 0.00001 }}',
  '{{ (1) }}{{ ("s") }}{{ ((2)) }}',
  // humanize family on the alert value and on literals
  '{{ $value | humanize }}|{{ $value | humanize1024 }}|{{ $value | humanizeDuration }}|{{ $value | humanizePercentage }}|{{ $value | humanizeTimestamp }}',
  '{{ humanize 0 }}|{{ humanize 1e-7 }}|{{ humanize 1234567 }}|{{ humanize -1234567.0 }}|{{ humanize 999999 }}',
  '{{ humanize "-Inf" }}|{{ humanize "NaN" }}|{{ humanize "+Inf" }}|{{ humanize 0.000123 }}|{{ humanize 1e30 }}|{{ humanize 1e-30 }}',
  '{{ humanize "1_000" }}|{{ humanize "0x10" }}|{{ humanize "0x1p4" }}|{{ humanize ".5" }}',
  '{{ humanize1024 0 }}|{{ humanize1024 1 }}|{{ humanize1024 1023 }}|{{ humanize1024 1024 }}|{{ humanize1024 1536 }}|{{ humanize1024 1073741824 }}|{{ humanize1024 -2048 }}|{{ humanize1024 1e30 }}|{{ humanize1024 0.5 }}|{{ humanize1024 "NaN" }}',
  '{{ humanizeDuration 0 }}|{{ humanizeDuration 0.5 }}|{{ humanizeDuration 0.001 }}|{{ humanizeDuration 1e-9 }}|{{ humanizeDuration 1 }}|{{ humanizeDuration 1.5 }}|{{ humanizeDuration 59.99 }}',
  '{{ humanizeDuration 61 }}|{{ humanizeDuration 3600 }}|{{ humanizeDuration 3661 }}|{{ humanizeDuration 90000 }}|{{ humanizeDuration 34560000 }}|{{ humanizeDuration -61 }}|{{ humanizeDuration -0.5 }}',
  '{{ humanizeDuration "NaN" }}|{{ humanizeDuration "+Inf" }}|{{ humanizeDuration 1e20 }}',
  '{{ humanizePercentage 0 }}|{{ humanizePercentage 0.5 }}|{{ humanizePercentage 0.12345 }}|{{ humanizePercentage 1 }}|{{ humanizePercentage 1.5 }}|{{ humanizePercentage -0.001 }}|{{ humanizePercentage 1e-9 }}',
  '{{ humanizeTimestamp 0 }}|{{ humanizeTimestamp 1435065584.128 }}|{{ humanizeTimestamp 1435065584 }}|{{ humanizeTimestamp -1 }}|{{ humanizeTimestamp 1e10 }}|{{ humanizeTimestamp "NaN" }}',
  '{{ humanizeTimestamp 1e12 }}',
  '{{ toTime 1435065584.5 }}|{{ toTime 0 }}',
  '{{ toTime "NaN" }}',
  // printf: Go's verbs, flags, widths, rounding and error forms
  '{{ printf "%.2f" $value }}|{{ printf "%5.1f|" $value }}|{{ printf "%d" $value }}|{{ printf "%s" $value }}',
  '{{ printf "%d" 42 }}|{{ printf "%05d" -42 }}|{{ printf "%x %X %o %b %O" 255 255 8 5 8 }}|{{ printf "%+d % d" 5 5 }}',
  '{{ printf "%e %E %+.2e" 1234.5678 0.000012 12345.678 }}|{{ printf "%g %G %.2g %.3g" 1e21 1e-7 123456.0 123456.0 }}',
  '{{ printf "%v %v %v %v" 1e21 1e20 123456789.0 100000.0 }}|{{ printf "%g %g" 100000.0 1000000.0 }}',
  '{{ printf "%s|%q|%10s|%-10s|%.3s|%x|% x|%X" "x" "a\\"b\\tc" "r" "l" "abcdef" "hi" "hi" "é" }}',
  '{{ printf "%%|%d %s" }}|{{ printf "%d" 1 2 }}|{{ printf "%T %T %T %T %T" 1 1.5 "s" true $labels }}',
  '{{ printf "%#x %#o %#v %#q" 255 8 "s" "b" }}|{{ printf "%08.3f|%-8.3f|%+08.3f|% .2f" 3.14159 3.14159 3.14159 2.5 }}',
  '{{ printf "%.0f %.0f %.0f %.0f" 0.5 1.5 2.5 3.5 }}|{{ printf "%.2f %.2f %.3f %.1f" 1.005 1.015 2.0005 0.05 }}',
  '{{ printf "%6.2f%%" 12.3456 }}|{{ printf "%[2]d %[1]d" 1 2 }}|{{ printf "%*d|%-*d|" 5 42 4 7 }}|{{ printf "%c %q %U %#U" 65 65 128512 128512 }}',
  '{{ printf "%f" 1e21 }}|{{ printf "%.20f" 0.1 }}|{{ printf "%.17g" 0.1 }}|{{ printf "%f %f" 1e-7 123456789.123456789 }}|{{ printf "%.3e" 0.0 }}',
  '{{ printf "%x %X %.3x %b" 85.5 -0.1 1.0 1.0 }}|{{ printf "%v %d" nil nil }}|{{ printf "%d" "x" }}|{{ printf "%t %v" true false }}',
  '{{ printf "%v" $labels }}|{{ printf "%d" $labels }}|{{ printf "%q" $externalLabels }}|{{ printf "%+v" . }}',
  '{{ printf "%5t|%-7v|%3c|%08s" true 1.5 66 "ab" }}|{{ printf "%.1f %.1f %.1f" 0.25 0.35 -0.45 }}|{{ printf "%!" }}|{{ printf "%z" 1 }}',
  '{{ print 1 2 "a" "b" 3 nil }}|{{ println "a" 1 }}|{{ print $value $labels.server }}|{{ print (args 1).x }}',
  // strings
  '{{ title "hello wORLD foo_bar x-y o\'neil ǆa" }}|{{ toUpper "straße ǆ ᾳ" }}|{{ toLower "İSTANBUL ΣΑΣ" }}|{{ $labels.server | toUpper }}|{{ title "" }}',
  '{{ match "^web-[0-9]+$" $labels.server }}|{{ match "b+" "abbc" }}|{{ match "(?i)WEB" "web" }}|{{ match "^b" "abc" }}',
  '{{ reReplaceAll "(.*):.*" "$1" $labels.instance }}|{{ reReplaceAll "(a)(b)?" "[$1|$2|${1}x|$1x|$$]" "abaab" }}',
  '{{ reReplaceAll "^a" "X" "aaa" }}|{{ reReplaceAll "" "-" "abc" }}|{{ reReplaceAll "a*" "-" "baaac" }}|{{ reReplaceAll "\\\\b" "|" "ab cd" }}',
  '{{ reReplaceAll "(?P<word>\\\\w+)" "<${word}>" "hi there" }}|{{ reReplaceAll "é" "e" "café résumé" }}|{{ reReplaceAll "(?m)^" "> " "a\\nb" }}|{{ reReplaceAll "x" "$" "axb" }}',
  '{{ graphLink "rate(x[5m]) > 0" }}|{{ tableLink "up{job=\\"a b\\"}" }}|{{ urlquery "a b&c=d/é~*" }}',
  '{{ html "<a href=\'x\'>&\\"</a>" }}|{{ js "a\'b\\"c<>&=\\u0001\\u2028é`" }}|{{ safeHtml "<b>x</b>" }}|{{ html (args 1).x }}|{{ html 1 "a" }}',
  '{{ stripPort "[::1]:9090" }}|{{ stripPort "host" }}|{{ stripPort "a:b:c" }}|{{ stripPort "h:1" }}|{{ stripPort $labels.instance }}|{{ stripPort "[::1]" }}',
  '{{ parseDuration "1h30m" }}|{{ parseDuration "500ms" }}|{{ parseDuration "1y2w3d" }}|{{ parseDuration "0" }}',
  '{{ parseDuration "1.5h" }}',
  // args, define, template, block
  '{{ args 1 "a" 2.5 }}|{{ (args 1 "x").arg1 }}|{{ (args 1).arg5 }}|{{ index (args 1) "zz" }}',
  '{{ define "t" }}{{ .arg0 }}-{{ .arg1 }}{{ end }}{{ template "t" (args "x" 2) }}|{{ block "b" $labels.server }}<{{ . }}>{{ end }}',
  '{{ define "rec" }}{{ if . }}{{ len . }}{{ end }}{{ end }}{{ template "rec" "abc" }}{{ template "rec" }}',
  // builtins
  '{{ and 1 0 2 }}|{{ or 0 "" 3 }}|{{ not 0 }}|{{ and 1 2 }}|{{ or 0 "" }}|{{ 0 | and 1 }}|{{ 5 | or 0 }}',
  '{{ eq 1 1 }}|{{ eq "a" "b" "a" }}|{{ ne 1 2 }}|{{ lt 1.5 2.5 }}|{{ le 2 2 }}|{{ gt "b" "a" }}|{{ ge 1 2 }}|{{ eq $value 85.5 }}|{{ gt $value 80.0 }}|{{ eq (args 1).x "a" }}',
  '{{ len "héllo" }}|{{ index "abc" 1 }}|{{ slice "abcdef" 1 3 }}|{{ slice "abcdef" 2 }}|{{ index $labels "nope" }}',
  // control structures and whitespace
  '{{ if gt $value 90.0 }}high{{ else if gt $value 80.0 }}elevated{{ else }}ok{{ end }}',
  '{{ with $labels.role }}role={{ . }}{{ else }}no role{{ end }}|{{ with $labels.nope }}x{{ else }}none{{ end }}',
  '{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}|{{ range $labels }}{{ . }},{{ end }}',
  '{{ range $i, $v := $labels }}{{ if eq $i "job" }}{{ break }}{{ end }}{{ $i }} {{ end }}',
  '{{ range $k, $v := $labels }}{{ if eq $k "instance" }}{{ continue }}{{ end }}{{ $k }} {{ end }}',
  '{{ range $externalLabels }}{{ . }}{{ else }}none{{ end }}|{{ range (args).x }}x{{ else }}nil{{ end }}',
  '{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}',
  '{{- /* a comment */ -}}  trimmed  {{- " x " -}}  y',
  'a  {{- 3 -}}  b|{{-3}}|{{ 3 -}}\n\n c',
  'line1\n{{ $labels.server }}\n  line3\n',
  '{{ 3 | printf "%d-%s" "x" }}|{{ "x" | printf "%s-%s" "y" }}|{{ .Labels.server | printf "%q" }}|{{ $labels.server | len }}',
  // queries
  '{{ query "up" | len }}|{{ with query "cpu_usage{server=\'db-1\'}" }}{{ . | first | value | humanize }}{{ end }}',
  '{{ range sortByLabel "server" (query "cpu_usage") }}{{ .Labels.server }}={{ .Value }};{{ end }}',
  '{{ range $i, $s := sortByLabel "server" (query "cpu_usage") }}{{ $i }}:{{ label "instance" $s | stripPort }} {{ end }}',
  '{{ query "mem_bytes" | first | value | humanize1024 }}B|{{ query "disk_free_ratio" | first | value | humanizePercentage }}',
  '{{ query "time()" | first | value | humanizeTimestamp }}|{{ query "scalar(up{server=\'web-1\'})" | first | value }}',
  '{{ query "sum(cpu_usage)" | first | value | printf "%.1f" }}|{{ (query "up{server=\'db-1\'}" | first).Labels.job }}',
  '{{ if query "up == 0" }}some down{{ end }}|{{ range query "up == 0" }}{{ .Labels.server }} is down{{ else }}all up{{ end }}',
  '{{ range query "up > 5" }}x{{ else }}none above 5{{ end }}|{{ query "up{server=\'web-1\'}" | first | strvalue }}|',
  '{{ $r := query "cpu_usage" }}{{ $_ := sortByLabel "server" $r }}{{ range $r }}{{ .Labels.server }} {{ end }}',
  '{{ printf "%v" (query "up{server=\'web-1\'}" | first) }}|{{ query "up{server=\'web-1\'}" | first }}',
  '{{ len (slice (query "cpu_usage") 1) }}|{{ index (query "cpu_usage" | sortByLabel "server") 0 | value }}',
  '{{ range query "cpu_usage > 50" }}{{ .Labels.server }}:{{ .Value | humanize }}{{ end }}',
  '{{ first (query "nothing") }}',
  // execution errors: Go's wording, line and byte column
  '{{ index "abc" 5 }}',
  '{{ index "abc" 3 }}',
  '{{ index $labels 1 }}',
  '{{ toUpper 3 }}',
  '{{ toUpper $value }}',
  '{{ humanize "abc" }}',
  '{{ humanize "1e400" }}',
  '{{ humanize true }}',
  '{{ range 5 }}x{{ end }}',
  '{{ range "abc" }}x{{ end }}',
  '{{ nil }}',
  '{{ 1 2 }}',
  '{{ .Nope }}',
  '{{ $labels.server.x }}',
  '{{ template "nope" }}',
  '{{ reReplaceAll "(" "x" "y" }}',
  '{{ reReplaceAll "a`b(" "x" "y" }}',
  '{{ match "(" "y" }}',
  '{{ humanize }}',
  '{{ humanize 1 2 }}',
  '{{ len 3 }}',
  '{{ eq $labels $labels }}',
  '{{ lt 1 2.0 }}',
  '{{ lt true false }}',
  '{{ eq 1 }}',
  '{{ eq }}',
  '{{ value nil }}',
  '{{ value 3 }}',
  '{{ label "a" nil }}',
  '{{ first nil }}',
  '{{ toUpper nil }}',
  '{{ slice "abc" 2 1 }}',
  '{{ call 1 }}',
  '{{ externalURL }}',
  '{{ pathPrefix }}',
  '{{ $z := 1 }}{{ $y = 2 }}',
  '{{ .Value 1 }}',
  '{{ $labels.server 1 }}',
  '{{ 3 | $value }}',
  'a\nb {{ index "x" 9 }}',
  '{{ "é" }}{{ index "abc" 9 }}',
  '{{ define "e" }}{{ index "a" 7 }}{{ end }}{{ template "e" }}',
  '{{ query "1+" }}',
  '{{ printf "%d" }}{{ printf 3 }}',
];

/** VALUES are alert values (one alert each, `vector(V)`) for the formats in VALUE_TEMPLATES. */
const VALUES = [
  '0',
  '1e-7',
  '0.5',
  '1',
  '42',
  '61',
  '85.5',
  '90000',
  '1234567',
  '0.1 + 0.2',
  '1e21',
  '1e20',
  '123456789',
  '1435065584.128',
  '2.5',
  '1.005',
  '-1234.5678',
  '5e-324',
  '1.7976931348623157e308',
  '+Inf',
  '-Inf',
  'NaN',
];

const VALUE_TEMPLATES = [
  '{{ $value }}',
  '{{ humanize $value }}',
  '{{ humanize1024 $value }}',
  '{{ humanizeDuration $value }}',
  '{{ humanizePercentage $value }}',
  '{{ humanizeTimestamp $value }}',
  '{{ printf "%.2f" $value }}',
  '{{ printf "%5.1f" $value }}',
  '{{ printf "%d" $value }}',
  '{{ printf "%g|%e|%.3g|%G" $value $value $value $value }}',
  '{{ printf "%08.3f|%+.1e|%x" $value $value $value }}',
  '{{ if gt $value 50.0 }}big{{ else }}small{{ end }}',
];

/** SYNTAX are templates for the load check: most are rejected, each with Go's parse error. */
const SYNTAX = [
  '{{ foo }}',
  'line1\n{{ foo 1 }}',
  '{{ if }}',
  '{{ end }}',
  '{{ if 1 }}',
  '{{ $x }}',
  '{{ "abc }}',
  '{{ 1 | 2 }}',
  '{{ range $i, $v, $w := 1 }}{{ end }}',
  '{{ range $i, 1 }}{{ end }}',
  '{{ $x, $y := 1 }}',
  '{{ else }}',
  '{{ .Labels. }}',
  '{{ 3x }}',
  '{{ ( 1 }}',
  '{{ ) }}',
  '{{ }}',
  '{{ /* c */ }}',
  '{{/* unclosed',
  '{{/* c */ x}}',
  '{{ with }}{{ end }}',
  '{{ break }}',
  '{{ continue }}',
  '{{ range 1 }}{{ break 1 }}{{ end }}',
  "{{ 'ab' }}",
  "{{ 'ab }}",
  '{{ 1.2.3 }}',
  '{{ if 1 }}{{ else if 2 }}{{ else }}{{ else }}{{ end }}',
  '{{ with 1 }}{{ else if 2 }}{{ end }}',
  '{{ - 3 }}',
  '{{ 99999999999999999999 }}',
  '{{ 08 }}',
  '{{ 0x }}',
  '{{ 1e400 }}',
  '{{ "\\q" }}',
  '{{ nil.x }}',
  '{{ "a".b }}',
  '{{ range $i, $v := 1 }}{{ end }}{{ $i }}',
  '{{ if $x := 1 }}{{ end }}{{ $x }}',
  '{{ $x := 1 }}{{ end }}',
  'a\n{{ if 1 }}\nb\n{{ else }}\n{{ end }}\n{{ end }}',
  '{{ printf "%d" 1 }\n}}',
  '{{ 1 }}{{',
  '{{ 1 |\n\n "abc }}',
  '{{ 1 \n\n',
  '{{ `abc',
  '{{ $x=1 }}',
  '{{ a.b }}',
  '{{ \u00a0 }}',
  '{{ é }}',
  '{{ template x }}',
  '{{ template "x" }}',
  '{{ define "__alert_Syntax" }}x{{ end }}',
  '{{ define "a" }}{{ end }}{{ define "a" }}b{{ end }}',
  '{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}',
  '{{ define "a" }}x{{ else }}{{ end }}',
  '{{ block "b" }}x{{ end }}',
  '{{ .X | }}',
  '{{ (1) 2 }}',
  '{{ printf ("%d" }}',
  '{{ 1 := 2 }}',
  '{{ $ := 1 }}{{ $ }}',
  '{{ range $k, $v := . }}{{ end }}{{ $k }}',
  '{{- /* trimmed */ -}}',
  '{{ .Labels.x.y.z }}',
];

interface AlertCase {
  readonly alert: string;
  readonly expr: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

const key = (i: number): string => `t${String(i).padStart(3, '0')}`;

const ALERTS: AlertCase[] = [
  {
    alert: 'Templates',
    expr: 'cpu_usage{server="web-1"}',
    labels: {
      severity: '{{ if gt $value 80.0 }}critical{{ else }}warning{{ end }}',
      server_upper: '{{ $labels.server | toUpper }}',
      dropped_when_empty: '{{ $labels.nope }}',
    },
    annotations: Object.fromEntries(TEMPLATES.map((t, i) => [key(i), t])),
  },
  ...VALUES.map((v, i) => ({
    alert: `Value_${i}`,
    expr: `vector(${v})`,
    labels: { size: '{{ if gt $value 50.0 }}big{{ end }}' },
    annotations: Object.fromEntries(VALUE_TEMPLATES.map((t, j) => [key(j), t])),
  })),
];

/** loadSeries stores the input series the way promtool loads them (one sample per interval from 0). */
function loadSeries(): MemoryQueryable {
  const db = new MemoryQueryable();
  for (const s of SERIES) {
    const { labels } = parseSeriesDesc(s.series);
    expandValues(s.values).forEach((v, k) => {
      if (typeof v === 'number') db.add(labels, k * 60_000, v);
    });
  }
  return db;
}

interface ExpectedAlert {
  readonly alert: string;
  readonly exp: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
}

/** expectAlerts computes, with our engine and templates, the alerts promtool must find at EVAL_MS. */
async function expectAlerts(): Promise<ExpectedAlert[]> {
  const db = loadSeries();
  const engine = new Engine();
  // The rule manager's query function (Prometheus's EngineQueryFunc): scalars become one unlabelled sample.
  const query = async (q: string): Promise<TemplateSample[]> => {
    const { result } = await engine.instantQuery(db, q, EVAL_MS);
    if (result.resultType === 'vector') return result.result.map((s) => ({ labels: s.labels, value: s.v }));
    if (result.resultType === 'scalar') return [{ labels: {}, value: result.result.v }];
    throw new Error('rule result is not a vector or scalar');
  };
  const out: ExpectedAlert[] = [];
  for (const a of ALERTS) {
    const name = `__alert_${a.alert}`;
    const labelTemplates = Object.entries(a.labels).map(([k, t]) => [k, compileTemplate(name, t)] as const);
    const annotationTemplates = Object.entries(a.annotations).map(
      ([k, t]) => [k, compileTemplate(name, t)] as const,
    );
    const samples = await query(a.expr);
    const exp: ExpectedAlert['exp'] = [];
    for (const s of samples) {
      const data = {
        labels: s.labels,
        value: s.value,
        externalLabels: EXTERNAL_LABELS,
        externalURL: EXTERNAL_URL,
      };
      const opts = { query: query, timestamp: EVAL_MS };
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.labels)) if (k !== '__name__') labels[k] = v;
      for (const [k, t] of labelTemplates) {
        const text = (await expandAnnotation(t, data, opts)).text;
        if (text === '')
          delete labels[k]; // Prometheus drops a label whose template expands to nothing
        else labels[k] = text;
      }
      labels.alertname = a.alert;
      const annotations: Record<string, string> = {};
      for (const [k, t] of annotationTemplates) annotations[k] = (await expandAnnotation(t, data, opts)).text;
      exp.push({ exp_labels: labels, exp_annotations: annotations });
    }
    out.push({ alert: a.alert, exp });
  }
  return out;
}

/** goUnquote reads a Go double-quoted string starting at s[i]; returns the text and the index after it. */
function goUnquote(s: string, i: number): [string, number] {
  let out = '';
  let j = i + 1;
  const bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length) out += Buffer.from(bytes.splice(0)).toString('utf8');
  };
  while (j < s.length && s[j] !== '"') {
    if (s[j] !== '\\') {
      flush();
      out += s[j];
      j++;
      continue;
    }
    const e = s[j + 1] ?? '';
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '\\': '\\',
      '"': '"',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
    };
    if (simple[e] !== undefined) {
      flush();
      out += simple[e];
      j += 2;
    } else if (e === 'x') {
      bytes.push(parseInt(s.slice(j + 2, j + 4), 16));
      j += 4;
    } else {
      const n = e === 'u' ? 4 : 8;
      flush();
      out += String.fromCodePoint(parseInt(s.slice(j + 2, j + 2 + n), 16));
      j += 2 + n;
    }
  }
  flush();
  return [out, j + 1];
}

/** parseAnnotationSets reads every `Annotations:{k="v", …}` set promtool printed, in order. */
function parseAnnotationSets(output: string): Record<string, string>[] {
  const sets: Record<string, string>[] = [];
  for (let at = output.indexOf('Annotations:{'); at >= 0; at = output.indexOf('Annotations:{', at + 1)) {
    const set: Record<string, string> = {};
    let i = at + 'Annotations:{'.length;
    while (output[i] !== '}' && i < output.length) {
      const eq = output.indexOf('=', i);
      const k = output.slice(i, eq).trim();
      const [v, next] = goUnquote(output, eq + 1);
      set[k] = v;
      i = next;
      if (output[i] === ',') i += 2;
    }
    sets.push(set);
  }
  return sets;
}

/** explain turns promtool's failure report into one line per template whose expansion differs. */
function explain(output: string): string {
  const lines: string[] = [];
  for (const block of output.split(/\n\s*alertname: /).slice(1)) {
    const alert = block.slice(0, block.indexOf(','));
    const sets = parseAnnotationSets(block);
    const [ours, theirs] = [sets.slice(0, sets.length / 2), sets.slice(sets.length / 2)];
    const templates = ALERTS.find((a) => a.alert === alert)?.annotations ?? {};
    ours.forEach((mine, n) => {
      const got = theirs[n] ?? {};
      for (const [k, v] of Object.entries(mine))
        if (got[k] !== v)
          lines.push(
            `${alert}/${k} ${templates[k] ?? ''}\n    ours:       ${JSON.stringify(v)}\n    prometheus: ${JSON.stringify(got[k])}`,
          );
    });
  }
  return lines.length > 0 ? lines.join('\n') : output.slice(0, 6000);
}

/** checkRules runs `promtool check rules` on one alert whose annotations are `templates`; returns errors by key. */
async function checkRules(dir: string, templates: readonly string[]): Promise<Map<string, string>> {
  const rules = {
    groups: [
      {
        name: 'syntax',
        rules: [
          {
            alert: 'Syntax',
            expr: 'vector(1)',
            annotations: Object.fromEntries(templates.map((t, i) => [key(i), t])),
          },
        ],
      },
    ],
  };
  await writeFile(join(dir, 'syntax.yml'), stringify(rules, { lineWidth: 0 }));
  let output = '';
  try {
    const r = await run(PROMTOOL, ['check', 'rules', 'syntax.yml'], { cwd: dir });
    output = r.stdout + r.stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    output = (e.stdout ?? '') + (e.stderr ?? '');
  }
  const errors = new Map<string, string>();
  for (const m of output.matchAll(/annotation "(t\d{3})": (.*)$/gm)) if (m[1] && m[2]) errors.set(m[1], m[2]);
  return errors;
}

async function requirePromtool(): Promise<void> {
  await access(PROMTOOL).catch(() => {
    throw new Error(
      `promtool not found at ${PROMTOOL}: install Debian's prometheus package (apt-get install prometheus) ` +
        'or set PROMTOOL to its path; this test compares our templates with Prometheus 2.42 and cannot be skipped',
    );
  });
}

describe('templates agree with Prometheus 2.42 (promtool test rules)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'template-promtool-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('expands every template exactly as Prometheus does', async () => {
    await requirePromtool();
    const expected = await expectAlerts();
    // Every alert must fire once, or promtool and we would agree on nothing and compare no template.
    expect(expected.map((e) => [e.alert, e.exp.length])).toEqual(ALERTS.map((a) => [a.alert, 1]));
    const rules = {
      groups: [
        {
          name: 'templates',
          rules: ALERTS.map((a) => ({
            alert: a.alert,
            expr: a.expr,
            labels: a.labels,
            annotations: a.annotations,
          })),
        },
      ],
    };
    const tests = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: SERIES,
          external_labels: EXTERNAL_LABELS,
          external_url: EXTERNAL_URL,
          alert_rule_test: expected.map((e) => ({
            eval_time: `${EVAL_MS / 60_000}m`,
            alertname: e.alert,
            exp_alerts: e.exp,
          })),
        },
      ],
    };
    await writeFile(join(dir, 'rules.yml'), stringify(rules, { lineWidth: 0 }));
    await writeFile(join(dir, 'tests.yml'), stringify(tests, { lineWidth: 0 }));
    let output = '';
    let ok = true;
    try {
      await run(PROMTOOL, ['test', 'rules', 'tests.yml'], { cwd: dir, maxBuffer: 64 << 20 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      ok = false;
      output = (e.stdout ?? '') + (e.stderr ?? '');
    }
    expect(ok, ok ? '' : `templates expanded differently from Prometheus:\n${explain(output)}`).toBe(true);
  });

  it('rejects at load exactly the templates Prometheus rejects, with its message', async () => {
    await requirePromtool();
    const theirs = await checkRules(dir, SYNTAX);
    const ours = new Map<string, string>();
    SYNTAX.forEach((t, i) => {
      try {
        compileTemplate('__alert_Syntax', t);
      } catch (err) {
        ours.set(key(i), (err as Error).message);
      }
    });
    const diffs = SYNTAX.map((t, i) => ({
      template: t,
      ours: ours.get(key(i)),
      prometheus: theirs.get(key(i)),
    })).filter((d) => d.ours !== d.prometheus);
    expect(diffs).toEqual([]);
    expect(theirs.size).toBeGreaterThan(SYNTAX.length / 2);
  });
});
