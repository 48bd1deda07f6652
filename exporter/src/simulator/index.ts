/** The simulator's public API: fleets (file, generator, layout), the Fleet model and its scenarios. */
export type * from './types.js';
export {
  Fleet,
  DEFAULT_SEED,
  DEFAULT_EPOCH,
  DEFAULT_HISTORY_MS,
  type FleetOptions,
  type FramesOptions,
} from './fleet.js';
export {
  loadFleetFile,
  parseFleetYaml,
  parseFleet,
  defaultFleet,
  parseSize,
  DEFAULT_FLEET_FILE,
  SERVER_ROLES,
} from './fleet-file.js';
export { generateFleet, roleCounts, ROLE_MIX } from './generate-fleet.js';
export {
  buildLayout,
  findSeries,
  FAMILIES,
  SCENARIO_KINDS,
  HTTP_METHODS,
  HTTP_STATUSES,
  LATENCY_BUCKETS,
} from './layout.js';
export {
  parseScenarioSpec,
  DEFAULT_SCENARIO_RATE_PER_HOUR,
  DURATION_RANGE_S,
  CASCADE_MAX_PER_TIER,
  MAX_DURATION_S,
  type HistoryPage,
  type ScenarioSpec,
  type ScenarioState,
} from './scenarios.js';
export { SimulatorError, SIMULATOR_ERROR_STATUS, type SimulatorErrorCode } from './errors.js';
export { GRID_MS, MIN_STEP_MS, loadDecay } from './server-model.js';
export { SERVER_META_FAMILIES, serverMetaLabels, serverMetaValues } from './server-meta.js';
export { DEFAULT_CHECKPOINT_BUDGET_BYTES } from './checkpoints.js';
