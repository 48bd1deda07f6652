import { PanelPlugin } from '@grafana/data';
import { registerRuntimePanelPlugin } from '@grafana/scenes';

import { ChartPanel } from './ChartPanel';
import type { ChartOptions } from './frames';

/**
 * CHART_PANEL_ID is the chart's runtime panel id. The Server page draws with its own panel rather than the
 * core time series: it needs forecast bands, anomaly and annotation regions drawn the same way everywhere the
 * app runs, and a runtime panel (Scenes' registerRuntimePanelPlugin) needs no panel plugin loaded from Grafana.
 */
export const CHART_PANEL_ID = 'openmanager-chart';

let registered = false;

/** registerChartPanel registers the chart panel once per page load (registering twice throws). */
export function registerChartPanel(): void {
  if (!registered) {
    registerRuntimePanelPlugin({
      pluginId: CHART_PANEL_ID,
      // Annotations reach a panel only when it says it draws them (the scenario and alert regions).
      plugin: new PanelPlugin<ChartOptions>(ChartPanel).setDataSupport({ annotations: true, alertStates: false }),
    });
    registered = true;
  }
}
