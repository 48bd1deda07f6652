import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRuleMetrics } from './rule-metrics.js';

/** summaryLines returns the exposition lines of one summary, without HELP and TYPE. */
async function summaryLines(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split('\n').filter((l) => l.startsWith(name));
}

describe('rule metrics', () => {
  it('a scrape sees every buffered duration observation', async () => {
    const registry = new Registry();
    const m = createRuleMetrics(registry);
    for (const v of [0.25, 0.5, 1]) m.evalDuration.observe(v);
    expect(await summaryLines(registry, 'prometheus_rule_evaluation_duration_seconds')).toEqual([
      'prometheus_rule_evaluation_duration_seconds{quantile="0.5"} 0.5',
      'prometheus_rule_evaluation_duration_seconds{quantile="0.9"} 1',
      'prometheus_rule_evaluation_duration_seconds{quantile="0.99"} 1',
      'prometheus_rule_evaluation_duration_seconds_sum 1.75',
      'prometheus_rule_evaluation_duration_seconds_count 3',
    ]);
    // Observations after a scrape are not counted twice.
    m.evalDuration.observe(2);
    const again = await summaryLines(registry, 'prometheus_rule_evaluation_duration_seconds');
    expect(again.slice(3)).toEqual([
      'prometheus_rule_evaluation_duration_seconds_sum 3.75',
      'prometheus_rule_evaluation_duration_seconds_count 4',
    ]);
  });

  // Full buffers are folded on a later turn of the event loop, or by a scrape that comes first: either
  // way each observation is counted once (a lost or twice-folded buffer changes the count).
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  it.each([
    ['a scrape before the deferred fold', 1_234, false],
    ['the deferred fold before a scrape', 1_234, true],
    ['more full buffers than wait for a fold', 6_789, false],
    ['more full buffers than wait for a fold, then the fold', 6_789, true],
  ])('counts every observation across several full buffers: %s', async (_, count, turnFirst) => {
    const registry = new Registry();
    const m = createRuleMetrics(registry);
    for (let i = 0; i < count; i++) m.groupDuration.observe(1);
    if (turnFirst) await turn();
    const lines = await summaryLines(registry, 'prometheus_rule_group_duration_seconds');
    expect(lines.slice(3)).toEqual([
      `prometheus_rule_group_duration_seconds_sum ${count}`,
      `prometheus_rule_group_duration_seconds_count ${count}`,
    ]);
    await turn();
    m.groupDuration.observe(1);
    const again = await summaryLines(registry, 'prometheus_rule_group_duration_seconds');
    expect(again.slice(3)).toEqual([
      `prometheus_rule_group_duration_seconds_sum ${count + 1}`,
      `prometheus_rule_group_duration_seconds_count ${count + 1}`,
    ]);
  });
});
