import { analysisQueries, buildServerScene, chartSpecs, regionQueries, serverSelector } from './serverScene';

describe('the Server scene', () => {
  test.each([
    ['web-01', 'server="web-01"'],
    ['odd "id" \\ here', 'server="odd \\"id\\" \\\\ here"'],
  ])('selects server %p as %s (a PromQL string, escaped)', (server, selector) => {
    expect(serverSelector(server)).toBe(selector);
  });

  test('every chart, region and analysis query selects the page server', () => {
    const queries = [
      ...chartSpecs('web-01').flatMap((c) => c.queries.map((q) => q.expr)),
      ...regionQueries('web-01').map((q) => q.expr),
      ...analysisQueries('web-01', 'cpu').map((q) => q.expr),
    ];
    for (const expr of queries) {
      expect(expr).toContain('server="web-01"');
    }
  });

  test('rates use $__rate_interval, so the data source picks a window that fits its scrape interval', () => {
    const rates = chartSpecs('web-01')
      .flatMap((c) => c.queries)
      .filter((q) => q.expr.includes('rate('));
    expect(rates.length).toBeGreaterThan(0);
    for (const q of rates) {
      expect(q.expr).toContain('[$__rate_interval]');
      expect(q.expr).not.toMatch(/\[\d+[smh]\]/);
    }
  });

  test('the analysis series give a forecast band and an anomaly score per signal', () => {
    expect(analysisQueries('web-01', 'cpu').map((q) => [q.refId, q.expr])).toEqual([
      ['forecast_upper', 'max(openmanager_forecast{server="web-01",signal="cpu",bound="upper"})'],
      ['forecast_lower', 'max(openmanager_forecast{server="web-01",signal="cpu",bound="lower"})'],
      ['anomaly', 'max(openmanager_anomaly_score{server="web-01",signal="cpu"})'],
    ]);
    // Only CPU has a forecast band: the other signals' charts ask for their anomaly score alone.
    expect(analysisQueries('web-01', 'memory').map((q) => q.refId)).toEqual(['anomaly']);
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
    expect(body.state.children.map((p) => p.state.title)).toEqual(chartSpecs('web-01').map((c) => c.title));
  });
});
