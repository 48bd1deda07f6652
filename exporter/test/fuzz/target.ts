/**
 * The exporter both fuzzing entry points run against, and the bounds they hold it to: a 5 s query timeout
 * (so a query that ignores its deadline shows as a slow answer quickly), 2 s of slack on top, a 250 ms
 * budget for any event-loop block, an hour of history at 5 s ticks (queries have data to chew on and
 * start-up stays short), a broadcast every second (the after-session WebSocket check waits for one) and a
 * memory limit.
 */
import { ExporterProcess, startScriptSettings } from '../exporter-process.js';
import { requestArbitraries } from './requests.js';
import { fleetVocabulary } from './vocabulary.js';
import type { FuzzRequest } from './model.js';
import type fc from 'fast-check';

/** QUERY_TIMEOUT_MS is the exporter's --query-timeout during fuzzing. */
export const QUERY_TIMEOUT_MS = 5_000;

/** SLACK_MS is how much longer than the query timeout any answer may take. */
export const SLACK_MS = 2_000;

/** LOOP_BUDGET_MS is the longest event-loop block any request may cause (a bucket bound of the lag histogram). */
export const LOOP_BUDGET_MS = 250;

/**
 * RSS_LIMIT_MB: an exporter over 2 GB resident is killed and counted as a crash; a runaway query otherwise
 * grows it until the kernel's OOM killer picks a process on the shared machine (22 GB was seen).
 */
export const RSS_LIMIT_MB = 2_048;

/** FUZZ_SERVERS is the fleet size of the target (the shipped fleet). */
export const FUZZ_SERVERS = 20;

/** FUZZ_TOKEN is the target's API token, known to the generators so some mutations are authorised. */
export const FUZZ_TOKEN = 'fuzz-token';

/** startTarget starts an exporter configured for fuzzing and waits until it is ready. */
export function startTarget(): Promise<ExporterProcess> {
  return ExporterProcess.start({
    queryTimeout: `${QUERY_TIMEOUT_MS}ms`,
    backfill: '1h',
    tickSeconds: 5,
    apiToken: FUZZ_TOKEN,
    args: ['--broadcast-seconds', '1', '--servers', String(FUZZ_SERVERS)],
    rssLimitMb: RSS_LIMIT_MB,
    // The allocator's arenas and V8's heap growth change how much of freed memory the process keeps resident,
    // which the memory limit measures: the target runs from source with the settings users run it with.
    ...startScriptSettings(),
  });
}

/** targetArbitrary is the weighted mix of every endpoint's requests, anchored at `nowMs`. */
export function targetArbitrary(nowMs: number): fc.Arbitrary<FuzzRequest> {
  return requestArbitraries({ vocabulary: fleetVocabulary(), nowMs, token: FUZZ_TOKEN }).any;
}
