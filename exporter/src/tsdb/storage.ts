/**
 * The storage interface: the only part of the TSDB the PromQL engine, the API and the simulator see.
 * Backends (embedded, redis) implement it; nothing outside `tsdb/` imports a backend directly
 * except `app.ts`, which chooses one. Timestamps are Unix milliseconds (int64 range, held in numbers).
 */
import type { Labels } from '../util/labels.js';

export type { Labels } from '../util/labels.js';
import type { StorageHealth } from '../contract/hub-protocol.js';

/** StorageHealth is a backend's state as shown to operators (a wire shape: `/readyz`, `system-status`). */
export type { StorageHealth };

/** MatchType is a Prometheus label-matcher operator. */
export type MatchType = '=' | '!=' | '=~' | '!~';

/**
 * Matcher selects series by one label. Regexes are fully anchored (`^(?:re)$`), as in Prometheus;
 * a matcher that matches the empty string also selects series that lack the label.
 */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
}

/** Tier names a resolution: raw samples, or one of the rollup tiers. */
export type Tier = 'raw' | '1m' | '5m' | '1h';

/** TIER_WIDTH_MS is each rollup tier's bucket width in ms (raw has none). */
export const TIER_WIDTH_MS: Readonly<Record<Exclude<Tier, 'raw'>, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '1h': 3_600_000,
};

/**
 * RollupAggregate names one value a rollup bucket keeps. `increase` is the counter-reset-aware increase of
 * the series inside the bucket (including the step from the previous bucket's last sample to this bucket's
 * first one, so increases of consecutive buckets add up to the increase over the whole range).
 */
export type RollupAggregate = 'min' | 'max' | 'sum' | 'count' | 'last' | 'increase';

/** SelectHints tells a backend what the caller will do with the data, so it can read less. */
export interface SelectHints {
  /** start and end bound the samples wanted, inclusive, in ms. */
  readonly start: number;
  readonly end: number;
  /** step of the query in ms (0 for an instant query). */
  readonly step?: number;
  /** func is the PromQL function the selection feeds, if any (e.g. `rate`). */
  readonly func?: string;
  /** range of a range selector in ms, if any. */
  readonly range?: number;
  /**
   * tier asks for a rollup tier instead of raw samples; `aggregate` then says which bucket value to return.
   * Rollup samples are stamped with the bucket's START time; a bucket covers [start, start + width).
   */
  readonly tier?: Tier;
  readonly aggregate?: RollupAggregate;
  /**
   * maxSamples is the most samples the caller can hold: a select that would return more stops reading and
   * throws TSDB_TOO_MANY_SAMPLES (a query's sample budget), instead of decoding everything first.
   */
  readonly maxSamples?: number;
  /**
   * deadline (performance.now() ms) ends a long select: past it, the select throws TSDB_ABORTED between
   * series (a query's timeout).
   */
  readonly deadline?: number;
  /**
   * from, where a querier has a historyGeneration, raises `start` per series: samples of a series before
   * from(labels) may be left out (a caller that holds them already reads only what came since). Queriers
   * without a historyGeneration may ignore it.
   */
  readonly from?: (labels: Labels) => number;
  /**
   * newest says the caller uses only each series' newest sample in [start, end] (an instant selector at one
   * step): a backend may return that sample alone.
   */
  readonly newest?: boolean;
}

/**
 * SeriesData is one selected series, its samples materialised in time order. `timestamps` and `values` have
 * equal length; timestamps strictly increase. The arrays belong to the caller.
 */
export interface SeriesData {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** Querier reads a fixed time window [mint, maxt]. */
export interface Querier {
  /**
   * historyGeneration, where a backend offers it, is a number that changes whenever a read may return less
   * or other samples than an earlier read did (series deleted or restored, retention); under one generation
   * a series only gains samples newer than every sample it had. Such a querier honours SelectHints.from.
   */
  readonly historyGeneration?: number;
  /** select returns the series matching all matchers, with their samples in [hints.start, hints.end]. */
  select(matchers: readonly Matcher[], hints?: SelectHints): Promise<SeriesData[]>;
  /**
   * selectEach, where a backend offers it, is select without copies: it calls `visit` for every series
   * select would return, with its samples as the first `n` entries of `ts`/`vs` — buffers the querier
   * reuses, valid only during that call and not to be written. Same limits and errors as select.
   */
  selectEach?(
    matchers: readonly Matcher[],
    hints: SelectHints | undefined,
    visit: (labels: Labels, ts: Float64Array, vs: Float64Array, n: number) => void,
  ): Promise<void>;
  /** series returns the label sets of series matching all matchers that have samples in the window. */
  series(matchers: readonly Matcher[]): Promise<Labels[]>;
  /** labelNames returns the sorted label names, of all series or of those matching `matchers`. */
  labelNames(matchers?: readonly Matcher[]): Promise<string[]>;
  /** labelValues returns the sorted values of label `name`, of all series or of those matching `matchers`. */
  labelValues(name: string, matchers?: readonly Matcher[]): Promise<string[]>;
}

/** Queryable hands out queriers. */
export interface Queryable {
  querier(mint: number, maxt: number): Promise<Querier>;
}

/**
 * SeriesRef is a backend's handle for a series, returned by append so hot paths can skip label hashing.
 * 0 means "unknown: look the labels up".
 */
export type SeriesRef = number;

/**
 * Appender batches samples; nothing is visible or durable until `commit` resolves ("acknowledged").
 * Out-of-order or duplicate timestamps are rejected at commit (counted and logged by the backend), not thrown.
 */
export interface Appender {
  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef;
  commit(): Promise<AppendResult>;
  rollback(): void;
}

/** AppendResult says what a commit did with each sample. */
export interface AppendResult {
  readonly appended: number;
  readonly outOfOrder: number;
  readonly duplicate: number;
}

/**
 * AppenderOptions tunes one appender (additive; backends may ignore it). `bulk` marks a backfill of
 * generated history: a backend may skip per-commit durability (the write-ahead log) and make the samples
 * durable at its next snapshot or `flush()`; a crash loses at most what came after the last snapshot, which
 * the backfill regenerates by resuming from `lastTimestamp()`.
 */
export interface AppenderOptions {
  readonly bulk?: boolean;
}

/** Retention is how long each tier is kept, in ms. */
export type Retention = Readonly<Record<Tier, number>>;

/** Storage is a complete backend: appends, queries, rollups and retention. */
export interface Storage extends Queryable {
  /** name says which backend this is (`embedded`, `redis`). */
  readonly name: string;
  appender(options?: AppenderOptions): Appender;
  /** lastTimestamp returns the newest sample time of the whole store (ms), or undefined when empty. */
  lastTimestamp(): Promise<number | undefined>;
  /** applyRetention drops data older than each tier's retention, relative to `now`. */
  applyRetention(now: number): Promise<void>;
  /** flush makes everything committed so far durable, bulk appends included (e.g. a snapshot); optional. */
  flush?(): Promise<void>;
  /** health reports whether the backend can take writes now, for /readyz and system-status. */
  health(): StorageHealth;
  close(): Promise<void>;
}
