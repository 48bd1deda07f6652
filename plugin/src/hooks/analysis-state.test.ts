import type { AiAnalysis } from '../api/types';
import { analysisState, finding, forecast, score, T0 } from '../test/fixtures';
import { anomaliesByServer, applyAiAnalysis, etaRows, newer, orderFindings } from './analysis-state';

function run(over: Partial<AiAnalysis> = {}): AiAnalysis {
  return { generatedAt: T0 + 30_000, window: { start: T0 - 3_600_000, end: T0 + 30_000 }, findings: [], ...over };
}

describe('orderFindings', () => {
  test('open before resolved, then the worst severity, then the newest onset', () => {
    const f = (id: string, state: 'open' | 'resolved', severity: 'critical' | 'warning' | 'info', start: number) =>
      finding(id, { state, severity, window: { start, end: T0 } });
    const ordered = orderFindings([
      f('resolved-critical', 'resolved', 'critical', T0 - 100),
      f('open-warning-old', 'open', 'warning', T0 - 900),
      f('open-info', 'open', 'info', T0 - 50),
      f('open-warning-new', 'open', 'warning', T0 - 10),
      f('open-critical', 'open', 'critical', T0 - 5_000),
    ]);
    expect(ordered.map((x) => x.id)).toEqual([
      'open-critical',
      'open-warning-new',
      'open-warning-old',
      'open-info',
      'resolved-critical',
    ]);
  });
});

describe('applyAiAnalysis', () => {
  test("a run replaces its findings by id, keeps older resolved ones, and takes the run's scores and rate", () => {
    const old = analysisState({
      findings: [
        finding('a'),
        finding('old', { state: 'resolved', window: { start: T0 - 7_200_000, end: T0 - 3_600_000 } }),
      ],
      forecasts: [forecast('db-01', 5)],
    });
    const next = applyAiAnalysis(
      old,
      run({
        findings: [finding('a', { state: 'resolved' }), finding('b', { server: 'web-02', severity: 'critical' })],
        scores: [score('web-02', { disk: 1 })],
        fleetAnomalyRate: 0.05,
        rootCauses: [],
      })
    );
    expect(next.generatedAt).toBe(T0 + 30_000);
    expect(next.findings.map((f) => [f.id, f.state])).toEqual([
      ['b', 'open'],
      ['a', 'resolved'],
      ['old', 'resolved'],
    ]);
    expect(next.scores).toEqual([score('web-02', { disk: 1 })]);
    expect(next.fleetAnomalyRate).toBe(0.05);
    // Forecasts are not in the message: they stay until the API is read again.
    expect(next.forecasts).toBe(old.forecasts);
  });

  test('a run older than the state changes nothing; optional parts it lacks keep their values', () => {
    const state = analysisState({ scores: [score('x', { cpu: 0.7 })], fleetAnomalyRate: 0.2 });
    expect(applyAiAnalysis(state, run({ generatedAt: T0 - 1 }))).toBe(state);
    const next = applyAiAnalysis(state, run());
    expect(next.scores).toBe(state.scores);
    expect(next.fleetAnomalyRate).toBe(0.2);
  });
});

describe('newer', () => {
  test.each([
    ['an answer newer than the state wins', T0, T0 + 30_000, T0 + 30_000],
    ['an answer older than a run already applied loses', T0 + 30_000, T0, T0 + 30_000],
    ['an answer before the first run never replaces a run', T0, null, T0],
    ['the first answer replaces the empty state', null, T0, T0],
  ])('%s', (_name, current, answer, expected) => {
    expect(newer(analysisState({ generatedAt: current }), analysisState({ generatedAt: answer })).generatedAt).toBe(
      expected
    );
  });
});

describe('etaRows', () => {
  test('lists the servers whose resource grows, soonest first', () => {
    const state = analysisState({
      forecasts: [forecast('a', 30, undefined), forecast('b', 2, 50), forecast('c', undefined, 10), forecast('d')],
    });
    expect(etaRows(state, 'disk').map((r) => [r.server, r.seconds / 3600, r.mount])).toEqual([
      ['b', 2, '/var/log'],
      ['a', 30, '/var/log'],
    ]);
    expect(etaRows(state, 'memory').map((r) => [r.server, r.seconds / 3600])).toEqual([
      ['c', 10],
      ['b', 50],
    ]);
  });
});

describe('anomaliesByServer', () => {
  test('marks servers at or above the threshold with their strongest signal', () => {
    const marks = anomaliesByServer([
      score('db-01', { cpu: 0.1, memory: 0.88 }),
      score('web-01', { cpu: 0.49 }),
      score('web-02', { disk: 0.5 }),
    ]);
    expect([...marks]).toEqual([
      ['db-01', { score: 0.88, signal: 'memory' }],
      ['web-02', { score: 0.5, signal: 'disk' }],
    ]);
  });

  test('keeps an unchanged mark as the same object, so its tile is not re-rendered', () => {
    const first = anomaliesByServer([score('db-01', { memory: 0.881 })]);
    const second = anomaliesByServer([score('db-01', { memory: 0.879 }), score('x', { up: 1 })], first);
    expect(second.get('db-01')).toBe(first.get('db-01'));
    const third = anomaliesByServer([score('db-01', { memory: 0.95 })], second);
    expect(third.get('db-01')).not.toBe(second.get('db-01'));
  });
});
