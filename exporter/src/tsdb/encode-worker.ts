/**
 * Encode worker entry (worker_threads): encodes the batches encode-pool.ts posts and posts the chunk bytes
 * back, transferring the buffers. `npm start`'s esbuild step bundles it as dist/src/tsdb/encode-worker.js.
 */
import { parentPort } from 'node:worker_threads';
import { encodeBatch, type EncodeRequest } from './encode-batch.js';

parentPort?.on('message', (req: EncodeRequest) => {
  const res = encodeBatch(req);
  // Own the exact bytes (the encoder's buffer is larger) so the transfer moves only what is needed.
  const bytes = res.bytes.slice();
  // Both arrays were allocated here (plain ArrayBuffers), so they can be transferred rather than copied.
  const transfer = [bytes.buffer, res.ends.buffer as ArrayBuffer];
  parentPort?.postMessage({ id: res.id, bytes, ends: res.ends }, transfer);
});
