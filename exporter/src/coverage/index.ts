/** The coverage run's public API: run, options, and the report's terminal and HTML renderings. */
export { runCoverage, mergeSegments, segmentBounds, type CoverageProgressListener } from './run.js';
export {
  CoverageError,
  COVERAGE_ERROR_STATUS,
  DEFAULT_COVERAGE_OPTIONS,
  DEFAULT_INTENSITIES,
  resolveCoverageOptions,
  type CoverageErrorCode,
  type CoverageOptions,
} from './options.js';
export { planScenarios, rolesFor, type PlannedScenario, type ScenarioPlan } from './plan.js';
export { formatCoverageTable } from './table.js';
export { renderCoverageHtml } from './html.js';
export { coverageCli, COVERAGE_USAGE } from './cli.js';
