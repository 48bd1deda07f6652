/**
 * The coverage command line: `npm run coverage -w exporter -- --rules <glob> [--seed N] [--repeat N]
 * [--out dir] [--min-detection R] …`. It prints the report's tables, writes `coverage-report.json` and
 * `coverage-report.html` to `--out`, and exits 1 when the detection rate is below `--min-detection`, so a
 * team can gate its rule changes in CI. `coverageCli` does the work and returns the exit code (the script in
 * scripts/coverage.ts only calls it), so tests run it in-process.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIO_KINDS, type ScenarioKind } from '../simulator/index.js';
import { renderCoverageHtml } from './html.js';
import { CoverageError, DEFAULT_COVERAGE_OPTIONS, type CoverageOptions } from './options.js';
import { runCoverage } from './run.js';
import { formatCoverageTable } from './table.js';

/** COVERAGE_USAGE is the --help text. */
export const COVERAGE_USAGE = `usage: npm run coverage -w exporter -- [options]

Runs Prometheus rule files against every failure scenario of a simulated fleet in virtual time and reports
what fired, how fast, what was missed and what fired without a cause.

  --rules <glob>          rule files (repeat or comma-separate; default: the repository's rules/*.yml)
  --seed <n>              seed of the fleet and the plan (default ${DEFAULT_COVERAGE_OPTIONS.seed})
  --repeat <n>            repetitions of every kind x intensity x role (default ${DEFAULT_COVERAGE_OPTIONS.repetitions})
  --servers <n>           fleet size (default ${DEFAULT_COVERAGE_OPTIONS.servers}: the shipped fleet)
  --kinds <a,b>           scenario kinds (default all: ${SCENARIO_KINDS.join(', ')})
  --intensities <a,b>     intensities 0..1 (default ${DEFAULT_COVERAGE_OPTIONS.intensities.join(',')})
  --days <n>              stretch the quiet periods so the run lasts at least n simulated days (default 0)
  --quiet-minutes <n>     least quiet time on a server between scenarios (default ${DEFAULT_COVERAGE_OPTIONS.quietMs / 60_000})
  --evaluation-interval <s>  rule groups without their own interval, seconds (default ${DEFAULT_COVERAGE_OPTIONS.evaluationIntervalMs / 1000})
  --out <dir>             write coverage-report.json and coverage-report.html there
  --min-detection <r>     exit 1 when the detection rate (0..1) is below r
  --quiet                 no progress on stderr
  -h, --help              this text

Exit status: 0 done, 1 detection below --min-detection, 2 bad arguments or rule files.`;

/** CliIo is where the command writes (process streams by default; tests capture them). */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** list splits repeated and comma-separated values. */
function list(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** num parses a numeric flag, or throws naming it. */
function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n))
    throw new CoverageError('COVERAGE_OPTIONS_INVALID', `--${flag}: expected a number, got "${v}"`, flag);
  return n;
}

/**
 * coverageCli runs the command with `argv` (without node and the script) and returns the exit code. Paths
 * (`--rules`, `--out`) are relative to `cwd`: by default the directory npm was started in (npm runs a
 * workspace's script in the workspace, and says where it started in INIT_CWD).
 */
export async function coverageCli(
  argv: readonly string[],
  io: CliIo = processIo,
  cwd: string = process.env.INIT_CWD ?? process.cwd(),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        rules: { type: 'string', multiple: true },
        seed: { type: 'string' },
        repeat: { type: 'string' },
        servers: { type: 'string' },
        kinds: { type: 'string', multiple: true },
        intensities: { type: 'string' },
        days: { type: 'string' },
        'quiet-minutes': { type: 'string' },
        'evaluation-interval': { type: 'string' },
        out: { type: 'string' },
        'min-detection': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${COVERAGE_USAGE}\n`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    io.out(`${COVERAGE_USAGE}\n`);
    return 0;
  }
  try {
    const kinds = list(v.kinds);
    const unknown = kinds.filter((k) => !(SCENARIO_KINDS as readonly string[]).includes(k));
    if (unknown.length > 0)
      throw new CoverageError(
        'COVERAGE_OPTIONS_INVALID',
        `--kinds: unknown ${unknown.join(', ')}; use ${SCENARIO_KINDS.join(', ')}`,
        'kinds',
      );
    const minDetection = num('min-detection', v['min-detection']);
    if (minDetection !== undefined && !(minDetection >= 0 && minDetection <= 1))
      throw new CoverageError(
        'COVERAGE_OPTIONS_INVALID',
        '--min-detection: expected a rate between 0 and 1',
        'minDetection',
      );
    const quietMinutes = num('quiet-minutes', v['quiet-minutes']);
    const interval = num('evaluation-interval', v['evaluation-interval']);
    const options: Partial<CoverageOptions> = {
      ruleFiles: list(v.rules),
      cwd,
      seed: num('seed', v.seed),
      repetitions: num('repeat', v.repeat),
      servers: num('servers', v.servers),
      ...(kinds.length > 0 && { kinds: kinds as ScenarioKind[] }),
      ...(v.intensities !== undefined && {
        intensities: list([v.intensities]).map((x) => num('intensities', x) ?? NaN),
      }),
      minDays: num('days', v.days),
      quietMs: quietMinutes === undefined ? undefined : Math.round(quietMinutes * 60_000),
      evaluationIntervalMs: interval === undefined ? undefined : Math.round(interval * 1000),
    };
    let lastPct = -1;
    const report = await runCoverage(options, (p) => {
      const done = Math.floor((100 * p.simulatedMs) / Math.max(1, p.totalMs));
      if (v.quiet || done === lastPct) return;
      lastPct = done;
      io.err(`coverage: ${p.phase} ${done} % of ${(p.totalMs / 86_400_000).toFixed(2)} simulated days\n`);
    });
    io.out(`${formatCoverageTable(report)}\n`);
    if (v.out !== undefined) {
      const dir = resolve(cwd, v.out);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'coverage-report.json'), `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(join(dir, 'coverage-report.html'), renderCoverageHtml(report));
      io.out(`wrote ${join(dir, 'coverage-report.json')} and coverage-report.html\n`);
    }
    if (minDetection !== undefined && report.summary.detectionRate < minDetection) {
      io.err(
        `coverage: detection rate ${report.summary.detectionRate} is below --min-detection ${minDetection}\n`,
      );
      return 1;
    }
    return 0;
  } catch (err) {
    if (err instanceof CoverageError) {
      io.err(`coverage: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
