/**
 * startInProcess composes the exporter in this process on the embedded store, with a fresh self-metrics
 * registry, a silent logger and a scenario-free fleet of the options' seed, and starts it without its
 * scheduler: the test drives time (a ManualClock, and the timer it passes) and calls `app.tick()` itself.
 */
import { composeExporter, type ComposeParts, type Exporter } from '../src/compose.js';
import { createSelfRegistry } from '../src/metrics/self-metrics.js';
import type { ExporterOptions } from '../src/options.js';
import { Fleet } from '../src/simulator/index.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import { silentLogger } from '../src/util/logger.js';

/** startInProcess builds and starts the exporter; `parts` adds the clock, timer, env (and may replace the fleet). */
export async function startInProcess(
  options: ExporterOptions,
  parts: Partial<Omit<ComposeParts, 'options' | 'logger' | 'registry' | 'storage'>> = {},
): Promise<Exporter> {
  const logger = silentLogger();
  const registry = createSelfRegistry({ defaultMetrics: false });
  const fleet = parts.fleet ?? new Fleet({ seed: options.seed, scenarioRatePerHour: 0 });
  const storage = await EmbeddedStorage.open({ registry, logger });
  const ex = await composeExporter({ ...parts, options, logger, registry, fleet, storage });
  await ex.app.start({ schedule: false });
  return ex;
}
