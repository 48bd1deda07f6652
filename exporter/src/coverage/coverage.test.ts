/**
 * The coverage run end to end on a one- or two-server fleet with few scenarios (each run simulates a few
 * hours in about a second): a rule set without a disk rule is reported as missing disk fills, a threshold
 * below the healthy baseline is reported as false alarms, the same seed gives the same report byte for byte,
 * and the CLI gates on --min-detection. The plan's invariants are checked on the shipped 20-server fleet.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coverageReportSchema, type CoverageReport } from '../contract/coverage.js';
import { defaultFleet, type ServerInfo } from '../simulator/index.js';
import { coverageCli } from './cli.js';
import { renderCoverageHtml } from './html.js';
import { resolveCoverageOptions, type CoverageOptions } from './options.js';
import { planScenarios, rolesFor } from './plan.js';
import { runCoverage, segmentBounds } from './run.js';
import { formatCoverageTable } from './table.js';

const dir = mkdtempSync(join(tmpdir(), 'coverage-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ruleFile writes a rule file into the test's directory and returns its name (relative to `dir`). */
function ruleFile(name: string, rules: string): string {
  writeFileSync(join(dir, name), `groups:\n  - name: ${name.replace(/\W/g, '-')}\n    rules:\n${rules}`);
  return name;
}

/** CPU_RULE is the shipped CriticalCPUUsage without its recording: mean CPU above 95 % for 2 min. */
const CPU_RULE = `      - alert: CPUSaturated
        expr: avg by (server) (openmanager_cpu_usage_percent) > 95
        for: 2m
`;

const byId = new Map(defaultFleet().map((s) => [s.id, s]));
const server = (id: string): ServerInfo => {
  const s = byId.get(id);
  if (!s) throw new Error(`no ${id} in the shipped fleet`);
  return s;
};

/** small is a run of a handful of scenarios on `fleet`. */
function small(ruleFiles: string[], over: Partial<CoverageOptions> = {}): Promise<CoverageReport> {
  return runCoverage({
    ruleFiles,
    cwd: dir,
    fleet: [server('web-01')],
    kinds: ['cpu_spike', 'disk_fill'],
    intensities: [1],
    repetitions: 1,
    quietMs: 20 * 60_000,
    ...over,
  });
}

describe('runCoverage', () => {
  it('reports a kind that no rule covers as missed, and the covered kind as detected', async () => {
    const report = await small([ruleFile('cpu-only.yml', CPU_RULE)]);
    expect(coverageReportSchema.parse(report)).toEqual(report);
    const kind = (k: string) => report.kinds.find((x) => x.kind === k);
    expect(kind('disk_fill')).toMatchObject({ scenarios: 1, detected: 0, misses: 1, detectionRate: 0 });
    expect(kind('cpu_spike')).toMatchObject({
      scenarios: 1,
      detected: 1,
      misses: 0,
      alerts: { CPUSaturated: 1 },
    });
    // A 95 % rule at intensity 1 fires after its 2 min `for` (plus the evaluation that sees it first).
    expect(kind('cpu_spike')?.timeToFireS.median).toBeGreaterThanOrEqual(120);
    expect(kind('cpu_spike')?.timeToFireS.max).toBeLessThanOrEqual(180);
    expect(report.summary).toMatchObject({
      scenarios: 2,
      detected: 1,
      detectionRate: 0.5,
      kindsMissed: ['disk_fill'],
    });
    expect(report.rules).toEqual([
      expect.objectContaining({
        alertname: 'CPUSaturated',
        trueFires: 1,
        falseAlarms: 0,
        neverCaught: ['disk_fill'],
      }),
    ]);
    // The miss carries the series that should have fired: disk usage per mount, rising through the window.
    const missed = report.scenarios.find((s) => s.kind === 'disk_fill');
    const signal = missed?.signal;
    expect(signal?.expr).toBe('max by (server, mount) (openmanager_disk_usage_percent{server="web-01"})');
    expect(signal?.start).toBeLessThan(missed!.start);
    const at = (t: number) => Math.round((t - signal!.start) / signal!.stepMs);
    const rise = (values: (number | null)[]): number =>
      Math.max(...values.slice(at(missed!.start), at(missed!.end)).map((v) => v ?? 0)) -
      (values[at(missed!.start)] ?? Infinity);
    expect(signal!.series.length).toBeGreaterThan(0);
    expect(signal!.series.every((x) => x.name.startsWith('/'))).toBe(true);
    expect(Math.max(...signal!.series.map((x) => rise(x.values)))).toBeGreaterThan(20);
    expect(report.scenarios.find((s) => s.kind === 'cpu_spike')?.signal).toBeUndefined();
    expect(formatCoverageTable(report)).toContain('kinds never detected: disk_fill');
    const html = renderCoverageHtml(report);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|src="http/);
    // The miss's key signal is drawn beside it: one line per mount.
    const chart = html.slice(html.indexOf('openmanager_disk_usage_percent{server=&#34;web-01&#34;}'));
    expect(chart.slice(0, chart.indexOf('</svg>')).match(/<path d="M/g)).toHaveLength(signal!.series.length);
  });

  it('reports a rule whose threshold sits below the healthy baseline with false alarms', async () => {
    const report = await small([
      ruleFile(
        'thresholds.yml',
        `${CPU_RULE}      - alert: CPUAbove5
        expr: avg by (server) (openmanager_cpu_usage_percent) > 5
        for: 1m
`,
      ),
    ]);
    const rule = (n: string) => report.rules.find((r) => r.alertname === n);
    expect(rule('CPUAbove5')?.falseAlarms).toBeGreaterThan(0);
    expect(rule('CPUSaturated')?.falseAlarms).toBe(0);
    expect(report.summary.falseAlarms).toBe(rule('CPUAbove5')?.falseAlarms);
    expect(report.summary.falseAlarmsPerDay).toBeGreaterThan(0);
  });

  it('gives the same report byte for byte for the same seed, and another for another seed', async () => {
    const files = [ruleFile('same-seed.yml', CPU_RULE)];
    const over = {
      fleet: [server('web-01'), server('db-01')],
      kinds: ['cpu_spike', 'cascading_failure'],
    } as const;
    const a = JSON.stringify(await small(files, { ...over, seed: 7 }));
    const b = JSON.stringify(await small(files, { ...over, seed: 7 }));
    const c = JSON.stringify(await small(files, { ...over, seed: 8 }));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('gives the same report whether the time is cut into segments or not, in-thread or on workers', async () => {
    // A rule comparing a recording with its median over an hour: its state depends on an hour of history,
    // which each segment's lead-in must cover for the seams to be invisible.
    const files = [
      ruleFile(
        'segments.yml',
        `${CPU_RULE}      - record: server:cpu:avg
        expr: avg by (server) (openmanager_cpu_usage_percent)
      - alert: CPUAboveItsHour
        expr: server:cpu:avg > 1.3 * quantile_over_time(0.5, server:cpu:avg[1h])
        for: 2m
`,
      ),
    ];
    const over: Partial<CoverageOptions> = {
      fleet: [server('web-01'), server('db-01')],
      kinds: ['cpu_spike', 'latency_degradation', 'memory_leak'],
      intensities: [0.4, 1],
      repetitions: 2,
      minDays: 0.5,
    };
    const strip = (r: CoverageReport): string =>
      JSON.stringify({ ...r, settings: { ...r.settings, segments: 0 } });
    const whole = await small(files, { ...over, segments: 1 });
    const cut = await small(files, { ...over, segments: 3, workers: 1 });
    const parallel = await small(files, { ...over, segments: 3, workers: 2 });
    expect(whole.settings.segments).toBe(1);
    expect(cut.settings.segments).toBe(3);
    expect(whole.firings.length).toBeGreaterThan(5);
    expect(strip(cut)).toBe(strip(whole));
    expect(strip(parallel)).toBe(strip(whole));
  });

  it('names the rule file and line of a rule that does not parse', async () => {
    const bad = ruleFile('bad.yml', '      - alert: Broken\n        expr: rate(\n');
    await expect(small([bad])).rejects.toMatchObject({ code: 'COVERAGE_RULES_INVALID' });
    await expect(small(['nothing-*.yml'])).rejects.toThrow(/no rule file matches/);
  });
});

describe('coverageCli', () => {
  it('writes the JSON and HTML reports and exits 1 below --min-detection', async () => {
    const rules = ruleFile('cli.yml', CPU_RULE);
    const out = join(dir, 'out');
    const text: string[] = [];
    const io = { out: (t: string) => text.push(t), err: (t: string) => text.push(t) };
    const argv = ['--rules', join(dir, rules), '--servers', '1', '--repeat', '1', '--intensities', '1'];
    const kinds = ['--kinds', 'cpu_spike,disk_fill', '--out', out, '--quiet'];
    expect(await coverageCli([...argv, ...kinds, '--min-detection', '0.9'], io)).toBe(1);
    expect(text.join('')).toMatch(/detection rate 0\.5 is below --min-detection 0\.9/);
    const written = coverageReportSchema.parse(
      JSON.parse(readFileSync(join(out, 'coverage-report.json'), 'utf8')),
    );
    expect(written.summary.kindsMissed).toEqual(['disk_fill']);
    expect(readFileSync(join(out, 'coverage-report.html'), 'utf8')).toContain('Alert coverage report');
    expect(await coverageCli([...argv, ...kinds, '--min-detection', '0.5'], io)).toBe(0);
    expect(await coverageCli(['--kinds', 'meteor_strike'], io)).toBe(2);
    expect(await coverageCli(['--bogus'], io)).toBe(2);
  });
});

describe('planScenarios', () => {
  const servers = defaultFleet();
  const opts = resolveCoverageOptions({ repetitions: 2 });
  const plan = planScenarios(servers, opts);

  it('runs every kind × intensity × role cell the given number of times', () => {
    const counts = new Map<string, number>();
    for (const s of plan.scenarios) {
      const k = `${s.kind}|${s.intensity}|${s.role}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let cells = 0;
    for (const kind of opts.kinds)
      for (const intensity of opts.intensities)
        for (const role of rolesFor(kind, servers)) {
          cells++;
          expect(counts.get(`${kind}|${intensity}|${role}`), `${kind} ${intensity} ${role}`).toBe(2);
        }
    expect(plan.scenarios.length).toBe(cells * 2);
    expect(rolesFor('cascading_failure', servers)).toEqual(['db']);
  });

  it('keeps every server quiet for quietMs between the scenarios that touch it', () => {
    const busy = new Map<number, [number, number][]>();
    for (const s of plan.scenarios)
      for (const i of s.affected) busy.set(i, [...(busy.get(i) ?? []), [s.start, s.start + s.durationMs]]);
    for (const spans of busy.values()) {
      spans.sort((a, b) => a[0] - b[0]);
      for (let k = 1; k < spans.length; k++)
        expect(spans[k]![0] - spans[k - 1]![1]).toBeGreaterThanOrEqual(opts.quietMs);
    }
    expect(plan.scenarios[0]!.start).toBeGreaterThanOrEqual(opts.start + opts.warmupMs);
  });

  it('stretches the quiet periods to last minDays', () => {
    const week = planScenarios(servers, { ...opts, minDays: 7 });
    expect(week.end - opts.start).toBeGreaterThanOrEqual(7 * 86_400_000);
    expect(week.end - opts.start).toBeLessThan(7.2 * 86_400_000);
    expect(week.quietMs).toBeGreaterThan(opts.quietMs);
    expect(week.scenarios.length).toBe(plan.scenarios.length);
  });

  it('rejects options it cannot run, naming the field', () => {
    expect(() => resolveCoverageOptions({ intensities: [1.5] })).toThrow(/intensities/);
    expect(() => resolveCoverageOptions({ repetitions: 0 })).toThrow(/repetitions/);
    expect(() => resolveCoverageOptions({ start: 1 })).toThrow(/start: must be a multiple/);
  });
});

describe('segmentBounds', () => {
  const H = 3_600_000;
  it.each([
    // A week with a 25 h lead-in: two parts, the first a lead-in longer, so both simulate 96.5 h.
    [0, 168 * H, 25 * H, 0, [0, 96.5 * H, 168 * H]],
    // Shorter than three lead-ins: one part.
    [0, 70 * H, 25 * H, 0, [0, 70 * H]],
    // Three parts asked for: each simulates 8 h (the later ones from 6 h before their start).
    [0, 12 * H, 6 * H, 3, [0, 8 * H, 10 * H, 12 * H]],
    // A lead-in as long as the run cannot be balanced: equal parts.
    [0, 12 * H, 12 * H, 3, [0, 4 * H, 8 * H, 12 * H]],
  ])('[%i, %i] with lead-in %i, segments %i', (start, end, lead, segments, want) => {
    expect(segmentBounds(start, end, lead, segments, 15_000)).toEqual(want);
  });
});
