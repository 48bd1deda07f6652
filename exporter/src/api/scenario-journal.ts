/**
 * Persists the simulator's scenario state (injected scenarios and early stops) under the data dir, so the
 * ground truth of `GET /api/scenarios` survives a restart.
 */
import { JsonStateFile } from '../util/json-state-file.js';

/** SCENARIO_JOURNAL_FILE is the file name under the data dir. */
export const SCENARIO_JOURNAL_FILE = 'scenarios.json';

/** ScenarioJournal is the scenario state file. */
export class ScenarioJournal extends JsonStateFile {
  constructor(dir: string) {
    super(dir, SCENARIO_JOURNAL_FILE);
  }
}
