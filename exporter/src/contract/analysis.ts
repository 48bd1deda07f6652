/**
 * The analysis API's wire shapes (`GET /api/analysis`, `GET /api/analysis/annotations`): the current state
 * of the anomaly analysis, its recent findings and its forecasts, and findings as annotation events. Types
 * and zod schemas only.
 */
import { z } from 'zod';
import { analysisFindingSchema, rootCauseSchema, serverScoreSchema } from './hub-protocol.js';

const unixMs = z.number().int().nonnegative();
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** etaSchema validates when a resource runs out: seconds from `generatedAt`, with a 95 % interval. */
export const etaSchema = z.object({
  seconds: finite,
  lower: finite,
  /** upper is null when growth is not certain at 95 % (the interval is unbounded). */
  upper: finite.nullable(),
  /** value is the resource's newest usage in percent; slopePerHour its growth in points per hour. */
  value: finite,
  slopePerHour: finite,
});

/** Eta is a disk-full or memory-exhaustion estimate. */
export type EtaEstimate = z.infer<typeof etaSchema>;

/** bandPointSchema validates one point of a forecast band. */
export const bandPointSchema = z.object({ t: unixMs, mean: finite, lower: finite, upper: finite });

/** serverForecastSchema validates one server's forecasts. */
export const serverForecastSchema = z.object({
  server: z.string(),
  /** cpu is the next hour of CPU usage (percent), every 5 min; empty until the server has history. */
  cpu: z.array(bandPointSchema),
  /** disk and memory: when the fullest growing filesystem fills and memory runs out; null when not growing. */
  disk: etaSchema.extend({ mount: z.string() }).nullable(),
  memory: etaSchema.nullable(),
});

/** ServerForecast is one server's forecasts. */
export type ServerForecast = z.infer<typeof serverForecastSchema>;

/** analysisStateSchema validates `GET /api/analysis`. */
export const analysisStateSchema = z.object({
  /** generatedAt is the last run's evaluation time (Unix ms, simulated clock); null before the first run. */
  generatedAt: unixMs.nullable(),
  intervalMs: z.number().int().positive(),
  runs: z.number().int().nonnegative(),
  /** lastRunMs is how long the last run took (wall ms). */
  lastRunMs: z.number().nonnegative().nullable(),
  fleetAnomalyRate: z.number().min(0).max(1),
  scores: z.array(serverScoreSchema),
  /** findings are the open ones and the most recent resolved ones, newest first. */
  findings: z.array(analysisFindingSchema),
  rootCauses: z.array(rootCauseSchema),
  forecasts: z.array(serverForecastSchema),
});

/** AnalysisState is `GET /api/analysis`. */
export type AnalysisState = z.infer<typeof analysisStateSchema>;

/**
 * annotationSchema validates a finding as an annotation event, in the shape Grafana's annotation queries take
 * (`time`, `timeEnd` in Unix ms, `title`, `text`, `tags`).
 */
export const annotationSchema = z.object({
  id: z.string(),
  time: unixMs,
  timeEnd: unixMs,
  title: z.string(),
  text: z.string(),
  tags: z.array(z.string()),
});

/** Annotation is a finding as an annotation event. */
export type Annotation = z.infer<typeof annotationSchema>;
