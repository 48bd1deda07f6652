import { describe, expect, it } from 'vitest';
import {
  formatFloat,
  parseGoFloat,
  printTemplateValue,
  quote,
  sprint,
  sprintf,
  sprintln,
  sprintTemplateArgs,
  type FloatFormat,
} from './go-fmt.js';
import { GoByte, GoHTML, GoMap, GoQueryResult, GoSample, GoTime, type GoValue } from './template-values.js';

// Expected strings are Go's (fmt, strconv), checked against Prometheus 2.42 by template-promtool.test.ts.

describe('formatFloat (strconv.FormatFloat)', () => {
  const rows: [number, FloatFormat, number, string][] = [
    [85.5, 'g', -1, '85.5'],
    [0.1 + 0.2, 'g', -1, '0.30000000000000004'],
    [1e21, 'g', -1, '1e+21'],
    [1e20, 'g', -1, '1e+20'],
    [123456, 'g', -1, '123456'],
    [1234567, 'g', -1, '1.234567e+06'],
    [0.0001, 'g', -1, '0.0001'],
    [0.00001, 'g', -1, '1e-05'],
    [-0, 'g', -1, '-0'],
    [NaN, 'g', -1, 'NaN'],
    [Infinity, 'f', 2, '+Inf'],
    [-Infinity, 'e', 2, '-Inf'],
    [1234567, 'g', 4, '1.235e+06'],
    [1234.567, 'g', 4, '1235'],
    [100, 'g', 4, '100'],
    [0, 'g', 4, '0'],
    [0.000123, 'g', 4, '0.000123'],
    [123456, 'g', 2, '1.2e+05'],
    [0.5, 'f', 0, '0'],
    [1.5, 'f', 0, '2'],
    [2.5, 'f', 0, '2'],
    [3.5, 'f', 0, '4'],
    [1.005, 'f', 2, '1.00'],
    [1.015, 'f', 2, '1.01'],
    [0.05, 'f', 1, '0.1'],
    [0.25, 'f', 1, '0.2'],
    [0.1, 'f', 20, '0.10000000000000000555'],
    [1e21, 'f', 6, '1000000000000000000000.000000'],
    [0.0009, 'f', 2, '0.00'],
    [0.009, 'f', 2, '0.01'],
    [1234.5678, 'e', 6, '1.234568e+03'],
    [0, 'e', 3, '0.000e+00'],
    [1e-300, 'e', 1, '1.0e-300'],
    [5e-324, 'e', 2, '4.94e-324'],
    [0.1, 'g', 17, '0.10000000000000001'],
    [85.5, 'x', -1, '0x1.56p+06'],
    [1, 'x', 3, '0x1.000p+00'],
    [-0.1, 'X', -1, '-0X1.999999999999AP-04'],
    [1, 'b', -1, '4503599627370496p-52'],
  ];
  it.each(rows)('%s %s %s → %s', (v, fmt, prec, want) => {
    expect(formatFloat(v, fmt, prec)).toBe(want);
  });
});

describe('sprintf (fmt.Sprintf)', () => {
  const rows: [string, GoValue[], string][] = [
    ['%.2f', [85.5], '85.50'],
    ['%5.1f|', [85.5], ' 85.5|'],
    ['%d', [85.5], '%!d(float64=85.5)'],
    ['%s', [85.5], '%!s(float64=85.5)'],
    ['%d', [42n], '42'],
    ['%05d', [-42n], '-0042'],
    ['%x %X %o %b %O', [255n, 255n, 8n, 5n, 8n], 'ff FF 10 101 0o10'],
    ['%+d % d', [5n, 5n], '+5  5'],
    ['%#x %#o', [255n, 8n], '0xff 010'],
    ['%-6d|%6d', [42n, 42n], '42    |    42'],
    ['%.3d', [7n], '007'],
    ['%c %q %U %#U', [65n, 65n, 128512n, 128512n], "A 'A' U+1F600 U+1F600 '😀'"],
    ['%q', [3n], "'\\x03'"],
    ['%e %E %+.2e', [1234.5678, 0.000012, 12345.678], '1.234568e+03 1.200000E-05 +1.23e+04'],
    ['%g %G %.3g', [1e21, 1e-7, 123456], '1e+21 1E-07 1.23e+05'],
    ['%v %v %v', [1e21, 123456789, 100000], '1e+21 1.23456789e+08 100000'],
    ['%08.3f|%-8.3f|%+08.3f|% .2f', [3.14159, 3.14159, 3.14159, 2.5], '0003.142|3.142   |+003.142| 2.50'],
    ['%6.2f%%', [12.3456], ' 12.35%'],
    ['%08.2f', [-Infinity], '    -Inf'],
    ['%+v %v %+.1f', [NaN, Infinity, NaN], 'NaN +Inf +NaN'],
    ['%s|%q|%10s|%-10s|%.3s', ['x', 'a"b\tc', 'r', 'l', 'abcdef'], 'x|"a\\"b\\tc"|         r|l         |abc'],
    ['%x|% x|%#x|%X', ['hi', 'hi', 'hi', 'é'], '6869|68 69|0x6869|C3A9'],
    ['%05s', ['ab'], '000ab'],
    ['%#q %+q', ['b', 'é'], '`b` "\\u00e9"'],
    ['%t %v %5t', [true, false, true], 'true false  true'],
    ['%d', [true], '%!d(bool=true)'],
    ['%s', [3n], '%!s(int=3)'],
    ['%g', [123456n], '%!g(int=123456)'],
    ['%d', ['x'], '%!d(string=x)'],
    ['%v %d', [undefined, undefined], '<nil> %!d(<nil>)'],
    ['%T %T %T %T %T', [1n, 1.5, 's', true, undefined], 'int float64 string bool <nil>'],
    ['%%|%d %s', [], '%|%!d(MISSING) %!s(MISSING)'],
    ['%d', [1n, 2n], '1%!(EXTRA int=2)'],
    ['%d', [1n, 'a', undefined], '1%!(EXTRA string=a, <nil>)'],
    ['%[2]d %[1]d', [1n, 2n], '2 1'],
    ['%[3]d', [1n], '%!d(BADINDEX)'],
    ['%*d|%-*d|', [5n, 42n, 4n, 7n], '   42|7   |'],
    ['%*d', ['x', 1n], '%!(BADWIDTH)1'],
    ['%.*f', [2n, 3.14159], '3.14'],
    ['%!', [], '%!!(MISSING)'],
    ['%z', [1n], '%!z(int=1)'],
    ['abc%', [], 'abc%!(NOVERB)'],
    ['%d', [new GoByte(98)], '98'],
    ['%s', [new GoHTML('<b>')], '<b>'],
    ['%d', [new GoHTML('x')], '%!d(template.HTML=x)'],
    ['%v', [new GoTime(1000n)], '1970-01-01 00:00:01 +0000 UTC'],
  ];
  it.each(rows)('%s %s → %s', (format, args, want) => {
    expect(sprintf(format, args)).toBe(want);
  });

  const labels = GoMap.fromLabels({ server: 'b', instance: 'h:1' });
  const compound: [string, GoValue, string][] = [
    ['%v', labels, 'map[instance:h:1 server:b]'],
    ['%d', labels, 'map[%!d(string=instance):%!d(string=h:1) %!d(string=server):%!d(string=b)]'],
    ['%q', labels, 'map["instance":"h:1" "server":"b"]'],
    [
      '%v',
      new GoMap(
        'interface {}',
        new Map<string, GoValue>([
          ['arg0', 1n],
          ['arg1', undefined],
        ]),
      ),
      'map[arg0:1 arg1:<nil>]',
    ],
    ['%v', new GoSample(labels, 0.5), '&{map[instance:h:1 server:b] 0.5}'],
    ['%+v', new GoSample(labels, 0.5), '&{Labels:map[instance:h:1 server:b] Value:0.5}'],
    ['%T', new GoQueryResult([]), 'template.queryResult'],
    ['%v', new GoQueryResult([]), '[]'],
  ];
  it.each(compound)('%s of a compound value', (format, v, want) => {
    expect(sprintf(format, [v])).toBe(want);
  });
});

describe('sprint, sprintln and the template printers', () => {
  it.each([
    [[1n, 2n, 'a', 'b', 3n, undefined], '1 2ab3 <nil>'],
    [[85.5, 'web-1'], '85.5web-1'],
    [[new GoHTML('x'), 1n], 'x1'],
    [[], ''],
  ] as [GoValue[], string][])('sprint %s → %s', (args, want) => {
    expect(sprint(args)).toBe(want);
  });

  it('sprintln separates every operand and ends the line', () => {
    expect(sprintln(['a', 1n])).toBe('a 1\n');
  });

  it.each([
    [undefined, '<no value>'],
    [85.5, '85.5'],
    [new GoSample(GoMap.fromLabels({ a: 'b' }), 1), '{map[a:b] 1}'],
    [new GoTime(1435065584128n), '2015-06-23 13:19:44.128 +0000 UTC'],
    [new GoTime(-1500n), '1969-12-31 23:59:58.5 +0000 UTC'],
  ] as [GoValue, string][])('an action prints %s as %s', (v, want) => {
    expect(printTemplateValue(v)).toBe(want);
  });

  it.each([
    [['<b>'], '<b>'],
    [[undefined], '<no value>'],
    [[1n, 'a'], '1a'],
    [[new GoSample(GoMap.fromLabels({}), 2)], '{map[] 2}'],
  ] as [GoValue[], string][])('html/js/urlquery join %s as %s', (args, want) => {
    expect(sprintTemplateArgs(args)).toBe(want);
  });
});

describe('parseGoFloat (strconv.ParseFloat)', () => {
  it.each([
    ['85.5', 85.5],
    ['-1e3', -1000],
    ['.5', 0.5],
    ['5.', 5],
    ['1_000', 1000],
    ['0x10', NaN], // hex needs a p exponent
    ['0x1p4', 16],
    ['0x1.8p1', 3],
    ['+Inf', Infinity],
    ['-infinity', -Infinity],
    ['NaN', NaN],
  ])('%s → %s', (s, want) => {
    if (Number.isNaN(want) && s !== 'NaN') expect(() => parseGoFloat(s)).toThrow('invalid syntax');
    else expect(parseGoFloat(s)).toBe(want);
  });

  it.each([
    ['abc', 'strconv.ParseFloat: parsing "abc": invalid syntax'],
    ['', 'strconv.ParseFloat: parsing "": invalid syntax'],
    ['1e400', 'strconv.ParseFloat: parsing "1e400": value out of range'],
    ['_1', 'strconv.ParseFloat: parsing "_1": invalid syntax'],
    ['1__0', 'strconv.ParseFloat: parsing "1__0": invalid syntax'],
    [' 1', 'strconv.ParseFloat: parsing " 1": invalid syntax'],
  ])('%j is rejected with Go’s error', (s, msg) => {
    expect(() => parseGoFloat(s)).toThrow(msg);
  });
});

describe('quote (strconv.Quote)', () => {
  it.each([
    ['abc', '"abc"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['\x00\x7f', '"\\x00\\x7f"'],
    ['é😀', '"é😀"'],
    ['\u2028\u00a0\ufeff', '"\\u2028\\u00a0\\ufeff"'],
  ])('%j → %s', (s, want) => {
    expect(quote(s)).toBe(want);
  });

  it('escapes everything beyond ASCII when asked to (QuoteToASCII)', () => {
    expect(quote('é😀', true)).toBe('"\\u00e9\\U0001f600"');
  });
});
