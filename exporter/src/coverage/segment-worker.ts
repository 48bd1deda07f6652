/**
 * Segment worker entry (worker_threads): runs one segment of a coverage run (segment.ts) for run.ts and
 * posts its progress and its result, or the error that stopped it. Loaded only as a worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CoverageError } from './options.js';
import { runSegment, type SegmentMessage, type SegmentRequest } from './segment.js';

const req = workerData as SegmentRequest;
const post = (m: SegmentMessage): void => parentPort?.postMessage(m);
runSegment(req.options, req.from, req.to, (doneMs) => post({ type: 'progress', doneMs }), req.signals)
  .then((result) => post({ type: 'result', result }))
  .catch((err: unknown) =>
    post({
      type: 'error',
      error: {
        message: err instanceof Error ? err.message : String(err),
        ...(err instanceof CoverageError && {
          code: err.code,
          ...(err.field !== undefined && { field: err.field }),
        }),
      },
    }),
  );
