import { analysisQueries, buildServerScene, CHARTS, REGION_QUERIES } from './serverScene';

describe('the Server scene', () => {
  test('every chart query selects the page server through the $server variable', () => {
    for (const chart of CHARTS) {
      for (const q of chart.queries) {
        expect(q.expr).toContain('server="$server"');
        expect(q.expr).not.toMatch(/\[\d+[smh]\]/);
      }
    }
    for (const q of REGION_QUERIES) {
      expect(q.expr).toContain('server="$server"');
    }
  });

  test('rates use $__rate_interval, so the data source picks a window that fits its scrape interval', () => {
    const rates = CHARTS.flatMap((c) => c.queries).filter((q) => q.expr.includes('rate('));
    expect(rates.length).toBeGreaterThan(0);
    for (const q of rates) {
      expect(q.expr).toContain('[$__rate_interval]');
    }
  });

  test('the analysis series give a forecast band and an anomaly score per signal', () => {
    expect(analysisQueries('cpu').map((q) => [q.refId, q.expr])).toEqual([
      ['forecast_upper', 'max(openmanager_forecast{server="$server",signal="cpu",bound="upper"})'],
      ['forecast_lower', 'max(openmanager_forecast{server="$server",signal="cpu",bound="lower"})'],
      ['anomaly', 'max(openmanager_anomaly_score{server="$server",signal="cpu"})'],
    ]);
  });

  test('has a data source and a server variable, time and refresh pickers, and one panel per chart', () => {
    const scene = buildServerScene({ server: 'web-01', datasourceUid: 'stack-prom' });
    const vars = scene.state.$variables?.state.variables ?? [];
    expect(vars.map((v) => [v.state.name, v.getValue()])).toEqual([
      ['ds', 'stack-prom'],
      ['server', 'web-01'],
    ]);
    expect(scene.state.controls?.map((c) => c.constructor.name)).toEqual([
      'VariableValueSelectors',
      'SceneDataLayerControls',
      'SceneControlsSpacer',
      'SceneTimePicker',
      'SceneRefreshPicker',
    ]);
    const body = scene.state.body as unknown as { state: { children: Array<{ state: { title: string } }> } };
    expect(body.state.children.map((p) => p.state.title)).toEqual(CHARTS.map((c) => c.title));
  });
});
