/**
 * A stand-in for Grafana's Prometheus data source and its plumbing in the harness: `getDataSourceSrv()`,
 * `getRunRequest()` and `getTemplateSrv()`. Queries go, as in Grafana, through a data source proxy
 * (`api/datasources/proxy/uid/<uid>/api/v1/…`, answered by the harness server from the exporter's Prometheus API);
 * variables of a scene are filled in with `sceneGraph.interpolate`, as Grafana's template service does for
 * `scopedVars.__sceneObject`. Only what the app uses: range and instant queries, legend formats, `label_values()`.
 */
import { from, lastValueFrom, map, catchError, of, type Observable } from 'rxjs';
import {
  FieldType,
  LoadingState,
  createDataFrame,
  rangeUtil,
  type DataFrame,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type MetricFindValue,
  type PanelData,
  type ScopedVars,
} from '@grafana/data';
import {
  getBackendSrv,
  setDataSourceSrv,
  setRunRequest,
  setTemplateSrv,
  type DataSourceSrv,
  type TemplateSrv,
} from '@grafana/runtime';
import { sceneGraph, type SceneObject } from '@grafana/scenes';
import type { DataQuery, DataSourceRef } from '@grafana/schema';

/** HarnessSource is one data source the harness offers (all are Prometheus-type). */
export interface HarnessSource {
  uid: string;
  name: string;
  isDefault?: boolean;
}

interface PromQuery extends DataQuery {
  expr?: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  interval?: string;
}

/** MIN_STEP_S is Grafana's default scrape interval for a Prometheus source (15 s). */
const MIN_STEP_S = 15;

const escapeRegex = (v: string) => v.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');

/** interpolate fills scene variables (through the scene object), then scoped variables such as $__rate_interval. */
function interpolate(text: string, scopedVars: ScopedVars = {}): string {
  const owner = scopedVars.__sceneObject?.value as { valueOf(): SceneObject } | undefined;
  let out = owner
    ? sceneGraph.interpolate(owner.valueOf(), text, scopedVars, (value: unknown) =>
        Array.isArray(value)
          ? value.length === 1
            ? String(value[0])
            : `(${value.map((v) => escapeRegex(String(v))).join('|')})`
          : String(value)
      )
    : text;
  out = out.replace(/\$\{?(\w+)\}?/g, (whole, name: string) =>
    name !== '__sceneObject' && scopedVars[name] !== undefined ? String(scopedVars[name]?.value) : whole
  );
  return out;
}

function toFrames(data: { resultType: string; result: unknown }, target: PromQuery): DataFrame[] {
  const legend = (labels: Record<string, string>) =>
    target.legendFormat && target.legendFormat !== '__auto'
      ? target.legendFormat.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => labels[k] ?? '')
      : undefined;
  const frame = (metric: Record<string, string>, points: Array<[number, string]>) => {
    const { __name__, ...labels } = metric;
    const name = legend(labels);
    return createDataFrame({
      refId: target.refId,
      name,
      fields: [
        { name: 'Time', type: FieldType.time, values: points.map((p) => p[0] * 1000), config: {} },
        {
          name: 'Value',
          type: FieldType.number,
          values: points.map((p) => parseFloat(p[1])),
          labels: __name__ ? { __name__, ...labels } : labels,
          config: name ? { displayNameFromDS: name } : {},
        },
      ],
    });
  };
  const result = data.result as Array<{
    metric: Record<string, string>;
    values?: Array<[number, string]>;
    value?: [number, string];
  }>;
  if (data.resultType === 'matrix') {
    return result.map((s) => frame(s.metric, s.values ?? []));
  }
  if (data.resultType === 'vector') {
    return result.map((s) => frame(s.metric, s.value ? [s.value] : []));
  }
  return [];
}

/** PrometheusStandIn answers queries like Grafana's Prometheus data source, through the data source proxy. */
class PrometheusStandIn {
  readonly type = 'prometheus';
  readonly meta: DataSourceInstanceSettings['meta'];
  constructor(readonly instanceSettings: DataSourceInstanceSettings) {
    this.meta = instanceSettings.meta;
  }
  get uid(): string {
    return this.instanceSettings.uid;
  }
  get name(): string {
    return this.instanceSettings.name;
  }
  getRef(): DataSourceRef {
    return { uid: this.uid, type: 'prometheus' };
  }
  interpolateVariablesInQueries(queries: PromQuery[], scopedVars: ScopedVars): PromQuery[] {
    return queries.map((q) => ({ ...q, expr: interpolate(q.expr ?? '', scopedVars) }));
  }
  private async api(
    endpoint: string,
    params: Record<string, string>
  ): Promise<{ resultType: string; result: unknown }> {
    const res = await lastValueFrom(
      getBackendSrv().fetch<{ data: { resultType: string; result: unknown } }>({
        url: `api/datasources/proxy/uid/${this.uid}/api/v1/${endpoint}`,
        method: 'POST',
        data: new URLSearchParams(params).toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        showErrorAlert: false,
      })
    );
    return res.data.data;
  }
  async metricFindQuery(
    query: string | { query?: string },
    options?: { scopedVars?: ScopedVars }
  ): Promise<MetricFindValue[]> {
    const text = interpolate(typeof query === 'string' ? query : (query.query ?? ''), options?.scopedVars);
    const m = /^label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)$/.exec(text.trim());
    if (!m) {
      return [];
    }
    const params = new URLSearchParams();
    if (m[1]) {
      params.set('match[]', m[1]);
    }
    const res = await lastValueFrom(
      getBackendSrv().fetch<{ data: string[] }>({
        url: `api/datasources/proxy/uid/${this.uid}/api/v1/label/${m[2]}/values?${params.toString()}`,
        showErrorAlert: false,
      })
    );
    return res.data.data.map((v) => ({ text: v, value: v }));
  }
  query(request: DataQueryRequest<PromQuery>): Observable<DataQueryResponse> {
    const start = Math.floor(request.range.from.valueOf() / 1000);
    const end = Math.ceil(request.range.to.valueOf() / 1000);
    const targets = request.targets.filter((t) => !t.hide && t.expr);
    return from(
      Promise.all(
        targets.map(async (t) => {
          const minS = t.interval ? rangeUtil.intervalToSeconds(t.interval) : MIN_STEP_S;
          const step = Math.max(Math.ceil((request.intervalMs || MIN_STEP_S * 1000) / 1000), minS);
          const vars: ScopedVars = {
            ...request.scopedVars,
            __interval: { text: `${step}s`, value: `${step}s` },
            __rate_interval: { text: '', value: `${Math.max(step + minS, 4 * minS)}s` },
            __range: { text: '', value: `${end - start}s` },
          };
          const expr = interpolate(t.expr ?? '', vars);
          const instant = t.instant && !t.range;
          const data = await this.api(
            instant ? 'query' : 'query_range',
            instant
              ? { query: expr, time: String(end) }
              : { query: expr, start: String(start), end: String(end), step: String(step) }
          );
          return toFrames(data, t);
        })
      )
    ).pipe(map((parts) => ({ data: parts.flat(), state: LoadingState.Done })));
  }
}

function settings(s: HarnessSource, id: number): DataSourceInstanceSettings {
  return {
    id,
    uid: s.uid,
    name: s.name,
    type: 'prometheus',
    isDefault: Boolean(s.isDefault),
    access: 'proxy',
    url: `api/datasources/proxy/uid/${s.uid}`,
    jsonData: {},
    readOnly: true,
    meta: {
      id: 'prometheus',
      name: 'Prometheus',
      type: 'datasource',
      metrics: true,
      annotations: true,
      module: 'core:plugin/prometheus',
      baseUrl: 'public/app/plugins/datasource/prometheus',
      info: {
        author: { name: 'Grafana Labs' },
        description: '',
        links: [],
        logos: { small: '/public/img/icons/unicons/fire.svg', large: '/public/img/icons/unicons/fire.svg' },
        screenshots: [],
        updated: '',
        version: '',
      },
    },
  } as unknown as DataSourceInstanceSettings;
}

/** installDataSources sets up the data source service, runRequest and template service for `sources`. */
export function installDataSources(sources: HarnessSource[]): void {
  const all = sources.map((s, i) => settings(s, i + 1));
  const instances = new Map<string, PrometheusStandIn>();
  const find = (ref: DataSourceRef | string | null | undefined): DataSourceInstanceSettings | undefined => {
    const key = typeof ref === 'string' ? ref : ref?.uid;
    return (
      all.find((s) => s.uid === key || s.name === key) ??
      (!key || key === 'default' || key.startsWith('$') ? (all.find((s) => s.isDefault) ?? all[0]) : undefined)
    );
  };
  setDataSourceSrv({
    getList: () => all,
    getInstanceSettings: (ref: DataSourceRef | string | null | undefined) => find(ref),
    get: async (ref: DataSourceRef | string | null | undefined) => {
      const s = find(ref);
      if (!s) {
        throw new Error(`data source ${JSON.stringify(ref)} not found`);
      }
      if (!instances.has(s.uid)) {
        instances.set(s.uid, new PrometheusStandIn(s));
      }
      return instances.get(s.uid);
    },
    reload: async () => undefined,
    registerRuntimeDataSource: () => undefined,
  } as unknown as DataSourceSrv);
  setRunRequest((ds, request): Observable<PanelData> => {
    const result = ds.query(request);
    const stream = result instanceof Promise ? from(result) : result;
    return stream.pipe(
      map((res: DataQueryResponse) => ({
        state: res.state ?? LoadingState.Done,
        series: res.data ?? [],
        errors: res.errors,
        timeRange: request.range,
        request,
      })),
      catchError((err: { data?: { error?: string; message?: string }; message?: string }) => {
        const message = err.data?.error ?? err.data?.message ?? err.message ?? String(err);
        return of<PanelData>({
          state: LoadingState.Error,
          series: [],
          error: { message },
          errors: [{ message }],
          timeRange: request.range,
          request,
        });
      })
    );
  });
  setTemplateSrv({
    getVariables: () => [],
    replace: (text?: string, scopedVars?: ScopedVars) => interpolate(text ?? '', scopedVars),
    containsTemplate: (text?: string) => /\$\w|\[\[/.test(text ?? ''),
    updateTimeRange: () => undefined,
  } as unknown as TemplateSrv);
}
