/**
 * The Server page as a scene: a data source variable (the app's configured Prometheus-type source by default), a
 * server variable, time and refresh pickers, one chart per signal with its forecast band and anomaly score, and
 * a data layer of scenario and alert regions shared by every chart. Queries go through the data source, so the
 * page works against the exporter's API and against the stack's Prometheus alike.
 */
import { DashboardCursorSync } from '@grafana/schema';
import {
  behaviors,
  DataSourceVariable,
  EmbeddedScene,
  QueryVariable,
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

import { CHART_PANEL_ID, registerChartPanel } from '../../scenes/ChartPanel/register';
import type { ChartOptions } from '../../scenes/ChartPanel/frames';
import { ExploreButton } from '../../scenes/ExploreButton';
import { RegionsLayer, type RegionQuery } from '../../scenes/RegionsLayer';
import { chartSpecs, serverSelector, type ChartSpec } from './charts';

export { chartSpecs, serverSelector, type ChartQuery, type ChartSpec } from './charts';

/** DS_VAR and SERVER_VAR are the scene's variable names (`var-ds` in the URL; the server is in the path). */
export const DS_VAR = 'ds';
export const SERVER_VAR = 'server';
const DS = `\${${DS_VAR}}`;

/** DEFAULT_RANGE is the page's initial time range. */
export const DEFAULT_RANGE = { from: 'now-1h', to: 'now' };
/** MAX_POINTS is the points per series a chart asks for (a few per horizontal pixel is wasted work). */
export const MAX_POINTS = 300;
/** MIN_INTERVAL is the exporter's tick (15 s): a finer step only repeats samples. */
export const MIN_INTERVAL = '15s';
/** REFRESH_INTERVALS are the refresh picker's choices, from one hub broadcast (5 s) up. */
export const REFRESH_INTERVALS = ['5s', '15s', '30s', '1m', '5m', '15m'];
/** CHART_HEIGHT is a chart's height in the grid (px). */
const CHART_HEIGHT = 280;

/** BAND_REFIDS name the analysis queries of a chart in its query runner. */
export const BAND_REFIDS = { upper: 'forecast_upper', lower: 'forecast_lower', anomaly: 'anomaly' } as const;

/**
 * FORECAST_SIGNALS are the signals the analysis forecasts as a band (`openmanager_forecast{signal}`): CPU only, the
 * next hour (disk and memory get ETAs instead). Asking for the others' bands cost two empty queries per chart, a
 * quarter of the page's requests (npm run bench:ui).
 */
export const FORECAST_SIGNALS: ReadonlySet<string> = new Set(['cpu']);

/**
 * analysisQueries are a chart's forecast band (for FORECAST_SIGNALS) and anomaly score from the analysis series.
 * Until the analysis writes them they return nothing, and the chart simply draws no band.
 */
export function analysisQueries(
  server: string,
  signal: string
): Array<{ refId: string; expr: string; legendFormat: string }> {
  const sel = serverSelector(server);
  const forecast = (bound: string) => `max(openmanager_forecast{${sel},signal="${signal}",bound="${bound}"})`;
  const band = FORECAST_SIGNALS.has(signal)
    ? [
        { refId: BAND_REFIDS.upper, expr: forecast('upper'), legendFormat: 'forecast' },
        { refId: BAND_REFIDS.lower, expr: forecast('lower'), legendFormat: 'forecast (lower)' },
      ]
    : [];
  return [
    ...band,
    {
      refId: BAND_REFIDS.anomaly,
      expr: `max(openmanager_anomaly_score{${sel},signal="${signal}"})`,
      legendFormat: 'anomaly',
    },
  ];
}

/** regionQueries are the scenario and alert annotations: series that are positive while a scenario or alert is on. */
export function regionQueries(server: string): RegionQuery[] {
  const sel = serverSelector(server);
  return [
    {
      refId: 'scenarios',
      expr: `max by (scenario) (openmanager_scenario_active{${sel}}) > 0`,
      kind: 'scenario',
      titleFormat: '{{scenario}}',
    },
    {
      refId: 'alerts',
      expr: `max by (alertname) (ALERTS{${sel},alertstate="firing"})`,
      kind: 'alert',
      titleFormat: '{{alertname}}',
    },
  ];
}

function chartPanel(server: string, spec: ChartSpec): VizPanel<ChartOptions> {
  const queries = spec.queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    expr: q.expr,
    legendFormat: q.legend,
    range: true,
  }));
  const options: ChartOptions = {
    unit: spec.unit,
    min: spec.min,
    max: spec.max,
    ...(spec.signal
      ? { bandUpper: BAND_REFIDS.upper, bandLower: BAND_REFIDS.lower, anomalyRefId: BAND_REFIDS.anomaly }
      : {}),
  };
  return new VizPanel<ChartOptions>({
    key: `chart-${spec.id}`,
    title: spec.title,
    pluginId: CHART_PANEL_ID,
    options,
    $data: new SceneQueryRunner({
      datasource: { type: 'prometheus', uid: DS },
      queries: [
        ...queries,
        ...(spec.signal ? analysisQueries(server, spec.signal).map((q) => ({ ...q, range: true })) : []),
      ],
      maxDataPoints: MAX_POINTS,
      minInterval: MIN_INTERVAL,
    }),
    headerActions: new ExploreButton({
      datasourceUid: DS,
      queries: spec.queries.map((q) => ({ expr: q.expr, legendFormat: q.legend })),
    }),
  });
}

/** ServerSceneOptions: the server in the page's path and the app's configured data source. */
export interface ServerSceneOptions {
  server: string;
  datasourceUid: string;
}

/** buildServerScene builds the Server page's scene for one server. */
export function buildServerScene({ server, datasourceUid }: ServerSceneOptions): EmbeddedScene {
  registerChartPanel();
  return new EmbeddedScene({
    $timeRange: new SceneTimeRange(DEFAULT_RANGE),
    // One crosshair across the charts, as a dashboard with a shared tooltip has.
    $behaviors: [new behaviors.CursorSync({ key: 'server', sync: DashboardCursorSync.Crosshair })],
    $variables: new SceneVariableSet({
      variables: [
        new DataSourceVariable({ name: DS_VAR, label: 'Data source', pluginId: 'prometheus', value: datasourceUid }),
        new QueryVariable({
          name: SERVER_VAR,
          label: 'Server',
          datasource: { type: 'prometheus', uid: DS },
          query: { refId: 'servers', query: 'label_values(openmanager_cpu_usage_percent, server)' },
          value: server,
          text: server,
          sort: 3,
          // The server is the page's path (/server/<id>), not a query parameter: the page navigates on change,
          // and the charts carry the server literally, so they never wait for this variable's options.
          skipUrlSync: true,
        }),
      ],
    }),
    $data: new SceneDataLayerSet({
      layers: [
        new RegionsLayer({
          key: 'regions',
          name: 'Scenarios and alerts',
          datasourceUid: DS,
          queries: regionQueries(server),
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
      templateColumns: 'repeat(auto-fill, minmax(480px, 1fr))',
      autoRows: `${CHART_HEIGHT}px`,
      children: chartSpecs(server).map((spec) => chartPanel(server, spec)),
    }),
  });
}
