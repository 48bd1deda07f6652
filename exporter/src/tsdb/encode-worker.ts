/**
 * Encode worker entry (worker_threads): encodes the batches encode-pool.ts posts into the shared buffer each
 * comes with and answers how many bytes it wrote (or that they did not fit). It allocates nothing that
 * outlives a batch. `npm start`'s esbuild step bundles it as dist/src/tsdb/encode-worker.js.
 */
import { parentPort } from 'node:worker_threads';
import { encodeBatchInto, type WorkerReply, type WorkerRequest } from './encode-batch.js';

parentPort?.on('message', (req: WorkerRequest) => {
  const reply: WorkerReply = { id: req.id, len: encodeBatchInto(req, req.out, req.chunks) };
  parentPort?.postMessage(reply);
});
