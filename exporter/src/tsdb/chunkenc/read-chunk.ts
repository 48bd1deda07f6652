/**
 * readChunk: drain a chunk into arrays — for tests, benchmarks, and callers that need every sample anyway.
 */

import type { Chunk } from './chunk.js';

/** ChunkSamples holds a chunk's decoded samples and the iterator's error, if it stopped early. */
export interface ChunkSamples {
  ts: Float64Array;
  vs: Float64Array;
  err: Error | undefined;
}

/** readChunk decodes every sample of c (fewer if the bytes are damaged; then `err` says why). */
export function readChunk(c: Chunk): ChunkSamples {
  const n = c.numSamples();
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  const it = c.iterator();
  let i = 0;
  while (i < n && it.next()) {
    ts[i] = it.at();
    vs[i] = it.value();
    i++;
  }
  return { ts: ts.subarray(0, i), vs: vs.subarray(0, i), err: it.err() };
}
