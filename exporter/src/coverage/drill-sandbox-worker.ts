/**
 * Drill sandbox worker entry (worker_threads): runs a drill on its own fleet and clock (drill-sandbox.ts)
 * off the exporter's event loop, posting every event, or the error that stopped it. An abort terminates the
 * worker (drill-sandbox-host.ts). Loaded only as a worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runSandbox, type SandboxEvent, type SandboxRequest } from './drill-sandbox.js';

/** SandboxMessage is what the worker posts: the run's events, or the error that stopped it. */
export type SandboxMessage = SandboxEvent | { readonly type: 'error'; readonly message: string };

const port = parentPort;
if (port) {
  const post = (m: SandboxMessage): void => port.postMessage(m);
  runSandbox(workerData as SandboxRequest, post).catch((err: unknown) =>
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
}
