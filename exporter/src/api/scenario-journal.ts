/**
 * Persists the simulator's scenario state (injected scenarios and early stops) under the data dir, so the
 * ground truth of `GET /api/scenarios` survives a restart. Writes go to a temp file renamed over the old one,
 * so a crash mid-write leaves the previous state intact.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** SCENARIO_JOURNAL_FILE is the file name under the data dir. */
export const SCENARIO_JOURNAL_FILE = 'scenarios.json';

/** ScenarioJournal reads and writes one JSON state file; writes are serialised so the last one wins. */
export class ScenarioJournal {
  readonly path: string;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.path = join(dir, SCENARIO_JOURNAL_FILE);
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
