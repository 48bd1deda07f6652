import { analysisChartSpecs, buildAnalysisScene, fleetScenarioRegions } from './analysisScene';

describe('the Analysis scene', () => {
  test('charts read the series the analysis writes, through the data source', () => {
    expect(analysisChartSpecs().map((c) => [c.title, c.queries.map((q) => q.expr)])).toEqual([
      ['Fleet anomaly rate', ['100 * max(openmanager_fleet_anomaly_rate)']],
      ['Open findings', ['max(openmanager_analysis_open_findings)']],
      ['Most anomalous servers (top 5)', ['topk(5, max by (server) (openmanager_server_anomaly_score))']],
    ]);
    expect(fleetScenarioRegions().map((q) => q.expr)).toEqual([
      'max by (server, scenario) (openmanager_scenario_active) > 0',
    ]);
  });

  test('has a data source variable, the scenarios layer, time and refresh pickers, and one panel per chart', () => {
    const scene = buildAnalysisScene({ datasourceUid: 'stack-prom' });
    const vars = scene.state.$variables?.state.variables ?? [];
    expect(vars.map((v) => [v.state.name, v.getValue()])).toEqual([['ds', 'stack-prom']]);
    expect(scene.state.controls?.map((c) => c.constructor.name)).toEqual([
      'VariableValueSelectors',
      'SceneDataLayerControls',
      'SceneControlsSpacer',
      'SceneTimePicker',
      'SceneRefreshPicker',
    ]);
    const body = scene.state.body as unknown as {
      state: { children: Array<{ state: { title: string; $data: { state: { datasource: { uid: string } } } } }> };
    };
    expect(body.state.children.map((p) => p.state.title)).toEqual(analysisChartSpecs().map((c) => c.title));
    // Every chart queries the data source variable, so choosing another source re-runs them all.
    for (const panel of body.state.children) {
      expect(panel.state.$data.state.datasource.uid).toBe('${ds}');
    }
  });
});
