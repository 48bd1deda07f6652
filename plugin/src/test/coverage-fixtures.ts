/**
 * Coverage and drill fixtures: a small coverage report that satisfies the contract's schema (two kinds, three
 * rules, one miss, one false alarm, a cascade with a dependent) and drill definitions and runs.
 */
import type { CoverageJob, CoverageReport, DrillDefinition, DrillRun } from '../api/types';

const T0 = Date.UTC(2026, 0, 5, 1);
const MIN = 60_000;

/**
 * diskSignal is the key signal of the fixture's missed disk fill (30 min from start + 10 min): 56 one-minute steps
 * from `start`; "/" flat at 30 %, "/data" at 40 % rising 1.5 points a minute through the scenario, with no
 * value at step 5 (a gap).
 */
function diskSignal(start: number) {
  const steps = 56;
  const data = Array.from({ length: steps }, (_, k) => (k < 10 ? 40 : k <= 40 ? 40 + 1.5 * (k - 10) : 40));
  return {
    expr: 'max by (server, mount) (openmanager_disk_usage_percent{server="db-01"})',
    legend: 'disk %',
    start,
    stepMs: MIN,
    series: [
      { name: '/', values: new Array<number | null>(steps).fill(30) },
      { name: '/data', values: data.map((v, k) => (k === 5 ? null : v)) },
    ],
  };
}

/** coverageReport builds a finished report: cpu_spike 2/2 detected, disk_fill 1/2, cascading_failure 1/1. */
export function coverageReport(): CoverageReport {
  return {
    version: 1,
    settings: {
      rules: ['rules/cpu.yml', 'rules/disk.yml'],
      seed: 42,
      servers: 2,
      kinds: ['cpu_spike', 'disk_fill', 'cascading_failure'],
      intensities: [1],
      repetitions: 1,
      start: Date.UTC(2026, 0, 5),
      end: Date.UTC(2026, 0, 5, 6),
      warmupMs: 30 * MIN,
      quietMs: 30 * MIN,
      graceMs: 5 * MIN,
      flapWindowMs: 10 * MIN,
      evaluationIntervalMs: 15_000,
      tickMs: 15_000,
      segments: 1,
    },
    summary: {
      scenarios: 5,
      detected: 4,
      detectionRate: 0.8,
      falseAlarms: 1,
      falseAlarmsPerDay: 4,
      scoredDays: 0.25,
      simulatedDays: 0.25,
      kindsMissed: [],
    },
    kinds: [
      {
        kind: 'cpu_spike',
        scenarios: 2,
        detected: 2,
        misses: 0,
        detectionRate: 1,
        timeToFireS: { median: 300, p90: 330, max: 330 },
        alerts: { HighCPUUsage: 2 },
        dependentAlerts: {},
        cells: [{ intensity: 1, role: 'web', scenarios: 2, detected: 2 }],
      },
      {
        kind: 'disk_fill',
        scenarios: 2,
        detected: 1,
        misses: 1,
        detectionRate: 0.5,
        timeToFireS: { median: 600, p90: 600, max: 600 },
        alerts: { HighDiskUsage: 1 },
        dependentAlerts: {},
        cells: [{ intensity: 1, role: 'db', scenarios: 2, detected: 1 }],
      },
      {
        kind: 'cascading_failure',
        scenarios: 1,
        detected: 1,
        misses: 0,
        detectionRate: 1,
        timeToFireS: { median: 120, p90: 120, max: 120 },
        alerts: {},
        dependentAlerts: { HighCPUUsage: 1 },
        cells: [{ intensity: 1, role: 'db', scenarios: 1, detected: 1 }],
      },
    ],
    rules: [
      {
        alertname: 'NeverFires',
        trueFires: 0,
        falseAlarms: 1,
        flaps: 0,
        caught: {},
        neverCaught: ['cpu_spike', 'disk_fill', 'cascading_failure'],
      },
      {
        alertname: 'HighCPUUsage',
        trueFires: 3,
        falseAlarms: 0,
        flaps: 1,
        caught: { cpu_spike: 2, cascading_failure: 1 },
        neverCaught: ['disk_fill'],
      },
      {
        alertname: 'HighDiskUsage',
        trueFires: 1,
        falseAlarms: 0,
        flaps: 0,
        caught: { disk_fill: 1 },
        neverCaught: ['cpu_spike', 'cascading_failure'],
      },
    ],
    scenarios: [
      {
        id: 'c1',
        kind: 'cpu_spike',
        role: 'web',
        intensity: 1,
        server: 'web-01',
        dependents: [],
        start: T0,
        end: T0 + 20 * MIN,
        detected: true,
        timeToFireS: 300,
        alerts: ['HighCPUUsage'],
        dependentAlerts: [],
      },
      {
        id: 'c2',
        kind: 'cpu_spike',
        role: 'web',
        intensity: 1,
        server: 'web-01',
        dependents: [],
        start: T0 + 60 * MIN,
        end: T0 + 80 * MIN,
        detected: true,
        timeToFireS: 330,
        alerts: ['HighCPUUsage'],
        dependentAlerts: [],
      },
      {
        id: 'd1',
        kind: 'disk_fill',
        role: 'db',
        intensity: 1,
        server: 'db-01',
        dependents: [],
        start: T0,
        end: T0 + 30 * MIN,
        detected: true,
        timeToFireS: 600,
        alerts: ['HighDiskUsage'],
        dependentAlerts: [],
      },
      {
        id: 'd2',
        kind: 'disk_fill',
        role: 'db',
        intensity: 1,
        server: 'db-01',
        dependents: [],
        start: T0 + 120 * MIN,
        end: T0 + 150 * MIN,
        detected: false,
        timeToFireS: null,
        alerts: [],
        dependentAlerts: [],
        signal: diskSignal(T0 + 110 * MIN),
      },
      {
        id: 'x1',
        kind: 'cascading_failure',
        role: 'db',
        intensity: 1,
        server: 'db-01',
        dependents: ['web-01'],
        start: T0 + 200 * MIN,
        end: T0 + 220 * MIN,
        detected: true,
        timeToFireS: 120,
        alerts: [],
        dependentAlerts: ['HighCPUUsage'],
      },
    ],
    firings: [
      { alertname: 'HighCPUUsage', server: 'web-01', start: T0 + 5 * MIN, end: T0 + 21 * MIN },
      { alertname: 'HighCPUUsage', server: 'web-01', start: T0 + 60 * MIN + 330_000, end: T0 + 81 * MIN },
      { alertname: 'HighDiskUsage', server: 'db-01', start: T0 + 10 * MIN, end: T0 + 31 * MIN },
      { alertname: 'HighCPUUsage', server: 'web-01', start: T0 + 202 * MIN, end: T0 + 221 * MIN },
      // Outside every scenario window: the false alarm, on no timeline.
      { alertname: 'NeverFires', server: 'web-02', start: T0 + 300 * MIN, end: T0 + 301 * MIN },
    ],
  };
}

/** coverageJob builds a job: running (with progress) or done (with the report). */
export function coverageJob(id: string, over: Partial<CoverageJob> = {}): CoverageJob {
  return {
    id,
    status: 'done',
    createdAt: Date.UTC(2026, 11, 6, 9),
    finishedAt: Date.UTC(2026, 11, 6, 9, 0, 2),
    request: { servers: 2, repetitions: 1 },
    progress: { simulatedMs: 6 * 3_600_000, totalMs: 6 * 3_600_000, phase: 'scoring' },
    error: null,
    report: coverageReport(),
    ...over,
  };
}

/** drillDefinition builds a shipped drill with two steps. */
export function drillDefinition(name: string, title: string): DrillDefinition {
  return {
    name,
    title,
    description: `${title}: a test drill.`,
    steps: [
      { afterSeconds: 0, kind: 'memory_leak', server: 'db-01', durationSeconds: 2400, intensity: 0.95 },
      { afterSeconds: 600, kind: 'latency_degradation', server: 'api-01', durationSeconds: 1200, intensity: 0.8 },
    ],
    durationSeconds: 2400,
    settleSeconds: 300,
  };
}

/** drillRun builds a run of drillDefinition's steps: the first injected, the second due in 10 minutes. */
export function drillRun(id: string, over: Partial<DrillRun> = {}): DrillRun {
  const start = Date.now();
  return {
    id,
    name: 'database-memory-leak',
    title: 'Database memory leak',
    speed: 1,
    clock: 'live',
    phase: null,
    simulatedAt: null,
    error: null,
    status: 'running',
    startedAt: start,
    endsAt: start + 2700_000,
    finishedAt: null,
    steps: [
      {
        afterSeconds: 0,
        kind: 'memory_leak',
        server: 'db-01',
        durationSeconds: 2400,
        intensity: 0.95,
        dueAt: start,
        scenarioId: 's-1',
        affected: ['db-01'],
        error: null,
      },
      {
        afterSeconds: 600,
        kind: 'latency_degradation',
        server: 'api-01',
        durationSeconds: 1200,
        intensity: 0.8,
        dueAt: start + 600_000,
        scenarioId: null,
        affected: [],
        error: null,
      },
    ],
    report: null,
    ...over,
  };
}
