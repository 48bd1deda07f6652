/**
 * Silences as the Alerts page uses them: which alert a silence covers (Alertmanager's matcher semantics: every
 * matcher must hold; a regex matches the whole value) and the silence the page creates for one alert.
 */
import type { PostSilence, Silence, SilenceMatcher } from '../api/types';

/** SILENCE_DURATIONS are the durations offered when silencing an alert (Prometheus durations). */
export const SILENCE_DURATIONS = ['1h', '4h', '12h', '1d'] as const;

function matcherHolds(m: SilenceMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[m.name] ?? '';
  let equal: boolean;
  if (m.isRegex) {
    try {
      equal = new RegExp(`^(?:${m.value})$`).test(value);
    } catch {
      equal = false;
    }
  } else {
    equal = value === m.value;
  }
  return m.isEqual === false ? !equal : equal;
}

/** silenceCovers tells whether a silence in force (active) selects an alert with these labels. */
export function silenceCovers(silence: Silence, labels: Readonly<Record<string, string>>): boolean {
  return silence.status.state === 'active' && silence.matchers.every((m) => matcherHolds(m, labels));
}

/** silenceForAlert is the silence of one alert instance: its rule and server, for `duration`. */
export function silenceForAlert(
  alert: { name: string; server: string | undefined },
  duration: string,
  createdBy: string,
  comment: string
): PostSilence {
  const matchers: SilenceMatcher[] = [{ name: 'alertname', value: alert.name, isRegex: false, isEqual: true }];
  if (alert.server) {
    matchers.push({ name: 'server', value: alert.server, isRegex: false, isEqual: true });
  }
  return { matchers, duration, createdBy, comment };
}

/** describeMatchers prints matchers as Alertmanager does: `alertname="X", server=~"web-.*"`. */
export function describeMatchers(
  matchers: ReadonlyArray<Omit<SilenceMatcher, 'isEqual'> & { isEqual?: boolean }>
): string {
  return matchers
    .map((m) => {
      const equal = m.isEqual !== false;
      const op = m.isRegex ? (equal ? '=~' : '!~') : equal ? '=' : '!=';
      return `${m.name}${op}${JSON.stringify(m.value)}`;
    })
    .join(', ');
}
