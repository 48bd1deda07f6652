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
 * MAX_PENDING_BUFFERS bounds the full buffers waiting for their deferred fold (8 × 4 KiB): should the event
 * loop not turn for that long, the oldest is folded at once rather than held.
 */
const MAX_PENDING_BUFFERS = 8;

/**
 * bufferedSummary is a Summary whose observations are folded into its quantile sketch in batches, as Go's
 * client_golang does for Prometheus's own summaries. prom-client's sketch costs tens of µs per observation
 * (a batch of HOT_BUFFER measured 0.7–18 ms), and a rule group observes once per rule per evaluation: a full
 * buffer is therefore folded on a later turn of the event loop (client_golang folds it on another
 * goroutine), not inside the evaluation whose duration the group reports. A collection (a scrape) first
 * folds every waiting batch, in the order they were observed, so it sees every observation once.
 */
function bufferedSummary(config: { name: string; help: string; registers: Registry[] }): Observer {
  let hot = new Float64Array(HOT_BUFFER);
  let n = 0;
  const pending: Float64Array[] = [];
  let scheduled = false;
  const fold = (summary: Summary, buf: Float64Array, len: number): void => {
    for (let i = 0; i < len; i++) summary.observe(buf[i] as number);
  };
  const foldPending = (summary: Summary): void => {
    for (const buf of pending.splice(0)) fold(summary, buf, buf.length);
  };
  const summary: Summary = new Summary({
    ...config,
    percentiles: QUANTILES,
    collect() {
      foldPending(summary);
      fold(summary, hot, n);
      n = 0;
    },
  });
  return {
    observe(value: number): void {
      hot[n++] = value;
      if (n < HOT_BUFFER) return;
      pending.push(hot);
      hot = new Float64Array(HOT_BUFFER);
      n = 0;
      const oldest = pending.length > MAX_PENDING_BUFFERS ? pending.shift() : undefined;
      if (oldest) fold(summary, oldest, oldest.length);
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        foldPending(summary);
      });
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
