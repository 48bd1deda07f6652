/**
 * The rule manager's self-metrics, named exactly as Prometheus names its own (`prometheus_rule_*`, label
 * `rule_group` = "<file>;<group>"), so dashboards and alert rules written for Prometheus's rule engine —
 * "rule evaluation failing", "group slower than its interval" — work unchanged on the exporter's. Plus
 * `openmanager_rules_last_reload_successful` and the reload counters. Built once and handed to every group.
 */
import { Counter, Gauge, Summary, type Registry } from 'prom-client';

/** RuleMetrics are the rule manager's metrics. */
export interface RuleMetrics {
  readonly evalDuration: Summary;
  readonly groupDuration: Summary;
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

/** createRuleMetrics registers the metrics on `registry`. */
export function createRuleMetrics(registry: Registry): RuleMetrics {
  const registers = [registry];
  const perGroup = { labelNames: ['rule_group'] as const, registers };
  return {
    evalDuration: new Summary({
      name: 'prometheus_rule_evaluation_duration_seconds',
      help: 'The duration for a rule to execute.',
      percentiles: QUANTILES,
      registers,
    }),
    groupDuration: new Summary({
      name: 'prometheus_rule_group_duration_seconds',
      help: 'The duration of rule group evaluations.',
      percentiles: QUANTILES,
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
