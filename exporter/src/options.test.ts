import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_OPTIONS,
  OPTION_SPECS,
  flagName,
  formatDuration,
  helpText,
  parseDuration,
  parseOptions,
  samplesInFlightFor,
  type ExporterOptions,
} from './options.js';

/** EXPORTER_DIR is the exporter package, where a child process resolves tsx and ./src. */
const EXPORTER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

function parse(argv: string[], env: Record<string, string> = {}): ExporterOptions {
  const r = parseOptions(argv, env);
  if (r.help || r.version) throw new Error('unexpected --help or --version');
  return r.options;
}

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1y', 31_536_000_000],
    ['2w', 1_209_600_000],
    ['7', undefined],
    ['d', undefined],
    ['-1d', undefined],
    ['1.5h', undefined],
    // Prometheus's grammar: each unit once, largest first.
    ['30m1h', undefined],
    ['1h1h', undefined],
  ])('%s → %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([0, 500, 5_400_000, 604_800_000, 31_536_000_000])('formatDuration round-trips %d', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('parseOptions', () => {
  it('defaults to the documented values', () => {
    expect(parse([])).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toMatchObject({
      port: 3001,
      servers: 20,
      tickSeconds: 15,
      speed: 1,
      backfill: 7 * 86_400_000,
      dataDir: './data',
      broadcastSeconds: 5,
      redisUrl: undefined,
      apiToken: undefined,
    });
  });

  it.each<[string, string[], Record<string, string>, Partial<ExporterOptions>]>([
    ['env', [], { PORT: '8080', SERVERS: '1000' }, { port: 8080, servers: 1000 }],
    ['flag', ['--port', '9000', '--tick-seconds', '0.5'], {}, { port: 9000, tickSeconds: 0.5 }],
    ['flag wins over env', ['--port=9000'], { PORT: '8080' }, { port: 9000 }],
    [
      'durations',
      ['--backfill', '0', '--retention-1h', '2y'],
      {},
      { backfill: 0, retention1h: 2 * 31_536_000_000 },
    ],
    [
      'unset strings',
      [],
      { REDIS_URL: '', API_TOKEN: 's3cret' },
      { redisUrl: undefined, apiToken: 's3cret' },
    ],
    ['lists', [], { ALLOWED_ORIGINS: 'http://a, http://b,' }, { allowedOrigins: ['http://a', 'http://b'] }],
    ['enum', ['--log-level', 'debug'], {}, { logLevel: 'debug' }],
  ])('%s', (_name, argv, env, want) => {
    expect(parse(argv, env)).toMatchObject(want);
  });

  it.each<[string[], Record<string, string>, RegExp]>([
    [['--port', 'abc'], {}, /PORT \/ --port = "abc" \(from --port\); accepted values: an integer 0–65535/],
    [[], { PORT: '70000' }, /PORT.*"70000" \(from PORT \(env\)\).*0–65535/],
    [[], { SERVERS: '0' }, /SERVERS.*accepted values: an integer 1–10000/],
    [['--backfill', '7 days'], {}, /BACKFILL.*a duration like 7d/],
    [['--log-level', 'loud'], {}, /LOG_LEVEL.*fatal, error, warn, info, debug, trace, silent/],
    [['--speed', '0'], {}, /SPEED.*0\.01–10000/],
    [['--no-such-flag'], {}, /no-such-flag.*--help/],
    [['positional'], {}, /positional.*--help/],
  ])('rejects %j %j', (argv, env, message) => {
    expect(() => parseOptions(argv, env)).toThrow(ConfigError);
    expect(() => parseOptions(argv, env)).toThrow(message);
  });

  it('--help is a request, not options', () => {
    expect(parseOptions(['--help'], {})).toEqual({ help: true });
    expect(parseOptions(['-h'], {})).toEqual({ help: true });
  });

  it('helpText lists every option with its flag, env var and default', () => {
    const text = helpText();
    for (const key of Object.keys(OPTION_SPECS) as (keyof typeof OPTION_SPECS)[]) {
      expect(text).toContain(`--${flagName(key)}`);
      expect(text).toContain(OPTION_SPECS[key].env);
    }
    expect(text).toMatch(/--port\s+PORT\s+3001/);
    expect(text).toMatch(/--backfill\s+BACKFILL\s+1w/);
  });
});

describe('the in-flight sample budget', () => {
  it('is a quarter of the heap limit at 16 bytes a sample, capped at Prometheus’s 50,000,000', () => {
    const MiB = 1024 * 1024;
    // A container's ~256 MiB heap: 16 MiB / 16 B.
    expect(samplesInFlightFor(256 * MiB)).toBe(4 * MiB);
    expect(samplesInFlightFor(2048 * MiB)).toBe(32 * MiB);
    expect(samplesInFlightFor(4144 * MiB)).toBe(50_000_000);
    expect(samplesInFlightFor(0)).toBe(1);
  });

  it('defaults from the heap limit of the process, so a small heap gets a small budget', () => {
    // A process started with a 256 MiB old space, as a small container would size it.
    const out = execFileSync(
      process.execPath,
      [
        '--max-old-space-size=256',
        '--import',
        'tsx',
        '-e',
        "import('./src/options.ts').then((m) => console.log(JSON.stringify([m.DEFAULT_OPTIONS.queryMaxSamplesInFlight, require('node:v8').getHeapStatistics().heap_size_limit])))",
      ],
      { cwd: EXPORTER_DIR, encoding: 'utf8' },
    );
    const [budget, heap] = JSON.parse(out) as [number, number];
    expect(heap).toBeLessThan(512 * 1024 * 1024);
    expect(budget).toBe(samplesInFlightFor(heap));
    expect(budget).toBeLessThan(10_000_000);
    expect(parse([], { QUERY_MAX_SAMPLES_IN_FLIGHT: '1000' }).queryMaxSamplesInFlight).toBe(1000);
  });
});
