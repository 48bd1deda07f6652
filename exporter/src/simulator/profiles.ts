/**
 * Per-role baselines and the fleet's seasonality. All times are UTC and the curves are closed-form, so any
 * instant is computed without history. Figures are typical of a mid-size web service, not of any real one.
 */
import type { ServerRole } from './types.js';

/** RoleProfile is a role's behaviour at peak traffic (season factor 1). */
export interface RoleProfile {
  /** rps is requests (or queries, jobs) per second served at peak. */
  readonly rps: number;
  /** cpuPerRequest is CPU core-seconds per request. */
  readonly cpuPerRequest: number;
  /** backgroundCores is CPU busy without traffic (daemons, GC, replication), in cores. */
  readonly backgroundCores: number;
  /** latency is the median response time in seconds at low utilisation. */
  readonly latency: number;
  /** errorRatio is the share of requests answered with 5xx in normal operation. */
  readonly errorRatio: number;
  /** getShare is the share of GET (read) requests. */
  readonly getShare: number;
  /** bytesIn / bytesOut are network bytes per request received / sent. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** backgroundNet is network bytes/s each way without traffic (monitoring, replication, ssh). */
  readonly backgroundNet: number;
  /** memBase is the used-memory fraction at idle; memLoad is added at full CPU utilisation. */
  readonly memBase: number;
  readonly memLoad: number;
  /** diskRead / diskWrite are block-device bytes/s at peak; readIoSize / writeIoSize bytes per operation. */
  readonly diskRead: number;
  readonly diskWrite: number;
  readonly readIoSize: number;
  readonly writeIoSize: number;
  /** contextSwitchesPerCore per second at idle; contextSwitchesPerRequest added per request. */
  readonly contextSwitchesPerCore: number;
  readonly contextSwitchesPerRequest: number;
  /** season picks the traffic curve: user-driven (diurnal + weekly) or batch (night jobs). */
  readonly season: 'user' | 'batch';
}

/** ROLE_PROFILES are the per-role baselines; utilisation at peak lands around 20–60 % per role. */
export const ROLE_PROFILES: Readonly<Record<ServerRole, RoleProfile>> = {
  lb: {
    rps: 900,
    cpuPerRequest: 0.0009,
    backgroundCores: 0.1,
    latency: 0.012,
    errorRatio: 0.001,
    getShare: 0.8,
    bytesIn: 900,
    bytesOut: 14_000,
    backgroundNet: 20_000,
    memBase: 0.22,
    memLoad: 0.06,
    diskRead: 20_000,
    diskWrite: 150_000,
    readIoSize: 16_384,
    writeIoSize: 8_192,
    contextSwitchesPerCore: 1_500,
    contextSwitchesPerRequest: 4,
    season: 'user',
  },
  web: {
    rps: 320,
    cpuPerRequest: 0.004,
    backgroundCores: 0.15,
    latency: 0.035,
    errorRatio: 0.002,
    getShare: 0.85,
    bytesIn: 800,
    bytesOut: 25_000,
    backgroundNet: 15_000,
    memBase: 0.3,
    memLoad: 0.12,
    diskRead: 250_000,
    diskWrite: 300_000,
    readIoSize: 32_768,
    writeIoSize: 16_384,
    contextSwitchesPerCore: 1_200,
    contextSwitchesPerRequest: 12,
    season: 'user',
  },
  api: {
    rps: 160,
    cpuPerRequest: 0.02,
    backgroundCores: 0.3,
    latency: 0.08,
    errorRatio: 0.004,
    getShare: 0.7,
    bytesIn: 1_500,
    bytesOut: 6_000,
    backgroundNet: 15_000,
    memBase: 0.4,
    memLoad: 0.15,
    diskRead: 100_000,
    diskWrite: 200_000,
    readIoSize: 16_384,
    writeIoSize: 16_384,
    contextSwitchesPerCore: 1_500,
    contextSwitchesPerRequest: 25,
    season: 'user',
  },
  db: {
    rps: 600,
    cpuPerRequest: 0.008,
    backgroundCores: 0.8,
    latency: 0.006,
    errorRatio: 0.0005,
    getShare: 0.75,
    bytesIn: 600,
    bytesOut: 4_000,
    backgroundNet: 200_000,
    memBase: 0.72,
    memLoad: 0.08,
    diskRead: 8_000_000,
    diskWrite: 4_000_000,
    readIoSize: 16_384,
    writeIoSize: 16_384,
    contextSwitchesPerCore: 2_500,
    contextSwitchesPerRequest: 8,
    season: 'user',
  },
  cache: {
    rps: 2_500,
    cpuPerRequest: 0.0003,
    backgroundCores: 0.05,
    latency: 0.0015,
    errorRatio: 0.0002,
    getShare: 0.9,
    bytesIn: 300,
    bytesOut: 1_500,
    backgroundNet: 50_000,
    memBase: 0.55,
    memLoad: 0.05,
    diskRead: 10_000,
    diskWrite: 500_000,
    readIoSize: 4_096,
    writeIoSize: 65_536,
    contextSwitchesPerCore: 800,
    contextSwitchesPerRequest: 1,
    season: 'user',
  },
  worker: {
    rps: 40,
    cpuPerRequest: 0.12,
    backgroundCores: 0.2,
    latency: 0.6,
    errorRatio: 0.01,
    getShare: 0.4,
    bytesIn: 20_000,
    bytesOut: 2_000,
    backgroundNet: 10_000,
    memBase: 0.35,
    memLoad: 0.25,
    diskRead: 2_000_000,
    diskWrite: 3_000_000,
    readIoSize: 65_536,
    writeIoSize: 65_536,
    contextSwitchesPerCore: 1_000,
    contextSwitchesPerRequest: 40,
    season: 'batch',
  },
};

/** MS_PER_HOUR, MS_PER_DAY and MS_PER_WEEK are calendar constants in milliseconds. */
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;
export const MS_PER_WEEK = 7 * MS_PER_DAY;

/** PEAK_HOUR_UTC and TROUGH_HOUR_UTC place the user traffic curve (peak afternoon, trough before dawn). */
const PEAK_HOUR_UTC = 16;

/** USER_NIGHT_FLOOR is user traffic at the nightly trough relative to the daily peak. */
const USER_NIGHT_FLOOR = 0.3;

/** WEEKEND_DIP is how much lower user traffic is on Sunday than mid-week (a smooth weekly cosine). */
const WEEKEND_DIP = 0.22;

/** THURSDAY is the weekday of 1970-01-01 counted from Monday = 0 (Unix time starts on a Thursday). */
const THURSDAY = 3;

/** hourOfDay is the UTC hour of `t` as a fraction (0 ≤ h < 24). */
export function hourOfDay(t: number): number {
  const ms = ((t % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
  return ms / MS_PER_HOUR;
}

/** weekPosition is the UTC day of the week of `t` as a fraction, Monday 00:00 = 0, Sunday 23:59 ≈ 7. */
export function weekPosition(t: number): number {
  const days = t / MS_PER_DAY + THURSDAY;
  return ((days % 7) + 7) % 7;
}

/** userSeason is user-driven traffic relative to a mid-week peak: a daily curve times a weekly one, in (0, 1]. */
export function userSeason(t: number): number {
  const h = hourOfDay(t);
  // A raised cosine with its minimum 12 h before the peak, skewed so evenings stay busy longer than mornings.
  const day = 0.5 - 0.5 * Math.cos((2 * Math.PI * (h - PEAK_HOUR_UTC + 12)) / 24);
  const shaped = day * (1 + 0.12 * Math.sin((2 * Math.PI * (h - PEAK_HOUR_UTC)) / 24));
  const daily = USER_NIGHT_FLOOR + (1 - USER_NIGHT_FLOOR) * Math.min(1, shaped);
  // Weekly: maximal Wednesday noon (2.5), minimal Sunday 00:00 (6.0).
  const weekly = 1 - WEEKEND_DIP * (0.5 - 0.5 * Math.cos((2 * Math.PI * (weekPosition(t) - 2.5)) / 7));
  return daily * weekly;
}

/** BATCH_WINDOW_CENTER_UTC is the middle of the nightly batch window (02:30 UTC). */
const BATCH_WINDOW_CENTER_UTC = 2.5;

/** nightlyBump is 1 at the middle of the nightly batch window and 0 outside 00:30–04:30 UTC (smooth). */
export function nightlyBump(t: number): number {
  const d = Math.abs(hourOfDay(t) - BATCH_WINDOW_CENTER_UTC);
  if (d >= 2) return 0;
  const c = Math.cos((Math.PI * d) / 4);
  return c * c;
}

/** batchSeason is worker load: a steady queue that follows users a little, plus the nightly batch window. */
export function batchSeason(t: number): number {
  return batchFromUser(userSeason(t), t);
}

/** batchFromUser is batchSeason given userSeason(t) already computed (the model computes it once per step). */
export function batchFromUser(user: number, t: number): number {
  return 0.45 + 0.2 * user + 0.35 * nightlyBump(t);
}

/** BACKUP_START_UTC / BACKUP_END_UTC bound the nightly database backup (reads the whole data volume). */
const BACKUP_START_UTC = 2;
const BACKUP_END_UTC = 3;

/** backupActivity is 0..1: the nightly database backup's intensity (a sine arch between 02:00 and 03:00 UTC). */
export function backupActivity(t: number): number {
  const h = hourOfDay(t);
  if (h < BACKUP_START_UTC || h >= BACKUP_END_UTC) return 0;
  return Math.sin((Math.PI * (h - BACKUP_START_UTC)) / (BACKUP_END_UTC - BACKUP_START_UTC));
}

/** seasonFactor is the traffic multiplier of `role` at `t`. */
export function seasonFactor(role: ServerRole, t: number): number {
  return ROLE_PROFILES[role].season === 'batch' ? batchSeason(t) : userSeason(t);
}
