/**
 * The Analysis page's charts as a scene: the fleet anomaly rate, the open findings and the most anomalous servers
 * over time, from the series the exporter's analysis writes to its store (`openmanager_fleet_anomaly_rate`,
 * `openmanager_analysis_open_findings`, `openmanager_server_anomaly_score`), with the scenarios of the whole fleet
 * shaded behind them. Queries go through the app's Prometheus-type data source, with a data source variable, the
 * time picker and the refresh picker of a dashboard.
 */
import {
  DataSourceVariable,
  EmbeddedScene,
  SceneControlsSpacer,
  SceneCSSGridLayout,
  SceneDataLayerControls,
  SceneDataLayerSet,
  SceneQueryRunner,
  SceneRefreshPicker,
  SceneTimePicker,
  SceneTimeRange,
  SceneVariableSet,
  VariableValueSelectors,
  VizPanel,
} from '@grafana/scenes';

import type { ChartOptions } from '../../scenes/ChartPanel/frames';
import { CHART_PANEL_ID, registerChartPanel } from '../../scenes/ChartPanel/register';
import { ExploreButton } from '../../scenes/ExploreButton';
import { RegionsLayer, type RegionQuery } from '../../scenes/RegionsLayer';
import { DS_VAR, MAX_POINTS, MIN_INTERVAL, REFRESH_INTERVALS, type ChartSpec } from '../Server/serverScene';

const DS = `\${${DS_VAR}}`;

/** ANALYSIS_RANGE is the charts' initial range: long enough to see an incident come and go. */
export const ANALYSIS_RANGE = { from: 'now-6h', to: 'now' };
/** TOP_SERVERS is how many of the most anomalous servers the third chart follows. */
export const TOP_SERVERS = 5;
/** CHART_HEIGHT is a chart's height in the grid (px). */
const CHART_HEIGHT = 260;

/** analysisChartSpecs are the Analysis page's charts. */
export function analysisChartSpecs(): ChartSpec[] {
  return [
    {
      id: 'anomaly-rate',
      title: 'Fleet anomaly rate',
      unit: 'percent',
      min: 0,
      queries: [{ expr: '100 * max(openmanager_fleet_anomaly_rate)', legend: 'anomalous server signals' }],
    },
    {
      id: 'open-findings',
      title: 'Open findings',
      unit: 'short',
      min: 0,
      queries: [{ expr: 'max(openmanager_analysis_open_findings)', legend: 'open findings' }],
    },
    {
      id: 'top-servers',
      title: `Most anomalous servers (top ${TOP_SERVERS})`,
      unit: 'short',
      min: 0,
      max: 1,
      queries: [
        { expr: `topk(${TOP_SERVERS}, max by (server) (openmanager_server_anomaly_score))`, legend: '{{server}}' },
      ],
    },
  ];
}

/** fleetScenarioRegions shades every scenario of the fleet, named by server and kind. */
export function fleetScenarioRegions(): RegionQuery[] {
  return [
    {
      refId: 'scenarios',
      expr: 'max by (server, scenario) (openmanager_scenario_active) > 0',
      kind: 'scenario',
      titleFormat: '{{server}} {{scenario}}',
    },
  ];
}

function chartPanel(spec: ChartSpec): VizPanel<ChartOptions> {
  return new VizPanel<ChartOptions>({
    key: `analysis-${spec.id}`,
    title: spec.title,
    pluginId: CHART_PANEL_ID,
    options: { unit: spec.unit, min: spec.min, max: spec.max },
    $data: new SceneQueryRunner({
      datasource: { type: 'prometheus', uid: DS },
      queries: spec.queries.map((q, i) => ({
        refId: String.fromCharCode(65 + i),
        expr: q.expr,
        legendFormat: q.legend,
        range: true,
      })),
      maxDataPoints: MAX_POINTS,
      minInterval: MIN_INTERVAL,
    }),
    headerActions: new ExploreButton({
      datasourceUid: DS,
      queries: spec.queries.map((q) => ({ expr: q.expr, legendFormat: q.legend })),
    }),
  });
}

/** buildAnalysisScene builds the Analysis page's scene over the data source `datasourceUid`. */
export function buildAnalysisScene({ datasourceUid }: { datasourceUid: string }): EmbeddedScene {
  registerChartPanel();
  return new EmbeddedScene({
    $timeRange: new SceneTimeRange(ANALYSIS_RANGE),
    $variables: new SceneVariableSet({
      variables: [
        new DataSourceVariable({ name: DS_VAR, label: 'Data source', pluginId: 'prometheus', value: datasourceUid }),
      ],
    }),
    $data: new SceneDataLayerSet({
      layers: [
        new RegionsLayer({
          key: 'fleet-scenarios',
          name: 'Scenarios',
          datasourceUid: DS,
          queries: fleetScenarioRegions(),
        }),
      ],
    }),
    controls: [
      new VariableValueSelectors({}),
      new SceneDataLayerControls(),
      new SceneControlsSpacer(),
      new SceneTimePicker({ isOnCanvas: true }),
      new SceneRefreshPicker({ intervals: REFRESH_INTERVALS, isOnCanvas: true }),
    ],
    body: new SceneCSSGridLayout({
      templateColumns: 'repeat(auto-fill, minmax(420px, 1fr))',
      autoRows: `${CHART_HEIGHT}px`,
      children: analysisChartSpecs().map(chartPanel),
    }),
  });
}
