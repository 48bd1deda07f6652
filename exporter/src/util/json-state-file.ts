/**
 * JsonStateFile persists one small piece of state as JSON under the data dir. Writes go to a temp file renamed
 * over the old one, so a crash mid-write leaves the previous state intact.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** JsonStateFile reads and writes one JSON state file; writes are serialised so the last one wins. */
export class JsonStateFile {
  readonly path: string;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    fileName: string,
  ) {
    this.path = join(dir, fileName);
  }

  /** load returns the saved state, or undefined when there is none yet. Throws on unreadable JSON. */
  load(): unknown {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return JSON.parse(text) as unknown;
  }

  /** save writes `state` atomically; calls are applied in order. */
  save(state: unknown): Promise<void> {
    const text = JSON.stringify(state);
    const next = this.chain.then(async () => {
      await mkdir(this.dir, { recursive: true });
      const tmp = `${this.path}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.path);
    });
    this.chain = next.catch(() => {});
    return next;
  }
}
