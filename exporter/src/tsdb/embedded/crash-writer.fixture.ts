/**
 * crash-writer is the child process of the kill -9 test: it appends batches to an embedded store in
 * `argv[2]` and prints `ack <batch>` after each commit resolves, until it is killed. Batch b holds one
 * sample per series at t = T0 + b·1000 with value b (series `crash{s="0".."9"}`).
 */
import { EmbeddedStorage } from './embedded-storage.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: crash-writer <dataDir>');
const T0 = 1_700_000_000_000;
const store = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 150, maxSamplesPerChunk: 50 });
const refs = new Array<number>(10).fill(0);
for (let b = 0; ; b++) {
  const app = store.appender();
  for (let s = 0; s < 10; s++)
    refs[s] = app.append(refs[s] ?? 0, { __name__: 'crash', s: String(s) }, T0 + b * 1000, b);
  await app.commit();
  process.stdout.write(`ack ${b}\n`);
}
