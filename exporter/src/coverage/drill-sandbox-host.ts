/**
 * startSandbox runs a drill on a separate clock (drill-sandbox.ts) on a worker thread, so its lead-in (a day of a
 * fleet simulated and evaluated in seconds) and its ticks never hold the exporter's event loop; where no
 * worker entry can be found it runs in-thread. Events arrive through `onEvent`, the last one `done` or
 * `error`; `abort()` ends it at once (the worker is terminated, in-thread it stops at its next tick).
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../util/worker-entry.js';
import type { SandboxHandle } from '../drills/drill-runner.js';
import { runSandbox, type SandboxRequest } from './drill-sandbox.js';
import type { SandboxMessage } from './drill-sandbox-worker.js';

export function startSandbox(req: SandboxRequest, onEvent: (e: SandboxMessage) => void): SandboxHandle {
  const spec = workerEntry(import.meta.url, 'drill-sandbox-worker', './coverage/drill-sandbox-worker.js');
  if (!spec) return runSandboxInThread(req, onEvent);
  const w = new Worker(spec.entry, { eval: spec.eval, workerData: req });
  let ended = false;
  w.on('message', (m: SandboxMessage) => {
    if (m.type === 'done' || m.type === 'error') ended = true;
    onEvent(m);
  });
  w.on('error', (err) => {
    if (ended) return;
    ended = true;
    onEvent({ type: 'error', message: err.message });
  });
  w.on('exit', (code) => {
    if (ended) return;
    ended = true;
    onEvent({ type: 'error', message: `the drill's worker exited with code ${code} before it ended` });
  });
  return {
    // The runner has ended the run already: nothing of the sandbox is wanted, so it stops at once.
    abort: () => {
      ended = true;
      void w.terminate();
    },
  };
}

/** runSandboxInThread runs the sandbox on this thread: `abort()` stops it at its next tick. */
export function runSandboxInThread(req: SandboxRequest, onEvent: (e: SandboxMessage) => void): SandboxHandle {
  let stop = false;
  runSandbox(req, onEvent, () => stop).catch((err: unknown) =>
    onEvent({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
  return { abort: () => void (stop = true) };
}
