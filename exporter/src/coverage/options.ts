/**
 * The coverage run's options: one typed interface, one DEFAULT_COVERAGE_OPTIONS, one validation that names
 * the field to change. The CLI, a worker thread or an HTTP route all pass a Partial and get the same checks.
 */
import { z } from 'zod';
import { SCENARIO_KINDS, type ScenarioKind, type ServerInfo } from '../simulator/index.js';

/** CoverageErrorCode is the stable code of a coverage error. */
export type CoverageErrorCode = 'COVERAGE_OPTIONS_INVALID' | 'COVERAGE_RULES_INVALID' | 'COVERAGE_BUSY';

/** COVERAGE_ERROR_STATUS is the HTTP status an API maps each code to (bad input; a job already running). */
export const COVERAGE_ERROR_STATUS: Readonly<Record<CoverageErrorCode, number>> = {
  COVERAGE_OPTIONS_INVALID: 400,
  COVERAGE_RULES_INVALID: 400,
  COVERAGE_BUSY: 409,
};

/** CoverageError is every error the coverage run throws on purpose; `field` names the offending option. */
export class CoverageError extends Error {
  override readonly name = 'CoverageError';
  constructor(
    readonly code: CoverageErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  /** status is the HTTP status this error maps to. */
  get status(): number {
    return COVERAGE_ERROR_STATUS[this.code];
  }
}

/** CoverageOptions configure one coverage run; every field has a default (DEFAULT_COVERAGE_OPTIONS). */
export interface CoverageOptions {
  /** ruleFiles are globs of Prometheus rule files, relative to `cwd`; empty = the repository's `rules/*.yml`. */
  readonly ruleFiles: readonly string[];
  readonly cwd: string;
  /** seed of the fleet's noise and of the scenario plan (durations, which server of a role). */
  readonly seed: number;
  /** servers is the fleet size: 20 = the shipped fleet (fleets/default.yaml), any other = a generated one. */
  readonly servers: number;
  /** fleet, when given, replaces `servers` with explicit servers. */
  readonly fleet?: readonly ServerInfo[];
  readonly kinds: readonly ScenarioKind[];
  /** intensities run for every kind and role (0..1; the schedule draws from 0.4–1.0). */
  readonly intensities: readonly number[];
  /** repetitions of every kind × intensity × role cell. */
  readonly repetitions: number;
  /** start is the first simulated instant (Unix ms, a multiple of tickMs): a fixed date, so runs repeat. */
  readonly start: number;
  /** warmupMs is simulated and evaluated before the first scenario, and not scored (rate windows fill). */
  readonly warmupMs: number;
  /** quietMs is the least time a server stays healthy after a scenario before the next one starts on it. */
  readonly quietMs: number;
  /**
   * minDays stretches the quiet periods so that the run lasts at least this many simulated days (false
   * alarms are then measured over the daily and weekly cycles too); 0 = as short as the plan allows.
   */
  readonly minDays: number;
  /** graceMs: an alert that begins firing up to this long after a scenario's end still counts for it. */
  readonly graceMs: number;
  /** flapWindowMs: an episode beginning this soon after the same alert's previous one ended is a flap. */
  readonly flapWindowMs: number;
  /** evaluationIntervalMs is the interval of rule groups that set none (the exporter's default is 15 s). */
  readonly evaluationIntervalMs: number;
  /** tickMs is the simulator's step (the exporter's tick). */
  readonly tickMs: number;
  /**
   * segments cuts the simulated time into this many consecutive parts, each simulated and evaluated on its
   * own after a lead-in as long as the rules look back (run.ts); 0 = automatic (2 when the run is at least
   * three lead-ins long, else 1). The report does not depend on it; `workers` run segments side by side.
   */
  readonly segments: number;
  /** workers is how many worker threads run segments at once; 0 = one per segment, at most one per core. */
  readonly workers: number;
}

/** DEFAULT_INTENSITIES span the schedule's intensity range 0.4–1.0: mild, medium, severe. */
export const DEFAULT_INTENSITIES: readonly number[] = [0.4, 0.7, 1];

/**
 * DEFAULT_COVERAGE_OPTIONS: 5 repetitions of every kind × intensity × role on the shipped 20 servers, from a
 * Monday 00:00 UTC; an hour of warm-up (the longest range window of the shipped rules is predict_linear's
 * [1h]); half an hour of quiet after each scenario on a server (rate windows of 5 min and `for` up to 10 min
 * settle well within it); a 10 min grace (a [5m] rate window plus a 5 min `for` can fire that long after the
 * cause stopped); the exporter's 15 s tick and evaluation interval.
 */
export const DEFAULT_COVERAGE_OPTIONS: CoverageOptions = {
  ruleFiles: [],
  cwd: process.cwd(),
  seed: 42,
  servers: 20,
  kinds: SCENARIO_KINDS,
  intensities: DEFAULT_INTENSITIES,
  repetitions: 5,
  start: Date.UTC(2026, 0, 5),
  warmupMs: 3_600_000,
  quietMs: 30 * 60_000,
  minDays: 0,
  graceMs: 10 * 60_000,
  flapWindowMs: 15 * 60_000,
  evaluationIntervalMs: 15_000,
  tickMs: 15_000,
  segments: 0,
  workers: 0,
};

const ms = z.number().int().nonnegative();
const schema = z.object({
  ruleFiles: z.array(z.string().min(1, 'a rule file glob must not be empty')),
  cwd: z.string().min(1),
  seed: z.number().int('seed must be an integer'),
  servers: z.number().int().min(1, 'servers must be at least 1').max(10_000, 'servers must be ≤ 10000'),
  kinds: z
    .array(z.enum(SCENARIO_KINDS, { message: `kinds must be among ${SCENARIO_KINDS.join(', ')}` }))
    .min(1, 'name at least one scenario kind'),
  intensities: z
    .array(z.number().min(0, 'intensities are 0..1').max(1, 'intensities are 0..1'))
    .min(1, 'name at least one intensity'),
  repetitions: z.number().int().min(1, 'repetitions must be ≥ 1').max(1000, 'repetitions must be ≤ 1000'),
  start: ms,
  warmupMs: ms,
  quietMs: ms,
  minDays: z.number().min(0).max(366, 'minDays must be ≤ 366'),
  graceMs: ms,
  flapWindowMs: ms,
  evaluationIntervalMs: z.number().int().min(1000, 'evaluationIntervalMs must be ≥ 1000'),
  tickMs: z.number().int().min(1000, 'tickMs must be ≥ 1000'),
  segments: z.number().int().min(0).max(64, 'segments must be ≤ 64'),
  workers: z.number().int().min(0).max(64, 'workers must be ≤ 64'),
});

/** resolveCoverageOptions fills defaults and validates; throws COVERAGE_OPTIONS_INVALID naming the field. */
export function resolveCoverageOptions(partial: Partial<CoverageOptions> = {}): CoverageOptions {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const merged: CoverageOptions = { ...DEFAULT_COVERAGE_OPTIONS, ...defined };
  const res = schema.safeParse(merged);
  if (!res.success) {
    const issue = res.error.issues[0];
    const field = issue?.path.map(String).join('.') ?? 'options';
    throw new CoverageError('COVERAGE_OPTIONS_INVALID', `${field}: ${issue?.message ?? 'invalid'}`, field);
  }
  if (merged.start % merged.tickMs !== 0)
    throw new CoverageError(
      'COVERAGE_OPTIONS_INVALID',
      `start: must be a multiple of tickMs (${merged.tickMs} ms)`,
      'start',
    );
  return { ...merged, kinds: [...new Set(merged.kinds)], intensities: [...new Set(merged.intensities)] };
}
