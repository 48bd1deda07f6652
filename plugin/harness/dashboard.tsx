/**
 * A dashboard as Grafana lays it out, enough to render the app's nested panels the way a dashboard does: each
 * panel at its gridPos, its options over the plugin's defaults, its queries run through the data source stand-in
 * with the panel's field config applied to the frames (as Grafana's query runner does). Core panels (stat, time
 * series…) are Grafana's own and are shown as labelled placeholders.
 */
import React, { useEffect, useMemo, useState } from 'react';
import { useParams } from 'react-router-dom';
import { lastValueFrom } from 'rxjs';
import {
  getDefaultTimeRange,
  LoadingState,
  rangeUtil,
  standardEditorsRegistry,
  type DataFrame,
  type DataQueryRequest,
  type FieldConfigSource,
  type InterpolateFunction,
  type PanelData,
  type PanelPlugin,
} from '@grafana/data';
import { getDataSourceSrv, getRunRequest, getTemplateSrv } from '@grafana/runtime';
import type { DataQuery } from '@grafana/schema';

import fleetOverview from '../src/dashboards/fleet-overview.json';
import serverDetail from '../src/dashboards/server-detail.json';
import { plugin as alertListPlugin } from '../src/panels/alert-list/module';
import { plugin as fleetStatusPlugin } from '../src/panels/fleet-status/module';

/** GRID_ROW_PX and GRID_COLUMNS are Grafana's dashboard grid (30 px rows, 24 columns). */
const GRID_ROW_PX = 30;
const GRID_COLUMNS = 24;
/** DASHBOARD_WIDTH is the harness page's dashboard width (px). */
const DASHBOARD_WIDTH = 1360;
/** HEADER_PX is a panel's title bar height. */
const HEADER_PX = 28;

interface DashboardPanel {
  id: number;
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  options?: Record<string, unknown>;
  fieldConfig?: FieldConfigSource;
  targets?: Array<DataQuery & { expr?: string }>;
}

const DASHBOARDS: Record<string, { title: string; panels: DashboardPanel[] }> = {
  [fleetOverview.uid]: fleetOverview as unknown as { title: string; panels: DashboardPanel[] },
  [serverDetail.uid]: serverDetail as unknown as { title: string; panels: DashboardPanel[] },
};

/**
 * EDITOR_IDS are the option editors the app's panels use. Grafana registers its editors at start; the harness
 * registers placeholders under the same ids so a panel's option builder (and its defaults) can be read.
 */
const EDITOR_IDS = ['text', 'number', 'boolean', 'radio', 'select', 'multi-select', 'color', 'unit', 'slider'];
standardEditorsRegistry.setInit(() => EDITOR_IDS.map((id) => ({ id, name: id, editor: () => null })));

const PLUGINS: Record<string, PanelPlugin> = {
  'openmanager-alertlist-panel': alertListPlugin as unknown as PanelPlugin,
  'openmanager-fleetstatus-panel': fleetStatusPlugin as unknown as PanelPlugin,
};

/** applyFieldConfig merges the panel's field defaults under each field's own config, as the query runner would. */
function applyFieldConfig(frames: DataFrame[], fieldConfig: FieldConfigSource | undefined): DataFrame[] {
  const defaults = fieldConfig?.defaults ?? {};
  return frames.map((f) => ({
    ...f,
    fields: f.fields.map((fl) => ({ ...fl, config: { ...defaults, ...fl.config } })),
  }));
}

function usePanelData(panel: DashboardPanel, replaceVariables: InterpolateFunction): PanelData {
  const hasTargets = (panel.targets ?? []).length > 0;
  const [data, setData] = useState<PanelData>({
    state: hasTargets ? LoadingState.Loading : LoadingState.Done,
    series: [],
    timeRange: getDefaultTimeRange(),
  });
  useEffect(() => {
    const targets = (panel.targets ?? []).map((t) => ({ ...t, expr: replaceVariables(t.expr ?? '') }));
    if (targets.length === 0) {
      return;
    }
    let current = true;
    const range = getDefaultTimeRange();
    const interval = rangeUtil.calculateInterval(range, 300, '15s');
    getDataSourceSrv()
      .get(null)
      .then((ds) =>
        lastValueFrom(
          getRunRequest()(ds, {
            app: 'dashboard',
            requestId: `harness-${panel.id}`,
            timezone: 'browser',
            range,
            interval: interval.interval,
            intervalMs: interval.intervalMs,
            maxDataPoints: 300,
            targets,
            scopedVars: {},
            startTime: Date.now(),
          } as DataQueryRequest)
        )
      )
      .then((result) => {
        if (current) {
          setData({ ...result, series: applyFieldConfig(result.series, panel.fieldConfig) });
        }
      });
    return () => {
      current = false;
    };
  }, [panel, replaceVariables]);
  return data;
}

function PluginPanel({
  panel,
  plugin,
  width,
  height,
}: {
  panel: DashboardPanel;
  plugin: PanelPlugin;
  width: number;
  height: number;
}) {
  const replaceVariables = useMemo<InterpolateFunction>(
    () => (text, scopedVars) => getTemplateSrv().replace(text.replace(/\$\{datasource\}/g, 'openmanager'), scopedVars),
    []
  );
  const data = usePanelData(panel, replaceVariables);
  const Component = plugin.panel;
  if (!Component) {
    return null;
  }
  const timeRange = getDefaultTimeRange();
  return (
    <Component
      id={panel.id}
      data={data}
      timeRange={timeRange}
      timeZone="browser"
      options={{ ...plugin.defaults, ...(panel.options ?? {}) }}
      fieldConfig={panel.fieldConfig ?? { defaults: {}, overrides: [] }}
      transparent={false}
      width={width}
      height={height}
      renderCounter={0}
      title={panel.title}
      eventBus={undefined as never}
      onOptionsChange={() => undefined}
      onFieldConfigChange={() => undefined}
      onChangeTimeRange={() => undefined}
      replaceVariables={replaceVariables}
    />
  );
}

/** DashboardHarness renders one shipped dashboard at /harness/dashboard/<uid>. */
export function DashboardHarness() {
  const { uid = '' } = useParams<{ uid: string }>();
  const dashboard = DASHBOARDS[uid];
  if (!dashboard) {
    return <div>No dashboard {uid}</div>;
  }
  const col = DASHBOARD_WIDTH / GRID_COLUMNS;
  const height = Math.max(...dashboard.panels.map((p) => (p.gridPos.y + p.gridPos.h) * GRID_ROW_PX));
  return (
    <div>
      <h2>{dashboard.title}</h2>
      <div style={{ position: 'relative', width: DASHBOARD_WIDTH, height }} data-testid="harness-dashboard">
        {dashboard.panels.map((p) => {
          const plugin = PLUGINS[p.type];
          const w = p.gridPos.w * col - 8;
          const h = p.gridPos.h * GRID_ROW_PX - 8;
          return (
            <section
              key={p.id}
              data-testid="harness-dashboard-panel"
              data-panel-type={p.type}
              aria-label={p.title}
              style={{
                position: 'absolute',
                left: p.gridPos.x * col,
                top: p.gridPos.y * GRID_ROW_PX,
                width: w,
                height: h,
                border: '1px solid rgba(204, 204, 220, 0.12)',
                borderRadius: 2,
                background: '#181b1f',
                overflow: 'hidden',
              }}
            >
              <header style={{ height: HEADER_PX, padding: '4px 8px', fontWeight: 500 }}>{p.title}</header>
              <div style={{ padding: '0 8px' }}>
                {plugin ? (
                  <PluginPanel panel={p} plugin={plugin} width={w - 16} height={h - HEADER_PX - 8} />
                ) : (
                  <span style={{ opacity: 0.5 }}>{p.type} (a core panel, drawn by Grafana)</span>
                )}
              </div>
            </section>
          );
        })}
      </div>
    </div>
  );
}
