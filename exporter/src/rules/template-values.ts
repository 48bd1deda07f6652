/**
 * The values a rule template computes with, modelled on the Go types Prometheus's templates see through
 * reflection (text/template is dynamically typed over Go's static types, and the types decide what a template
 * prints and which errors it raises):
 *
 * | Go type                      | here            | from                                   |
 * | ---------------------------- | --------------- | -------------------------------------- |
 * | invalid value / nil `any`    | `undefined`     | a missing `args` key, `nil` literals   |
 * | `string`                     | `string`        | string literals, `$labels.x`, results  |
 * | `float64`                    | `number`        | `$value`, `value`, float literals      |
 * | `int`                        | `bigint`        | integer and character literals, `len`  |
 * | `bool`                       | `boolean`       | `true`, `eq`, `match`                  |
 * | `uint8`                      | `GoByte`        | `index` of a string                    |
 * | `template.HTML`              | `GoHTML`        | `safeHtml`                             |
 * | `map[string]string` / `any`  | `GoMap`         | `$labels`, `.Labels`, `args`           |
 * | `*template.sample`           | `GoSample`      | `first`, ranging over `query`          |
 * | `template.queryResult`       | `GoQueryResult` | `query`, `sortByLabel`                 |
 * | `*time.Time`                 | `GoTime`        | `toTime`                               |
 * | the alert struct             | `GoAlertData`   | `.` and `$` of an alert template       |
 */
import type { Labels } from '../util/labels.js';

/** GoByte is a Go `uint8`, what `index` returns for a string (a byte, printed as a number). */
export class GoByte {
  constructor(readonly v: number) {}
}

/** GoHTML is html/template's `HTML` string type, what `safeHtml` returns; it prints as its text. */
export class GoHTML {
  constructor(readonly s: string) {}
}

/** GoMap is a Go map with string keys: `map[string]string` (labels) or `map[string]interface {}` (`args`). */
export class GoMap {
  constructor(
    readonly elem: 'string' | 'interface {}',
    readonly entries: ReadonlyMap<string, GoValue>,
  ) {}

  /** fromLabels wraps a label set as the `map[string]string` templates index with `$labels.name`. */
  static fromLabels(labels: Labels): GoMap {
    return new GoMap('string', new Map(Object.entries(labels)));
  }

  /** sortedKeys returns the keys in Go's map order (fmt and range sort string keys bytewise). */
  sortedKeys(): string[] {
    return [...this.entries.keys()].sort(compareGoStrings);
  }
}

/** GoSample is Prometheus's `*template.sample`: one element of a query result. */
export class GoSample {
  constructor(
    readonly labels: GoMap,
    readonly value: number,
  ) {}
}

/** GoQueryResult is Prometheus's `template.queryResult`, a slice that `sortByLabel` sorts in place. */
export class GoQueryResult {
  constructor(readonly samples: GoSample[]) {}
}

/** GoTime is the `*time.Time` that `toTime` returns: milliseconds since the epoch, in UTC. */
export class GoTime {
  constructor(readonly unixMs: bigint) {}

  /** toString prints the time as Go's `Time.String()`: `2006-01-02 15:04:05.999 +0000 UTC`. */
  toString(): string {
    const d = new Date(Number(this.unixMs));
    const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
    const ms = d.getUTCMilliseconds();
    const frac = ms === 0 ? '' : '.' + pad(ms, 3).replace(/0+$/, '');
    const year = d.getUTCFullYear();
    const y = year < 0 ? '-' + pad(-year, 4) : pad(year, 4);
    return (
      `${y}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac} +0000 UTC`
    );
  }
}

/** GoAlertData is the struct an alert template's dot holds (Prometheus's `AlertTemplateData`). */
export class GoAlertData {
  constructor(
    readonly labels: GoMap,
    readonly externalLabels: GoMap,
    readonly externalURL: string,
    readonly value: number,
  ) {}

  /** fields lists the struct's fields in declaration order, as fmt prints them. */
  fields(): [string, GoValue][] {
    return [
      ['Labels', this.labels],
      ['ExternalLabels', this.externalLabels],
      ['ExternalURL', this.externalURL],
      ['Value', this.value],
    ];
  }
}

/** GoValue is any value a template computes with (see the table at the top of this file). */
export type GoValue =
  | undefined
  | string
  | number
  | bigint
  | boolean
  | GoByte
  | GoHTML
  | GoMap
  | GoSample
  | GoQueryResult
  | GoTime
  | GoAlertData;

/** ALERT_DATA_TYPE is the Go name of the alert struct's type, as errors and `%T` print it. */
export const ALERT_DATA_TYPE =
  'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }';

/** goTypeName returns the Go type of a value as `%T` and error messages print it. */
export function goTypeName(v: GoValue): string {
  if (v === undefined) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'bigint':
      return 'int';
    case 'boolean':
      return 'bool';
  }
  if (v instanceof GoByte) return 'uint8';
  if (v instanceof GoHTML) return 'template.HTML';
  if (v instanceof GoMap) return `map[string]${v.elem}`;
  if (v instanceof GoSample) return '*template.sample';
  if (v instanceof GoQueryResult) return 'template.queryResult';
  if (v instanceof GoTime) return '*time.Time';
  return ALERT_DATA_TYPE;
}

/** stringOf returns the text of a value whose Go kind is string (`string`, `template.HTML`), else undefined. */
export function stringOf(v: GoValue): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof GoHTML) return v.s;
  return undefined;
}

/** isTrue is text/template's truth: false, 0, NaN-free zero, "", empty maps and slices, and nil are false. */
export function isTrue(v: GoValue): boolean {
  if (v === undefined) return false;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'boolean':
      return v;
  }
  if (v instanceof GoByte) return v.v !== 0;
  if (v instanceof GoHTML) return v.s.length > 0;
  if (v instanceof GoMap) return v.entries.size > 0;
  if (v instanceof GoQueryResult) return v.samples.length > 0;
  return true; // non-nil pointers and structs
}

/** compareGoStrings orders strings as Go compares them (UTF-8 bytes, i.e. code points, not UTF-16 units). */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** utf8Length is the length of a string in UTF-8 bytes, Go's `len` of a string. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
