/**
 * The alert coverage report: what a set of Prometheus rule files caught when every failure scenario kind ran
 * on a simulated fleet in virtual time (exporter/src/coverage). One JSON document, written by the CLI and
 * returned by any API that runs a coverage job; the plugin draws its matrix and timelines from it. Types and
 * zod schemas only.
 */
import { z } from 'zod';
import { SCENARIO_KINDS, SERVER_ROLES } from './fleet.js';

const unixMs = z.number().int().nonnegative();
const count = z.number().int().nonnegative();
const ratio = z.number().min(0).max(1);
/** seconds is a duration in seconds; null where there is nothing to measure (no detection). */
const secondsOrNull = z.number().nonnegative().nullable();

/** COVERAGE_REPORT_VERSION is the report format's version; it changes when a field changes meaning. */
export const COVERAGE_REPORT_VERSION = 1;

/** coverageSettingsSchema validates the inputs a report was produced with (enough to reproduce it). */
export const coverageSettingsSchema = z.object({
  /** rules are the rule files loaded (paths as given or relative to the working directory), sorted. */
  rules: z.array(z.string()),
  seed: z.number().int(),
  servers: z.number().int().positive(),
  kinds: z.array(z.enum(SCENARIO_KINDS)),
  intensities: z.array(ratio),
  repetitions: z.number().int().positive(),
  /** start is the first simulated instant (Unix ms); warmupMs of it is evaluated but not scored. */
  start: unixMs,
  end: unixMs,
  warmupMs: count,
  quietMs: count,
  graceMs: count,
  flapWindowMs: count,
  evaluationIntervalMs: z.number().int().positive(),
  tickMs: z.number().int().positive(),
  /** segments is how many parts the simulated time was cut into (each evaluated after a lead-in). */
  segments: z.number().int().positive(),
});

/** CoverageSettings are a report's inputs. */
export type CoverageSettings = z.infer<typeof coverageSettingsSchema>;

/** coverageFiringSchema validates one firing episode of an alert: when it began and stopped firing. */
export const coverageFiringSchema = z.object({
  alertname: z.string(),
  server: z.string(),
  start: unixMs,
  /** end is when it stopped firing (the first evaluation without it); the run's end when still firing. */
  end: unixMs,
});

/** CoverageFiring is one firing episode. */
export type CoverageFiring = z.infer<typeof coverageFiringSchema>;

/**
 * coverageSignalSchema validates the series a missed scenario should have fired on: its kind's key signal
 * (the PromQL `expr`, over the origin server) evaluated by the run's own engine over the scenario's window
 * and a margin each side, one value every `stepMs` from `start` (null where the query returned nothing). A
 * run's samples exist only inside the run, so the report carries them for whoever draws the miss.
 */
export const coverageSignalSchema = z.object({
  expr: z.string(),
  /** legend names the series' unit or the label that tells several apart, as a Grafana legend would. */
  legend: z.string(),
  start: unixMs,
  stepMs: z.number().int().positive(),
  series: z.array(
    z.object({
      /** name is the series' label that tells several apart (a mount, a service), else the legend. */
      name: z.string(),
      values: z.array(z.number().nullable()),
    }),
  ),
});

/** CoverageSignal is one missed scenario's key series. */
export type CoverageSignal = z.infer<typeof coverageSignalSchema>;

/** coverageScenarioSchema validates one injected scenario and what fired for it. */
export const coverageScenarioSchema = z.object({
  id: z.string(),
  kind: z.enum(SCENARIO_KINDS),
  role: z.enum(SERVER_ROLES),
  intensity: ratio,
  server: z.string(),
  /** dependents are the other servers it affects (a cascading failure's API and web tiers). */
  dependents: z.array(z.string()),
  start: unixMs,
  end: unixMs,
  detected: z.boolean(),
  /** timeToFireS is from the scenario's start to the first alert firing for an affected server. */
  timeToFireS: secondsOrNull,
  /** alerts are the alert names that fired for the origin server within the window, sorted. */
  alerts: z.array(z.string()),
  /** dependentAlerts are those that fired for dependents, sorted. */
  dependentAlerts: z.array(z.string()),
  /** signal is the series that should have fired, for a missed scenario only. */
  signal: coverageSignalSchema.optional(),
});

/** CoverageScenario is one scenario's outcome. */
export type CoverageScenario = z.infer<typeof coverageScenarioSchema>;

/** timeToFireSchema summarises detection delays in seconds (null when nothing was detected). */
export const timeToFireSchema = z.object({
  median: secondsOrNull,
  p90: secondsOrNull,
  max: secondsOrNull,
});

/** coverageKindSchema validates the outcome of one scenario kind. */
export const coverageKindSchema = z.object({
  kind: z.enum(SCENARIO_KINDS),
  scenarios: count,
  detected: count,
  misses: count,
  detectionRate: ratio,
  timeToFireS: timeToFireSchema,
  /** alerts maps each alert name to how many of the kind's scenarios it fired for on the origin server. */
  alerts: z.record(z.string(), count),
  /** dependentAlerts is the same for dependent servers (cascading failures). */
  dependentAlerts: z.record(z.string(), count),
  /** cells break the kind down by intensity and role: how many ran and how many were detected. */
  cells: z.array(
    z.object({
      intensity: ratio,
      role: z.enum(SERVER_ROLES),
      scenarios: count,
      detected: count,
    }),
  ),
});

/** CoverageKind is one kind's outcome. */
export type CoverageKind = z.infer<typeof coverageKindSchema>;

/** coverageRuleSchema validates one alerting rule's record over the run. */
export const coverageRuleSchema = z.object({
  alertname: z.string(),
  /** trueFires are firing episodes that began inside a window of a scenario affecting their server. */
  trueFires: count,
  /** falseAlarms began outside every such window (after the warm-up). */
  falseAlarms: count,
  /** flaps are episodes that began within flapWindowMs of the same alert's previous episode ending. */
  flaps: count,
  /** caught maps each scenario kind to how many of its scenarios this rule fired for (origin or dependent). */
  caught: z.record(z.string(), count),
  /** neverCaught are the kinds run whose scenarios this rule never fired for. */
  neverCaught: z.array(z.enum(SCENARIO_KINDS)),
});

/** CoverageRule is one rule's record. */
export type CoverageRule = z.infer<typeof coverageRuleSchema>;

/** coverageReportSchema validates a whole report. */
export const coverageReportSchema = z.object({
  version: z.literal(COVERAGE_REPORT_VERSION),
  settings: coverageSettingsSchema,
  summary: z.object({
    scenarios: count,
    detected: count,
    detectionRate: ratio,
    falseAlarms: count,
    falseAlarmsPerDay: z.number().nonnegative(),
    /** scoredDays is the simulated time after the warm-up, over which false alarms are counted. */
    scoredDays: z.number().nonnegative(),
    simulatedDays: z.number().nonnegative(),
    /** kindsMissed are kinds none of whose scenarios was detected. */
    kindsMissed: z.array(z.enum(SCENARIO_KINDS)),
  }),
  kinds: z.array(coverageKindSchema),
  rules: z.array(coverageRuleSchema),
  scenarios: z.array(coverageScenarioSchema),
  firings: z.array(coverageFiringSchema),
});

/** CoverageReport is the coverage run's result. */
export type CoverageReport = z.infer<typeof coverageReportSchema>;

/** coverageProgressSchema is what a running coverage job reports: simulated time done out of the total. */
export const coverageProgressSchema = z.object({
  simulatedMs: count,
  totalMs: count,
  phase: z.enum(['simulating', 'scoring']),
});

/** CoverageProgress is one of coverageProgressSchema. */
export type CoverageProgress = z.infer<typeof coverageProgressSchema>;

/** MAX_COVERAGE_RULE_FILES bounds the rule files one `POST /api/coverage` may carry. */
export const MAX_COVERAGE_RULE_FILES = 50;

/**
 * coverageRequestSchema is the body of `POST /api/coverage`. Rule files travel as their YAML text (`name` is
 * what the report calls them); without any, the exporter's own rule files are covered. The other fields are
 * the run's knobs, each with the CLI's default.
 */
export const coverageRequestSchema = z
  .object({
    rules: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(
                /^[A-Za-z0-9_.-]{1,100}\.ya?ml$/,
                'a file name like cpu_alerts.yml (letters, digits, _ . -)',
              ),
            yaml: z.string(),
          })
          .strict(),
      )
      .max(MAX_COVERAGE_RULE_FILES)
      .optional(),
    seed: z.number().int().optional(),
    servers: z.number().int().min(1).max(200).optional(),
    kinds: z.array(z.enum(SCENARIO_KINDS)).min(1).optional(),
    intensities: z.array(ratio).min(1).max(10).optional(),
    repetitions: z.number().int().min(1).max(20).optional(),
    /** minDays stretches the quiet periods to cover at least this many simulated days (false alarms). */
    minDays: z.number().min(0).max(31).optional(),
  })
  .strict();

/** CoverageRequest is one of coverageRequestSchema. */
export type CoverageRequest = z.infer<typeof coverageRequestSchema>;

/** COVERAGE_JOB_STATUSES are a coverage job's states. */
export const COVERAGE_JOB_STATUSES = ['running', 'done', 'failed'] as const;

/** coverageJobSchema is one coverage job as `GET /api/coverage/:id` shows it. */
export const coverageJobSchema = z.object({
  id: z.string(),
  status: z.enum(COVERAGE_JOB_STATUSES),
  createdAt: unixMs,
  finishedAt: unixMs.nullable(),
  request: coverageRequestSchema,
  progress: coverageProgressSchema,
  /** error says why a failed job failed (a rule file that does not load names file and line). */
  error: z.string().nullable(),
  /** report is set once the job is done (`GET /api/coverage` lists jobs without it). */
  report: coverageReportSchema.nullable(),
});

/** CoverageJob is one of coverageJobSchema. */
export type CoverageJob = z.infer<typeof coverageJobSchema>;
