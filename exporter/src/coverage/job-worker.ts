/**
 * Coverage job worker entry (worker_threads): runs a whole coverage run (run.ts) off the exporter's event
 * loop for `POST /api/coverage`, posting its progress, then the report or the error that stopped it. Its
 * segments may run on worker threads of their own. Loaded only as a worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CoverageProgress, CoverageReport } from '../contract/coverage.js';
import type { CoverageOptions } from './options.js';
import { runCoverage } from './run.js';

/** JobMessage is what the job worker posts. */
export type JobMessage =
  | { readonly type: 'progress'; readonly progress: CoverageProgress }
  | { readonly type: 'result'; readonly report: CoverageReport }
  | { readonly type: 'error'; readonly message: string };

const post = (m: JobMessage): void => parentPort?.postMessage(m);
if (parentPort)
  runCoverage(workerData as Partial<CoverageOptions>, (progress) => post({ type: 'progress', progress }))
    .then((report) => post({ type: 'result', report }))
    .catch((err: unknown) =>
      post({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
