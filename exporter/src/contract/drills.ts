/**
 * The drills API as the plugin sees it: game-day drills run named sequences of failure scenarios on the live
 * fleet (`GET /api/drills` lists the shipped drills and the runs, `POST /api/drills` starts one,
 * `GET /api/drills/:id` follows it, `DELETE /api/drills/:id` aborts it). Each step is an injected scenario —
 * ground truth in `GET /api/scenarios` and in the `openmanager_scenario_active` series the dashboards annotate
 * — and the run ends with a report: which alerts fired for each step, how fast, and which receivers were
 * notified. Types and zod schemas only.
 */
import { z } from 'zod';
import { SCENARIO_KINDS } from './fleet.js';

const unixMs = z.number().int().nonnegative();

/** drillStepSchema is one step of a drill as its file defines it, with the server resolved. */
export const drillStepSchema = z.object({
  /** afterSeconds is when the step starts, counted from the drill's start (before any speed-up). */
  afterSeconds: z.number().nonnegative(),
  kind: z.enum(SCENARIO_KINDS),
  server: z.string(),
  durationSeconds: z.number().positive(),
  intensity: z.number().min(0).max(1),
});

/** DrillStep is one of drillStepSchema. */
export type DrillStep = z.infer<typeof drillStepSchema>;

/** drillDefinitionSchema is one shipped drill (a YAML file in `exporter/drills/`). */
export const drillDefinitionSchema = z.object({
  /** name is the file's name without `.yml`: what `POST /api/drills` takes. */
  name: z.string(),
  title: z.string(),
  description: z.string(),
  steps: z.array(drillStepSchema),
  /** durationSeconds is when the last step ends (before any speed-up). */
  durationSeconds: z.number().nonnegative(),
  /**
   * settleSeconds is how long a run waits after its last step for late alerts (a rule's `for:` clause),
   * never sped up.
   */
  settleSeconds: z.number().nonnegative(),
});

/** DrillDefinition is one of drillDefinitionSchema. */
export type DrillDefinition = z.infer<typeof drillDefinitionSchema>;

/** drillStepRunSchema is one step of a run: when it was due and what was injected. */
export const drillStepRunSchema = drillStepSchema.extend({
  /** dueAt is when the step is due (Unix ms, after the speed-up). */
  dueAt: unixMs,
  /** scenarioId is the injected scenario's id once started (see `GET /api/scenarios`). */
  scenarioId: z.string().nullable(),
  /** affected are the servers the scenario reached (a cascading failure spreads to dependents). */
  affected: z.array(z.string()),
  /** error says why the step could not be injected (the run goes on). */
  error: z.string().nullable(),
});

/** DrillStepRun is one of drillStepRunSchema. */
export type DrillStepRun = z.infer<typeof drillStepRunSchema>;

/** drillAlertSchema is one alert that fired during a run. */
export const drillAlertSchema = z.object({
  alertname: z.string(),
  /** server is the alert's `server` label ('' when it has none). */
  server: z.string(),
  severity: z.string(),
  firedAt: unixMs,
  /** step is the index of the step whose servers it fired for (the latest such step), or null. */
  step: z.number().int().nonnegative().nullable(),
  /** secondsAfterStep is the time from that step's start to the alert firing. */
  secondsAfterStep: z.number().nonnegative().nullable(),
});

/** DrillAlert is one of drillAlertSchema. */
export type DrillAlert = z.infer<typeof drillAlertSchema>;

/** drillNotificationSchema is one delivery attempt to a receiver during a run. */
export const drillNotificationSchema = z.object({
  at: unixMs,
  receiver: z.string(),
  groupKey: z.string(),
  status: z.enum(['firing', 'resolved']),
  outcome: z.string(),
});

/** drillReportSchema is a finished run's report. */
export const drillReportSchema = z.object({
  /** steps: per step, whether an alert fired for its servers and the first one's delay. */
  steps: z.array(
    z.object({
      step: z.number().int().nonnegative(),
      kind: z.enum(SCENARIO_KINDS),
      server: z.string(),
      detected: z.boolean(),
      firstAlert: z.string().nullable(),
      secondsToFirstAlert: z.number().nonnegative().nullable(),
      alerts: z.array(z.string()),
    }),
  ),
  /** alerts are every alert that fired from the start of the run to its end (plus the settling time). */
  alerts: z.array(drillAlertSchema),
  /** unrelated counts the alerts that fired for no step's servers (noise, or a real incident meanwhile). */
  unrelated: z.number().int().nonnegative(),
  /** notifications are the deliveries to receivers during the run (none on a separate clock). */
  notifications: z.array(drillNotificationSchema),
  /** receivers are the receivers a notification reached (outcome `delivered`). */
  receivers: z.array(z.string()),
  detectionRate: z.number().min(0).max(1),
});

/** DrillReport is one of drillReportSchema. */
export type DrillReport = z.infer<typeof drillReportSchema>;

/** DRILL_STATUSES are a run's states. */
export const DRILL_STATUSES = ['running', 'finished', 'aborted'] as const;

/**
 * DRILL_CLOCKS are where a drill runs. `live`: its steps are injected into the live fleet (ground truth in
 * the scenario history, annotations on the dashboards, alerts from the exporter's rules, notifications to
 * the receivers); a speed-up divides step offsets and durations, while the rules' `for:` and evaluation
 * interval stay as they are. `separate`: on a fleet of its own (the live fleet's servers and seed, no random
 * scenarios) whose simulated clock runs `speed` times as fast, with its own store and its own rule manager
 * over the exporter's rule files: nothing is compressed, so what fires and when is what speed 1 would give.
 * Its times are that clock's (it starts at the live clock's now); its scenarios and alerts stay in it — not
 * in the scenario history, the dashboards or the receivers — and it first simulates the history its rules
 * read (the lead-in).
 */
export const DRILL_CLOCKS = ['live', 'separate'] as const;

/** drillRunSchema is one run of a drill. */
export const drillRunSchema = z.object({
  id: z.string(),
  name: z.string(),
  title: z.string(),
  /** speed divides the step offsets and durations on the live clock; on a separate one, it is its rate. */
  speed: z.number().positive(),
  clock: z.enum(DRILL_CLOCKS),
  /** phase of a run on a separate clock: simulating its lead-in, then the drill; null on the live clock. */
  phase: z.enum(['lead-in', 'drill']).nullable(),
  /** simulatedAt is a separate clock's now (null before its drill starts, and on the live clock). */
  simulatedAt: unixMs.nullable(),
  status: z.enum(DRILL_STATUSES),
  startedAt: unixMs,
  /** endsAt is when the run is due to end: the last step's end plus the settling time. */
  endsAt: unixMs,
  finishedAt: unixMs.nullable(),
  steps: z.array(drillStepRunSchema),
  /** report is set once the run finished or was aborted. */
  report: drillReportSchema.nullable(),
  /** error says what stopped a run early (a separate clock's simulation failing), else null. */
  error: z.string().nullable(),
});

/** DrillRun is one of drillRunSchema. */
export type DrillRun = z.infer<typeof drillRunSchema>;

/** drillsResponseSchema is `GET /api/drills`. */
export const drillsResponseSchema = z.object({
  definitions: z.array(drillDefinitionSchema),
  /** runs, newest first. */
  runs: z.array(drillRunSchema),
});

/** DrillsResponse is one of drillsResponseSchema. */
export type DrillsResponse = z.infer<typeof drillsResponseSchema>;

/** drillRequestSchema is the body of `POST /api/drills`. */
export const drillRequestSchema = z
  .object({
    name: z.string().min(1),
    /** speed runs the drill N times faster (see DRILL_CLOCKS for what that means on each); 1–1000, default 1. */
    speed: z.number().min(1).max(1000).optional(),
    /** clock is where the drill runs (DRILL_CLOCKS), default `live`. */
    clock: z.enum(DRILL_CLOCKS).optional(),
  })
  .strict();

/** DrillRequest is one of drillRequestSchema. */
export type DrillRequest = z.infer<typeof drillRequestSchema>;

/** DrillClock is one of DRILL_CLOCKS. */
export type DrillClock = (typeof DRILL_CLOCKS)[number];
