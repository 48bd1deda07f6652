/** testIds are every data-testid the app renders, in one place for components, jest tests and the browser harness. */
export const testIds = {
  appConfig: {
    exporterUrl: 'data-testid ac-exporter-url',
    apiToken: 'data-testid ac-api-token',
    hubToken: 'data-testid ac-hub-token',
    datasource: 'data-testid ac-datasource',
    liveUrl: 'data-testid ac-live-url',
    submit: 'data-testid ac-submit-form',
    testConnection: 'data-testid ac-test-connection',
    testResult: 'data-testid ac-test-result',
  },
  live: {
    indicator: 'data-testid live-indicator',
    reason: 'data-testid live-reason',
  },
  fleet: {
    container: 'data-testid fleet-container',
    summary: 'data-testid fleet-summary',
    grid: 'data-testid fleet-grid',
    tile: 'data-testid fleet-tile',
    tileScenario: 'data-testid fleet-tile-scenario',
    sparkline: 'data-testid fleet-tile-sparkline',
    empty: 'data-testid fleet-empty',
  },
  server: {
    container: 'data-testid server-container',
    chart: 'data-testid server-chart',
    services: 'data-testid server-services',
    exploreLink: 'data-testid server-explore-link',
  },
  scenarios: {
    container: 'data-testid scenarios-container',
    form: 'data-testid scenarios-form',
    kinds: 'data-testid scenarios-kinds',
    active: 'data-testid scenarios-active',
    history: 'data-testid scenarios-history',
    error: 'data-testid scenarios-error',
  },
  alerts: {
    container: 'data-testid alerts-container',
    empty: 'data-testid alerts-empty',
    group: 'data-testid alerts-group',
    rules: 'data-testid alerts-rules',
  },
  fleetStatusPanel: {
    container: 'data-testid fleet-status-panel',
    cell: 'data-testid fleet-status-cell',
  },
};
