/**
 * The rule manager's self-metrics, named exactly as Prometheus names its own (`prometheus_rule_*`, label
 * `rule_group` = "<file>;<group>"), so dashboards and alert rules written for Prometheus's rule engine —
 * "rule evaluation failing", "group slower than its interval" — work unchanged on the exporter's. Plus
 * `openmanager_rules_last_reload_successful` and the reload counters. Built once and handed to every group.
 */
import { Counter, Gauge, Summary, type Registry } from 'prom-client';

/** Observer takes one observation of a duration in seconds. */
export interface Observer {
  observe(value: number): void;
}

/** RuleMetrics are the rule manager's metrics. */
export interface RuleMetrics {
  readonly evalDuration: Observer;
  readonly groupDuration: Observer;
  readonly evaluations: Counter<'rule_group'>;
  readonly failures: Counter<'rule_group'>;
  readonly interval: Gauge<'rule_group'>;
  readonly lastDuration: Gauge<'rule_group'>;
  readonly lastEvaluation: Gauge<'rule_group'>;
  readonly lastSamples: Gauge<'rule_group'>;
  readonly rules: Gauge<'rule_group'>;
  readonly iterations: Counter<'rule_group'>;
  readonly missed: Counter<'rule_group'>;
  readonly reloadSuccessful: Gauge;
  readonly reloads: Counter<'result'>;
}

/** QUANTILES are the summary quantiles Prometheus exports for rule evaluation durations. */
const QUANTILES = [0.5, 0.9, 0.99];

/**
 * HOT_BUFFER is how many observations a buffered summary holds before it folds them into its quantile
 * sketch; the same figure as Go's client_golang summaries (hotBuf of 500).
 */
const HOT_BUFFER = 500;

/**
 * bufferedSummary is a Summary whose observations are folded into its quantile sketch in batches, when
 * HOT_BUFFER of them are waiting or when the summary is collected (a scrape then sees every observation),
 * as Go's client_golang does for Prometheus's own summaries. prom-client's sketch costs tens of µs per
 * observation; a rule group observes once per rule per evaluation, and that cost landed inside the
 * evaluation the group's duration measures.
 */
function bufferedSummary(config: { name: string; help: string; registers: Registry[] }): Observer {
  const hot = new Float64Array(HOT_BUFFER);
  let n = 0;
  const flush = (summary: Summary): void => {
    for (let i = 0; i < n; i++) summary.observe(hot[i] as number);
    n = 0;
  };
  const summary: Summary = new Summary({
    ...config,
    percentiles: QUANTILES,
    collect() {
      flush(summary);
    },
  });
  return {
    observe(value: number): void {
      hot[n++] = value;
      if (n === HOT_BUFFER) flush(summary);
    },
  };
}

/** createRuleMetrics registers the metrics on `registry`. */
export function createRuleMetrics(registry: Registry): RuleMetrics {
  const registers = [registry];
  const perGroup = { labelNames: ['rule_group'] as const, registers };
  return {
    evalDuration: bufferedSummary({
      name: 'prometheus_rule_evaluation_duration_seconds',
      help: 'The duration for a rule to execute.',
      registers,
    }),
    groupDuration: bufferedSummary({
      name: 'prometheus_rule_group_duration_seconds',
      help: 'The duration of rule group evaluations.',
      registers,
    }),
    evaluations: new Counter({
      name: 'prometheus_rule_evaluations_total',
      help: 'The total number of rule evaluations.',
      ...perGroup,
    }),
    failures: new Counter({
      name: 'prometheus_rule_evaluation_failures_total',
      help: 'The total number of rule evaluation failures.',
      ...perGroup,
    }),
    interval: new Gauge({
      name: 'prometheus_rule_group_interval_seconds',
      help: 'The interval of a rule group.',
      ...perGroup,
    }),
    lastDuration: new Gauge({
      name: 'prometheus_rule_group_last_duration_seconds',
      help: 'The duration of the last rule group evaluation.',
      ...perGroup,
    }),
    lastEvaluation: new Gauge({
      name: 'prometheus_rule_group_last_evaluation_timestamp_seconds',
      help: 'The timestamp of the last rule group evaluation in seconds.',
      ...perGroup,
    }),
    lastSamples: new Gauge({
      name: 'prometheus_rule_group_last_evaluation_samples',
      help: 'The number of samples returned during the last rule group evaluation.',
      ...perGroup,
    }),
    rules: new Gauge({
      name: 'prometheus_rule_group_rules',
      help: 'The number of rules.',
      ...perGroup,
    }),
    iterations: new Counter({
      name: 'prometheus_rule_group_iterations_total',
      help: 'The total number of scheduled rule group evaluations, whether executed or missed.',
      ...perGroup,
    }),
    missed: new Counter({
      name: 'prometheus_rule_group_iterations_missed_total',
      help: 'The total number of rule group evaluations missed due to slow rule group evaluation.',
      ...perGroup,
    }),
    reloadSuccessful: new Gauge({
      name: 'openmanager_rules_last_reload_successful',
      help: 'Whether the last rule-file reload succeeded (1) or was rejected, leaving the previous rules running (0).',
      registers,
    }),
    reloads: new Counter({
      name: 'openmanager_rules_reloads_total',
      help: 'Rule-file reloads by result (success, failure).',
      labelNames: ['result'],
      registers,
    }),
  };
}

/** removeGroup drops a group's label values from every per-group metric (the group was unloaded). */
export function removeGroup(m: RuleMetrics, ruleGroup: string): void {
  for (const metric of [
    m.evaluations,
    m.failures,
    m.interval,
    m.lastDuration,
    m.lastEvaluation,
    m.lastSamples,
    m.rules,
    m.iterations,
    m.missed,
  ])
    metric.remove({ rule_group: ruleGroup });
}
