/**
 * familiesMetadata turns the simulator's family descriptions into a `/metadata` provider. Families are keyed
 * as Prometheus keys metadata scraped from text format 0.0.4: a counter by its sample name (`x_total`),
 * every other family by its name; the unit comes from the family description.
 */
import type { FamilyDesc } from '../../simulator/types.js';
import type { MetadataProvider, MetricMetadata } from './router.js';

/** familiesMetadata builds a MetadataProvider over a fixed list of families. */
export function familiesMetadata(families: readonly FamilyDesc[]): MetadataProvider {
  const all: Record<string, MetricMetadata[]> = {};
  for (const f of families) {
    const name = f.type === 'counter' ? `${f.name}_total` : f.name;
    all[name] = [{ type: f.type, help: f.help, unit: f.unit }];
  }
  return (metric?: string) => {
    if (metric === undefined) return all;
    const md = all[metric];
    return md ? { [metric]: md } : {};
  };
}
