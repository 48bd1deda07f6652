/**
 * The exporter's wire shapes, from the exporter's contract package (`@openmanager/exporter/contract`: types
 * and zod schemas only, nothing else of the exporter), plus the plugin's own view of what it reads.
 */
export type {
  AiAnalysis,
  AlertsEvent,
  AnalysisFinding,
  AnalysisState,
  EtaEstimate,
  AnyDataMessage,
  AlertInfo,
  Channel,
  ClientMessage,
  HubTicket,
  PromAlert,
  PromAlertingRule,
  PromMatrixSeries,
  PromRuleGroup,
  PromVectorSample,
  Scenario,
  ScenarioKind,
  ScenarioRequest,
  ScenariosResponse,
  ServerInfo,
  ServerRole,
  ServerStatus,
  Silence,
  SilenceMatcher,
  PostSilence,
  RootCause,
  ServerForecast,
  ServerScore,
  SystemStatus,
  UnifiedMetrics,
  UnifiedServer,
  UnifiedSummary,
  CoverageJob,
  CoverageKind,
  CoverageReport,
  CoverageRequest,
  CoverageRule,
  CoverageScenario,
  DrillDefinition,
  DrillRequest,
  DrillClock,
  DrillRun,
  DrillsResponse,
} from '@openmanager/exporter/contract';

/** HealthResponse is GET /healthz; only `status` is relied on, the rest is shown as-is. */
export interface HealthResponse {
  status: string;
  [key: string]: unknown;
}
