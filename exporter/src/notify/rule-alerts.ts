/**
 * The bridge from the rule manager to the notifiers: alert transitions and the current alerts as AlertUpdates.
 * Only firing alerts and resolved ones (that fired) are notified; pending ones are not, as in Prometheus.
 * generatorURL is Prometheus's (`<externalURL>/graph?g0.expr=<expr>&g0.tab=1`).
 */
import { AlertingRule, type Alert, type AlertTransition } from '../rules/alerting-rule.js';
import type { RuleGroup } from '../rules/group.js';
import type { AlertUpdate } from './dispatcher.js';
import { fingerprint } from './notification.js';

/** generatorURL links an alert to its expression, as Prometheus does. */
export function generatorURL(externalURL: string, expr: string): string {
  return `${externalURL.replace(/\/+$/, '')}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`;
}

/** alertUpdate is an alert's notifiable state, or undefined when it is pending (or never fired). */
export function alertUpdate(a: Readonly<Alert>, expr: string, externalURL: string): AlertUpdate | undefined {
  const base = {
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.activeAt,
    value: Number.isFinite(a.value) ? a.value : null,
    generatorURL: generatorURL(externalURL, expr),
  };
  if (a.state === 'firing') return { ...base, status: 'firing', endsAt: undefined };
  if (a.state === 'inactive' && a.firedAt !== undefined && a.resolvedAt !== undefined)
    return { ...base, status: 'resolved', endsAt: a.resolvedAt };
  return undefined;
}

/** transitionUpdates turns one evaluation's transitions into updates (to firing, and firing to resolved). */
export function transitionUpdates<T>(
  groups: readonly RuleGroup<T>[],
  groupName: string,
  file: string,
  transitions: readonly AlertTransition[],
  externalURL: string,
): AlertUpdate[] {
  const group = groups.find((g) => g.spec.name === groupName && g.spec.file === file);
  const out: AlertUpdate[] = [];
  for (const t of transitions) {
    if (t.to === 'pending' || (t.to === 'inactive' && t.from !== 'firing')) continue;
    const rule = group?.rules.find((r) => r.rule instanceof AlertingRule && r.rule.name === t.rule)?.rule;
    const u = alertUpdate(t.alert, rule instanceof AlertingRule ? rule.spec.query : t.rule, externalURL);
    if (u) out.push(u);
  }
  return out;
}

/** currentAlerts lists every firing alert and every resolved one the rules still hold (15 min), as updates. */
export function currentAlerts<T>(groups: readonly RuleGroup<T>[], externalURL: string): AlertUpdate[] {
  const out: AlertUpdate[] = [];
  for (const g of groups)
    for (const r of g.rules) {
      if (!(r.rule instanceof AlertingRule)) continue;
      for (const a of r.rule.active.values()) {
        const u = alertUpdate(a, r.rule.spec.query, externalURL);
        if (u) out.push(u);
      }
    }
  return out;
}

/** activeFingerprints are the fingerprints of every alert the rules hold as firing or pending. */
export function activeFingerprints<T>(groups: readonly RuleGroup<T>[]): Set<string> {
  const out = new Set<string>();
  for (const g of groups)
    for (const r of g.rules) {
      if (!(r.rule instanceof AlertingRule)) continue;
      for (const a of r.rule.active.values())
        if (a.state === 'firing' || a.state === 'pending') out.add(fingerprint(a.labels));
    }
  return out;
}
