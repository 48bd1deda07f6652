/**
 * The one module that calls the exporter over HTTP. Every call goes through Grafana's plugin proxy
 * (`api/plugin-proxy/<app id>/<route>/…`, routes in plugin.json), which adds the exporter URL and the bearer
 * token from the app's settings; the browser never sees the token.
 */
import { lastValueFrom } from 'rxjs';
import { getBackendSrv } from '@grafana/runtime';

import { PROXY_BASE_URL, PROXY_ROUTES } from '../constants';
import { CLIENT_ERROR_CODES, ExporterApiError, toExporterApiError } from './errors';
import type {
  AnalysisState,
  HealthResponse,
  HubTicket,
  PromAlert,
  PromMatrixSeries,
  PromRuleGroup,
  PromVectorSample,
  Scenario,
  ScenarioRequest,
  ScenariosResponse,
  PostSilence,
  ServerInfo,
  Silence,
  UnifiedMetrics,
  CoverageJob,
  CoverageRequest,
  DrillRequest,
  DrillRun,
  DrillsResponse,
} from './types';

/** PROM_API_PATH is the Prometheus HTTP API's prefix on the exporter (the seed's data source URL + /api/v1). */
export const PROM_API_PATH = 'prometheus/api/v1';

/** RangeQuery is one query_range call: times in Unix seconds, step in seconds. */
export interface RangeQuery {
  expr: string;
  start: number;
  end: number;
  step: number;
}

interface PromEnvelope<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** ExporterClient wraps every exporter endpoint the plugin uses; methods reject with ExporterApiError. */
export class ExporterClient {
  constructor(private readonly baseUrl: string = PROXY_BASE_URL) {}

  private async request<T>(
    route: string,
    path: string,
    init: { method?: string; data?: unknown; params?: Record<string, string | number> } = {}
  ): Promise<T> {
    try {
      const response = await lastValueFrom(
        getBackendSrv().fetch<T>({
          url: `${this.baseUrl}/${route}${path}`,
          method: init.method ?? 'GET',
          data: init.data,
          params: init.params,
          showErrorAlert: false,
          showSuccessAlert: false,
        })
      );
      return response.data;
    } catch (err) {
      throw toExporterApiError(err);
    }
  }

  private async prom<T>(path: string, params: Record<string, string | number>): Promise<T> {
    const body = await this.request<PromEnvelope<T>>(PROXY_ROUTES.api, `/${PROM_API_PATH}${path}`, { params });
    if (!isRecord(body) || body.status !== 'success') {
      throw new ExporterApiError(
        (isRecord(body) && typeof body.error === 'string' && body.error) || 'the query API answered without data',
        200,
        (isRecord(body) && typeof body.errorType === 'string' && body.errorType) || CLIENT_ERROR_CODES.badResponse
      );
    }
    return body.data;
  }

  /** health calls the exporter's /healthz (used by "Test connection"). */
  health(): Promise<HealthResponse> {
    return this.request<HealthResponse>(PROXY_ROUTES.healthz, '');
  }

  /** unifiedMetrics returns the seed's server-metrics snapshot (GET /api/unified-metrics). */
  unifiedMetrics(): Promise<UnifiedMetrics> {
    return this.request<UnifiedMetrics>(PROXY_ROUTES.api, '/unified-metrics');
  }

  /** servers returns the fleet's static description (GET /api/servers). */
  async servers(): Promise<ServerInfo[]> {
    const body = await this.request<unknown>(PROXY_ROUTES.api, '/servers');
    if (Array.isArray(body)) {
      return body as ServerInfo[];
    }
    if (isRecord(body) && Array.isArray(body.servers)) {
      return body.servers as ServerInfo[];
    }
    throw new ExporterApiError('GET /api/servers returned no server list', 200, CLIENT_ERROR_CODES.badResponse);
  }

  /** scenarios returns the active scenarios and the history (GET /api/scenarios). */
  async scenarios(): Promise<ScenariosResponse> {
    const body = await this.request<unknown>(PROXY_ROUTES.api, '/scenarios');
    if (isRecord(body) && Array.isArray(body.active) && Array.isArray(body.history)) {
      return {
        now: typeof body.now === 'number' ? body.now : Date.now(),
        active: body.active as Scenario[],
        history: body.history as Scenario[],
        ...(body.truncated === true ? { truncated: true } : {}),
      };
    }
    throw new ExporterApiError(
      'GET /api/scenarios returned no active/history lists',
      200,
      CLIENT_ERROR_CODES.badResponse
    );
  }

  /** injectScenario starts a scenario (POST /api/scenarios; needs the API token in the app settings). */
  async injectScenario(req: ScenarioRequest): Promise<Scenario> {
    const body = await this.request<unknown>(PROXY_ROUTES.scenarios, '', { method: 'POST', data: req });
    if (isRecord(body) && isRecord(body.scenario)) {
      return body.scenario as unknown as Scenario;
    }
    return body as Scenario;
  }

  /** stopScenario ends an active scenario early (DELETE /api/scenarios/:id). */
  async stopScenario(id: string): Promise<void> {
    await this.request<unknown>(PROXY_ROUTES.scenarios, `/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** silences lists the exporter's silences (GET /api/silences, Alertmanager's v2 shape). */
  async silences(): Promise<Silence[]> {
    const body = await this.request<unknown>(PROXY_ROUTES.api, '/silences');
    if (isRecord(body) && Array.isArray(body.silences)) {
      return body.silences as Silence[];
    }
    throw new ExporterApiError('GET /api/silences returned no silence list', 200, CLIENT_ERROR_CODES.badResponse);
  }

  /** createSilence silences the alerts its matchers select (POST /api/silences; editors, API token). */
  async createSilence(silence: PostSilence): Promise<string> {
    const body = await this.request<unknown>(PROXY_ROUTES.silences, '', { method: 'POST', data: silence });
    return isRecord(body) && typeof body.silenceID === 'string' ? body.silenceID : '';
  }

  /** expireSilence ends a silence now (DELETE /api/silences/:id). */
  async expireSilence(id: string): Promise<void> {
    await this.request<unknown>(PROXY_ROUTES.silences, `/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** coverageJobs lists the kept coverage jobs, newest first, without their reports (GET /api/coverage). */
  async coverageJobs(): Promise<CoverageJob[]> {
    const body = await this.request<unknown>(PROXY_ROUTES.api, '/coverage');
    if (isRecord(body) && Array.isArray(body.jobs)) {
      return body.jobs as CoverageJob[];
    }
    throw new ExporterApiError('GET /api/coverage returned no job list', 200, CLIENT_ERROR_CODES.badResponse);
  }

  /** coverageJob returns one coverage job with its progress, and its report once done (GET /api/coverage/:id). */
  async coverageJob(id: string): Promise<CoverageJob> {
    const body = await this.request<unknown>(PROXY_ROUTES.api, `/coverage/${encodeURIComponent(id)}`);
    if (isRecord(body) && typeof body.id === 'string' && typeof body.status === 'string') {
      return body as unknown as CoverageJob;
    }
    throw new ExporterApiError(`GET /api/coverage/${id} returned no job`, 200, CLIENT_ERROR_CODES.badResponse);
  }

  /** startCoverage starts a coverage job (POST /api/coverage; editors, API token); it answers 202 with the job. */
  async startCoverage(req: CoverageRequest): Promise<CoverageJob> {
    const body = await this.request<unknown>(PROXY_ROUTES.coverage, '', { method: 'POST', data: req });
    if (isRecord(body) && typeof body.id === 'string') {
      return body as unknown as CoverageJob;
    }
    throw new ExporterApiError('POST /api/coverage returned no job', 200, CLIENT_ERROR_CODES.badResponse);
  }

  /** drills lists the drills that can run and the kept runs, newest first (GET /api/drills). */
  async drills(): Promise<DrillsResponse> {
    const body = await this.request<unknown>(PROXY_ROUTES.api, '/drills');
    if (isRecord(body) && Array.isArray(body.definitions) && Array.isArray(body.runs)) {
      return body as unknown as DrillsResponse;
    }
    throw new ExporterApiError('GET /api/drills returned no definitions/runs', 200, CLIENT_ERROR_CODES.badResponse);
  }

  /** drillRun returns one drill run, with its report once it ended (GET /api/drills/:id). */
  async drillRun(id: string): Promise<DrillRun> {
    const body = await this.request<unknown>(PROXY_ROUTES.api, `/drills/${encodeURIComponent(id)}`);
    if (isRecord(body) && typeof body.id === 'string' && Array.isArray(body.steps)) {
      return body as unknown as DrillRun;
    }
    throw new ExporterApiError(`GET /api/drills/${id} returned no run`, 200, CLIENT_ERROR_CODES.badResponse);
  }

  /** startDrill starts a drill (POST /api/drills; editors, API token) and returns the run. */
  async startDrill(req: DrillRequest): Promise<DrillRun> {
    return this.request<DrillRun>(PROXY_ROUTES.drills, '', { method: 'POST', data: req });
  }

  /** abortDrill aborts a running drill and stops its scenarios (DELETE /api/drills/:id); returns the run. */
  async abortDrill(id: string): Promise<DrillRun> {
    return this.request<DrillRun>(PROXY_ROUTES.drills, `/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /**
   * hubTicket buys a single-use ticket for the hub's WebSocket (POST /api/hub/ticket). The proxy route adds the
   * hub token from the app's secure settings, so the browser gets the ticket and never the token.
   */
  async hubTicket(): Promise<HubTicket> {
    const body = await this.request<unknown>(PROXY_ROUTES.hubTicket, '', { method: 'POST' });
    if (isRecord(body) && typeof body.ticket === 'string' && typeof body.expiresAt === 'number') {
      return { ticket: body.ticket, expiresAt: body.expiresAt };
    }
    throw new ExporterApiError('POST /api/hub/ticket returned no ticket', 200, CLIENT_ERROR_CODES.badResponse);
  }

  /**
   * analysis returns the anomaly analysis' current state (GET /api/analysis): scores, open and recent findings,
   * root-cause hints and forecasts. A 404 means the exporter runs without analysis (ANALYSIS_INTERVAL=0).
   */
  async analysis(): Promise<AnalysisState> {
    const body = await this.request<unknown>(PROXY_ROUTES.api, '/analysis');
    if (
      isRecord(body) &&
      (body.generatedAt === null || typeof body.generatedAt === 'number') &&
      Array.isArray(body.scores) &&
      Array.isArray(body.findings) &&
      Array.isArray(body.rootCauses) &&
      Array.isArray(body.forecasts)
    ) {
      return body as unknown as AnalysisState;
    }
    throw new ExporterApiError('GET /api/analysis returned no analysis state', 200, CLIENT_ERROR_CODES.badResponse);
  }

  /** query runs an instant PromQL query (time in Unix seconds; omitted = now). */
  async query(expr: string, time?: number): Promise<PromVectorSample[]> {
    const params: Record<string, string | number> = { query: expr };
    if (time !== undefined) {
      params.time = time;
    }
    const data = await this.prom<{ resultType: string; result: PromVectorSample[] }>('/query', params);
    return data.resultType === 'vector' ? data.result : [];
  }

  /** queryRange runs a PromQL range query and returns its series. */
  async queryRange(q: RangeQuery): Promise<PromMatrixSeries[]> {
    const data = await this.prom<{ resultType: string; result: PromMatrixSeries[] }>('/query_range', {
      query: q.expr,
      start: q.start,
      end: q.end,
      step: q.step,
    });
    return data.result;
  }

  /** alerts returns the active and pending alerts (GET /api/v1/alerts). */
  async alerts(): Promise<PromAlert[]> {
    const data = await this.prom<{ alerts: PromAlert[] }>('/alerts', {});
    return data.alerts ?? [];
  }

  /** rules returns the rule groups (GET /api/v1/rules). */
  async rules(): Promise<PromRuleGroup[]> {
    const data = await this.prom<{ groups: PromRuleGroup[] }>('/rules', {});
    return data.groups ?? [];
  }
}

/** exporterClient is the instance the hooks use. */
export const exporterClient = new ExporterClient();
