import { coverageReport } from '../../test/coverage-fixtures';
import { buildMatrix, buildTimeline, missExploreUrl, missQueries, signalPlot } from './report';

describe('coverage report views', () => {
  const report = coverageReport();

  test('the matrix has a row per kind that ran and the rules that caught something first', () => {
    const m = buildMatrix(report);
    expect(m.rules).toEqual(['HighCPUUsage', 'HighDiskUsage', 'NeverFires']);
    expect(m.rows.map((r) => [r.kind, r.detected, r.misses, r.cells.map((c) => c.count)])).toEqual([
      ['cpu_spike', 2, 0, [2, 0, 0]],
      ['disk_fill', 1, 1, [0, 1, 0]],
      ['cascading_failure', 1, 0, [1, 0, 0]],
    ]);
    expect(m.rows[1]?.cells[1]?.share).toBe(0.5);
  });

  test("a kind's timeline holds the firings on its servers within the window and grace, dependents marked", () => {
    const cpu = buildTimeline(report, 'cpu_spike');
    // Both runs last 20 min; the axis adds the 5 min grace.
    expect(cpu.spanMs).toBe(25 * 60_000);
    expect(cpu.rows.map((r) => r.marks.map((m) => [m.alertname, m.fromMs]))).toEqual([
      [['HighCPUUsage', 5 * 60_000]],
      [['HighCPUUsage', 330_000]],
    ]);
    const disk = buildTimeline(report, 'disk_fill');
    expect(disk.rows.map((r) => [r.scenario.id, r.marks.length])).toEqual([
      ['d1', 1],
      ['d2', 0],
    ]);
    const cascade = buildTimeline(report, 'cascading_failure');
    expect(cascade.rows[0]?.marks).toEqual([
      expect.objectContaining({ alertname: 'HighCPUUsage', server: 'web-01', dependent: true }),
    ]);
  });

  test('a missed scenario links its ground truth and the key signal the run evaluated on its server', () => {
    const miss = report.scenarios.find((s) => s.id === 'd2');
    expect(missQueries(miss!).map((q) => q.expr)).toEqual([
      'openmanager_scenario_active{server="db-01"}',
      'max by (server, mount) (openmanager_disk_usage_percent{server="db-01"})',
    ]);
    expect(missQueries({ server: 'db-01' }).map((q) => q.expr)).toEqual(['openmanager_scenario_active{server="db-01"}']);
  });

  test("a miss's key signal is laid out over the plot: lines per series, gaps break them, the window shaded", () => {
    const miss = report.scenarios.find((s) => s.id === 'd2')!;
    const plot = signalPlot(miss, report.settings.graceMs, 550, 100)!;
    // 56 one-minute steps: 55 minutes over 550 units, 10 units a minute; the scenario starts 10 min in.
    expect(plot.spanMs).toBe(55 * 60_000);
    expect(plot.scenario).toEqual([100, 400]);
    expect(plot.grace).toEqual([400, 450]);
    expect([plot.min, plot.max]).toEqual([30, 85]);
    expect(plot.lines.map((l) => l.name)).toEqual(['/', '/data']);
    // "/" is flat at the minimum: the bottom of the plot, one unbroken line.
    expect(plot.lines[0]!.d.match(/M/g)).toHaveLength(1);
    expect(plot.lines[0]!.d).toContain('L550.0 100.0');
    // "/data" breaks at its missing step and reaches the top at the scenario's end.
    expect(plot.lines[1]!.d.match(/M/g)).toHaveLength(2);
    expect(plot.lines[1]!.d).toContain('L400.0 0.0');
    expect(signalPlot({ ...miss, signal: undefined }, 0, 550, 100)).toBeUndefined();
  });

  test('the Explore link opens the data source over the scenario window with a margin and the grace', () => {
    const miss = report.scenarios.find((s) => s.id === 'd2');
    if (!miss) {
      throw new Error('fixture has no miss');
    }
    const url = missExploreUrl(miss, 'prom-uid', report.settings.graceMs);
    expect(url.startsWith('/explore?')).toBe(true);
    const panes = JSON.parse(new URLSearchParams(url.split('?')[1]).get('panes') ?? '{}');
    expect(panes.om.datasource).toBe('prom-uid');
    expect(panes.om.range).toEqual({
      from: String(miss.start - 10 * 60_000),
      to: String(miss.end + 5 * 60_000 + 10 * 60_000),
    });
    expect(panes.om.queries.map((q: { expr: string }) => q.expr)).toEqual(missQueries(miss).map((q) => q.expr));
  });
});
