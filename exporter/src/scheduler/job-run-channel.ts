/**
 * JOB_RUN_CHANNEL is the diagnostics channel every job run starts in (`runStores({ job })`): a tracer that
 * binds an AsyncLocalStorage to it sees, for any callback on the loop, which job's run it descends from
 * (bench/slice-tracer.ts measures each job's synchronous slices that way). Without subscribers it is a
 * plain call. It has a module of its own so that the tracer, preloaded into the exporter, imports nothing
 * else of it.
 */
export const JOB_RUN_CHANNEL = 'openmanager:scheduler:job-run';
