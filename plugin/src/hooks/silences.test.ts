import { describeMatchers, silenceCovers, silenceForAlert } from './silences';
import type { Silence, SilenceMatcher } from '../api/types';

function silence(matchers: SilenceMatcher[], state: Silence['status']['state'] = 'active'): Silence {
  return {
    id: 's1',
    matchers,
    startsAt: '2026-01-01T12:00:00Z',
    endsAt: '2026-01-01T13:00:00Z',
    updatedAt: '2026-01-01T12:00:00Z',
    createdBy: 'admin',
    comment: '',
    status: { state },
  };
}

const m = (name: string, value: string, isRegex = false, isEqual = true): SilenceMatcher => ({
  name,
  value,
  isRegex,
  isEqual,
});
const labels = { alertname: 'HighCPUUsage', server: 'web-01', severity: 'warning' };

describe('silenceCovers', () => {
  test.each([
    ['equal matchers that all hold', [m('alertname', 'HighCPUUsage'), m('server', 'web-01')], 'active', true],
    ['one matcher that fails', [m('alertname', 'HighCPUUsage'), m('server', 'web-02')], 'active', false],
    ['a regex over the whole value', [m('server', 'web-.*', true)], 'active', true],
    ['a regex that matches only part of the value', [m('server', 'web', true)], 'active', false],
    ['a negative matcher', [m('severity', 'critical', false, false)], 'active', true],
    ['a label the alert lacks, matched as empty', [m('team', '', false)], 'active', true],
    ['a silence not yet in force', [m('alertname', 'HighCPUUsage')], 'pending', false],
    ['an expired silence', [m('alertname', 'HighCPUUsage')], 'expired', false],
    ['an invalid regex', [m('server', '(', true)], 'active', false],
  ] as const)('%s → %s', (_name, matchers, state, expected) => {
    expect(silenceCovers(silence([...matchers], state), labels)).toBe(expected);
  });
});

describe('silenceForAlert', () => {
  test('selects the rule and the server, for the chosen duration, with who and why', () => {
    expect(silenceForAlert({ name: 'ServerDown', server: 'web-05' }, '4h', 'admin', 'maintenance')).toEqual({
      matchers: [m('alertname', 'ServerDown'), m('server', 'web-05')],
      duration: '4h',
      createdBy: 'admin',
      comment: 'maintenance',
    });
    expect(silenceForAlert({ name: 'ExporterDown', server: undefined }, '1h', 'a', '').matchers).toEqual([
      m('alertname', 'ExporterDown'),
    ]);
  });

  test('prints matchers as Alertmanager does', () => {
    expect(describeMatchers([m('alertname', 'A'), m('server', 'web-.*', true), m('sev', 'x', false, false)])).toBe(
      'alertname="A", server=~"web-.*", sev!="x"'
    );
  });
});
