/**
 * AlertingRule is one `alert:` rule and its alerts, with the state machine of Prometheus's
 * `rules/alerting.go` (2.42) in one place:
 *
 *   (absent) ──expr returns it──▶ pending ──held for `for`──▶ firing
 *   pending ──expr stops returning it──▶ (deleted)
 *   firing ──expr stops returning it──▶ inactive (resolved; kept 15 min so receivers hear "resolved"),
 *            unless `keep_firing_for` still holds it firing
 *   inactive ──expr returns it again──▶ pending (a new alert)
 *
 * `for: 0` fires at the first evaluation. Each evaluation also yields the `ALERTS` (value 1, with
 * `alertstate`) and `ALERTS_FOR_STATE` (value = activeAt in Unix seconds) samples Prometheus writes, which
 * let a restarted exporter restore how long each alert has been active.
 *
 * The rule is evaluated in two halves so that history can be replayed fast: `expand` turns query results into
 * candidate alerts (templates need the query function, so it is async), `update` advances the state machine
 * (synchronous and pure but for the rule's own state).
 */
import { METRIC_NAME, seriesKey, type Labels } from '../util/labels.js';
import type { AlertingRuleSpec } from './rule-file.js';

/** ALERT_NAME is the label carrying an alert's rule name. */
export const ALERT_NAME = 'alertname';
/** ALERT_STATE is the `ALERTS` series' label for the state. */
export const ALERT_STATE = 'alertstate';
/** ALERTS_METRIC and ALERTS_FOR_STATE_METRIC are Prometheus's alert series names. */
export const ALERTS_METRIC = 'ALERTS';
export const ALERTS_FOR_STATE_METRIC = 'ALERTS_FOR_STATE';

/** RESOLVED_RETENTION_MS is how long a resolved alert is kept, so notifiers send "resolved" (Prometheus: 15 min). */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** AlertState is an alert's state as the API shows it. */
export type AlertState = 'inactive' | 'pending' | 'firing';

/** Alert is one alert of a rule: one label set the expression returned. Times are ms. */
export interface Alert {
  readonly labels: Labels;
  annotations: Readonly<Record<string, string>>;
  state: AlertState;
  value: number;
  activeAt: number;
  firedAt: number | undefined;
  resolvedAt: number | undefined;
  keepFiringSince: number | undefined;
  /** lastSentAt is for notifiers (when this alert was last handed to them). */
  lastSentAt: number | undefined;
}

/** Candidate is one query result after templating: the alert it would be. */
export interface Candidate {
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  readonly value: number;
}

/** OutputSample is a sample a rule writes to the store. */
export interface OutputSample {
  readonly labels: Labels;
  readonly value: number;
}

/** AlertTransition is a change of an alert's state, for the hub and notifiers. */
export interface AlertTransition {
  readonly rule: string;
  /** from is the previous state, or undefined for a new alert. */
  readonly from: AlertState | undefined;
  readonly to: AlertState;
  readonly alert: Readonly<Alert>;
}

/** AlertsLimitError is a rule producing more alerts than its group's `limit`. */
export class AlertsLimitError extends Error {
  constructor(limit: number, got: number) {
    super(`exceeded limit of ${limit} with ${got} alerts`);
    this.name = 'AlertsLimitError';
  }
}

/** TemplateExpand expands one compiled template for one query result (labels and value). */
export type TemplateExpand<T> = (template: T, labels: Labels, value: number) => Promise<string>;

/** AlertingRule holds one alerting rule's spec and its active alerts. */
export class AlertingRule<T> {
  /** active are the rule's current alerts by label-set key (pending, firing, and resolved ones kept a while). */
  readonly active = new Map<string, Alert>();

  constructor(readonly spec: AlertingRuleSpec<T>) {}

  get name(): string {
    return this.spec.name;
  }

  /**
   * expand turns the query results into candidate alerts: rule labels (templated) replace the result's,
   * `alertname` is added, `__name__` dropped, annotations templated (left empty when `annotations` is false). Two results with the same final label
   * set are an error, as in Prometheus.
   */
  async expand(
    results: readonly OutputSample[],
    expandTemplate: TemplateExpand<T>,
    annotations = true,
  ): Promise<Candidate[]> {
    const out: Candidate[] = [];
    const seen = new Set<string>();
    const { labelTemplates, annotationTemplates } = this.spec;
    for (const r of results) {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.labels)) if (k !== METRIC_NAME) labels[k] = v;
      for (const [k, t] of Object.entries(labelTemplates)) {
        const v = await expandTemplate(t, r.labels, r.value);
        if (v === '') delete labels[k];
        else labels[k] = v;
      }
      labels[ALERT_NAME] = this.spec.name;
      const key = seriesKey(labels);
      if (seen.has(key))
        throw new Error('vector contains metrics with the same labelset after applying alert labels');
      seen.add(key);
      const expanded: Record<string, string> = {};
      if (annotations)
        for (const [k, t] of Object.entries(annotationTemplates))
          expanded[k] = await expandTemplate(t, r.labels, r.value);
      out.push({ labels, annotations: expanded, value: r.value });
    }
    return out;
  }

  /**
   * update advances every alert to evaluation time `ts` given this evaluation's candidates, and returns the
   * ALERTS / ALERTS_FOR_STATE samples and the transitions. Throws AlertsLimitError (clearing every alert, as
   * Prometheus does) when more than `limit` alerts are pending or firing.
   */
  update(
    ts: number,
    candidates: readonly Candidate[],
    limit: number,
  ): { samples: OutputSample[]; transitions: AlertTransition[] } {
    const transitions: AlertTransition[] = [];
    const inResult = new Set<string>();
    for (const c of candidates) {
      const key = seriesKey(c.labels);
      inResult.add(key);
      const existing = this.active.get(key);
      if (existing && existing.state !== 'inactive') {
        existing.value = c.value;
        existing.annotations = c.annotations;
        continue;
      }
      const alert: Alert = {
        labels: c.labels,
        annotations: c.annotations,
        state: 'pending',
        value: c.value,
        activeAt: ts,
        firedAt: undefined,
        resolvedAt: undefined,
        keepFiringSince: undefined,
        lastSentAt: undefined,
      };
      this.active.set(key, alert);
      transitions.push({ rule: this.spec.name, from: undefined, to: 'pending', alert: { ...alert } });
    }

    const samples: OutputSample[] = [];
    let activeCount = 0;
    for (const [key, a] of this.active) {
      if (!inResult.has(key)) {
        let keepFiring = false;
        if (a.state === 'firing' && this.spec.keepFiringForMs > 0) {
          a.keepFiringSince ??= ts;
          keepFiring = ts - a.keepFiringSince < this.spec.keepFiringForMs;
        }
        if (
          a.state === 'pending' ||
          (a.resolvedAt !== undefined && ts - a.resolvedAt > RESOLVED_RETENTION_MS)
        )
          this.active.delete(key);
        if (a.state !== 'inactive' && !keepFiring) {
          const from = a.state;
          a.state = 'inactive';
          a.resolvedAt = ts;
          transitions.push({ rule: this.spec.name, from, to: 'inactive', alert: { ...a } });
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSince = undefined;
      }
      activeCount++;
      if (a.state === 'pending' && ts - a.activeAt >= this.spec.forMs) {
        a.state = 'firing';
        a.firedAt = ts;
        transitions.push({ rule: this.spec.name, from: 'pending', to: 'firing', alert: { ...a } });
      }
      samples.push(
        { labels: { ...a.labels, [METRIC_NAME]: ALERTS_METRIC, [ALERT_STATE]: a.state }, value: 1 },
        {
          labels: { ...a.labels, [METRIC_NAME]: ALERTS_FOR_STATE_METRIC },
          value: Math.floor(a.activeAt / 1000),
        },
      );
    }
    if (limit > 0 && activeCount > limit) {
      this.active.clear();
      throw new AlertsLimitError(limit, activeCount);
    }
    return { samples, transitions };
  }

  /** state is the rule's state for the API: firing if any alert fires, else pending if any is pending. */
  state(): AlertState {
    let state: AlertState = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') state = 'pending';
    }
    return state;
  }

  /** copyStateFrom takes over the alerts of the same rule before a reload (Prometheus's CopyState). */
  copyStateFrom(old: AlertingRule<T>): void {
    for (const [k, a] of old.active) this.active.set(k, a);
  }
}
