/**
 * A strict parser of Prometheus text 0.0.4 and OpenMetrics 1.0 expositions, for tests: it throws on anything
 * a scraper could reject (a sample outside a declared family, a bad label escape, a duplicate series, a
 * missing `# EOF`), so tests can assert on the parsed families instead of on strings. Also runs promtool.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** ParsedSample is one sample line. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** ParsedFamily is one family with its metadata and samples. */
export interface ParsedFamily {
  readonly name: string;
  help?: string;
  type?: string;
  unit?: string;
  readonly samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
  gauge: [''],
  untyped: [''],
  unknown: [''],
  info: ['_info'],
  stateset: [''],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
};

function parseValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value "${s}"`);
  return Number(s);
}

function parseLabels(s: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  while (s[i] !== '}') {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(s.slice(i));
    if (!m || !m[1]) throw new Error(`bad label at "${s.slice(i)}" in: ${line}`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[i + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`bad escape \\${n} in: ${line}`);
        i += 2;
        continue;
      }
      if (c === '\n') throw new Error(`raw newline in label value: ${line}`);
      value += c;
      i++;
    }
    if (m[1] in labels) throw new Error(`duplicate label ${m[1]} in: ${line}`);
    labels[m[1]] = value;
    i++; // closing quote
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`expected , or } in: ${line}`);
  }
  return { labels, rest: s.slice(i + 1) };
}

/** parseExposition parses a whole body strictly; `openmetrics` also enforces OpenMetrics rules. */
export function parseExposition(body: string, format: 'text' | 'openmetrics'): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const seen = new Set<string>();
  const lines = body.split('\n');
  if (lines.pop() !== '') throw new Error('body does not end with a newline');
  let current: ParsedFamily | undefined;
  let eof = false;
  const family = (name: string): ParsedFamily => {
    let f = families.get(name);
    if (!f) {
      f = { name, samples: [] };
      families.set(name, f);
    } else if (f !== current) {
      throw new Error(`family ${name} is not contiguous`);
    }
    current = f;
    return f;
  };
  for (const line of lines) {
    if (eof) throw new Error(`content after # EOF: ${line}`);
    if (line === '') {
      if (format === 'openmetrics') throw new Error('blank line in OpenMetrics');
      continue;
    }
    if (line.startsWith('#')) {
      if (line === '# EOF') {
        if (format !== 'openmetrics') throw new Error('# EOF in text format');
        eof = true;
        continue;
      }
      const m = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line);
      if (!m || !m[2]) {
        if (format === 'openmetrics') throw new Error(`bad comment: ${line}`);
        continue;
      }
      if (!NAME.test(m[2])) throw new Error(`bad family name: ${line}`);
      const f = family(m[2]);
      const kind = m[1];
      const text = m[3] ?? '';
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`second HELP: ${line}`);
        f.help = text;
      } else if (kind === 'TYPE') {
        if (f.type !== undefined || f.samples.length) throw new Error(`late or second TYPE: ${line}`);
        if (!(text in SUFFIXES)) throw new Error(`unknown type: ${line}`);
        f.type = text;
      } else {
        if (format !== 'openmetrics') throw new Error('# UNIT in text format');
        if (!m[2].endsWith(`_${text}`)) throw new Error(`family name does not end in its unit: ${line}`);
        f.unit = text;
      }
      continue;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) throw new Error(`bad sample line: ${line}`);
    const name = nm[0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const vm = /^ (\S+)(?: (\S+))?$/.exec(rest);
    if (!vm || !vm[1]) throw new Error(`bad value part: ${line}`);
    const value = parseValue(vm[1]);
    if (!current || !current.type) throw new Error(`sample outside a typed family: ${line}`);
    const suffixes = SUFFIXES[current.type] ?? [''];
    const suffix = name.slice(current.name.length);
    const textCounter = format === 'text' && current.type === 'counter' && suffix === '';
    if (!name.startsWith(current.name) || !(suffixes.includes(suffix) || textCounter)) {
      throw new Error(`sample ${name} does not belong to family ${current.name} (${current.type})`);
    }
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`duplicate series: ${line}`);
    seen.add(key);
    current.samples.push({ name, labels, value });
  }
  if (format === 'openmetrics' && !eof) throw new Error('OpenMetrics body lacks # EOF');
  for (const f of families.values()) {
    if (f.help === undefined || f.type === undefined) throw new Error(`family ${f.name} lacks HELP or TYPE`);
  }
  return families;
}

/** PROMTOOL is Debian's promtool, which the tests need. */
export const PROMTOOL = '/usr/bin/promtool';

/** promtoolCheckMetrics runs `promtool check metrics` on a body; fails clearly when promtool is missing. */
export function promtoolCheckMetrics(body: string | Buffer): { status: number | null; output: string } {
  if (!existsSync(PROMTOOL)) {
    throw new Error(
      `${PROMTOOL} is missing: install Debian's "prometheus" package (apt-get install -y prometheus)`,
    );
  }
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}
