/**
 * The words hostile requests are built from: the exporter's real metric names, label names and label values
 * (read from the simulator's layout of the shipped 20-server fleet, so the generators follow the exporter when
 * a family is added), the server ids, and the prefix the fuzzer's own remote-written series carry.
 */
import { Fleet, defaultFleet } from '../../src/simulator/index.js';
import { METRIC_NAME } from '../../src/util/labels.js';

/**
 * FUZZ_METRIC_PREFIX starts every metric name the fuzzer remote-writes, so the exporter's own series stay
 * countable after a session (a mutated body can shorten a name but not remove its first bytes).
 */
export const FUZZ_METRIC_PREFIX = 'fuzz_';

/** Vocabulary is what the generators draw names from. */
export interface Vocabulary {
  /** metrics are the sample names the exporter stores (histograms by `_bucket`, `_sum`, `_count`). */
  readonly metrics: readonly string[];
  /** labelValues maps each label name of the exporter's series to its values. */
  readonly labelValues: ReadonlyMap<string, readonly string[]>;
  /** labelNames are the keys of labelValues. */
  readonly labelNames: readonly string[];
  /** servers are the fleet's server ids. */
  readonly servers: readonly string[];
}

/** fleetVocabulary reads the vocabulary from the shipped fleet's layout (default seed). */
export function fleetVocabulary(): Vocabulary {
  const fleet = new Fleet({ servers: defaultFleet() });
  const metrics = new Set<string>();
  const values = new Map<string, Set<string>>();
  for (const s of fleet.layout.series) {
    for (const [k, v] of Object.entries(s.labels)) {
      if (k === METRIC_NAME) {
        metrics.add(v);
        continue;
      }
      let set = values.get(k);
      if (set === undefined) values.set(k, (set = new Set()));
      set.add(v);
    }
  }
  const labelValues = new Map([...values].map(([k, v]) => [k, [...v]]));
  return {
    metrics: [...metrics],
    labelValues,
    labelNames: [...labelValues.keys()],
    servers: fleet.layout.servers.map((s) => s.id),
  };
}
