import React from 'react';
import { from, map, mergeMap, of, catchError, type Unsubscribable } from 'rxjs';
import {
  arrayToDataFrame,
  DataTopic,
  LoadingState,
  rangeUtil,
  type DataQueryRequest,
  type PanelData,
} from '@grafana/data';
import { getDataSourceSrv, getRunRequest } from '@grafana/runtime';
import {
  sceneGraph,
  SceneDataLayerBase,
  type SceneComponentProps,
  type SceneDataLayerProvider,
  type SceneDataLayerProviderState,
} from '@grafana/scenes';
import type { DataQuery } from '@grafana/schema';
import { InlineSwitch } from '@grafana/ui';

import { regionsFromSeries, type RegionKind } from './ChartPanel/frames';

/** RegionQuery is one PromQL query whose series become regions while their value is positive. */
export interface RegionQuery {
  refId: string;
  expr: string;
  kind: RegionKind;
  /** titleFormat names a region from its series' labels (`{{scenario}}`). */
  titleFormat: string;
}

/** RegionsLayerState is the layer's state: the data source (may be a `${ds}` variable) and the queries. */
export interface RegionsLayerState extends SceneDataLayerProviderState {
  datasourceUid: string;
  queries: RegionQuery[];
}

/** REGION_MAX_POINTS bounds the points per region query: region edges need no finer step than a chart's. */
const REGION_MAX_POINTS = 300;
/** FALLBACK_STEP_MS is a lone sample's region width: the exporter's 15 s tick. */
const FALLBACK_STEP_MS = 15_000;

interface PromQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
}

/**
 * RegionsLayer is a scene data layer that turns PromQL series into annotation regions — the scenarios and the
 * firing alerts of a server — for every chart below it, through the scene's Prometheus data source. Unlike
 * Grafana's annotation layer it needs only range queries, so it works with any Prometheus-type source (the
 * exporter's, the stack's Prometheus) and outside Grafana; like it, a switch in the controls hides it.
 */
export class RegionsLayer extends SceneDataLayerBase<RegionsLayerState> implements SceneDataLayerProvider {
  static Component = RegionsLayerSwitch;
  private timeSub: Unsubscribable | undefined;

  constructor(state: Omit<RegionsLayerState, 'isEnabled'> & { isEnabled?: boolean }) {
    super({ isEnabled: true, ...state }, ['queries', 'datasourceUid']);
  }

  onEnable(): void {
    this.timeSub = sceneGraph.getTimeRange(this).subscribeToState(() => this.runLayer());
  }

  onDisable(): void {
    this.timeSub?.unsubscribe();
    this.timeSub = undefined;
  }

  protected runLayer(): void {
    if (this._variableDependency.hasDependencyInLoadingState()) {
      return;
    }
    this.querySub?.unsubscribe();
    const range = sceneGraph.getTimeRange(this).state.value;
    const uid = sceneGraph.interpolate(this, this.state.datasourceUid);
    const interval = rangeUtil.calculateInterval(range, REGION_MAX_POINTS, '15s');
    const targets: PromQuery[] = this.state.queries.map((q) => ({
      refId: q.refId,
      expr: sceneGraph.interpolate(this, q.expr),
      legendFormat: q.titleFormat,
      range: true,
      instant: false,
    }));
    const request = {
      app: 'openmanager-fleet-app',
      requestId: `om-regions-${this.state.key ?? ''}`,
      timezone: 'browser',
      range,
      interval: interval.interval,
      intervalMs: interval.intervalMs,
      maxDataPoints: REGION_MAX_POINTS,
      targets,
      scopedVars: {},
      startTime: Date.now(),
    } as DataQueryRequest<PromQuery>;
    this.querySub = from(getDataSourceSrv().get({ uid, type: 'prometheus' }))
      .pipe(
        mergeMap((ds) => getRunRequest()(ds, request)),
        map((data) => this.toAnnotations(data, interval.intervalMs)),
        catchError((err: unknown) =>
          of<PanelData>({
            state: LoadingState.Error,
            series: [],
            errors: [{ message: err instanceof Error ? err.message : String(err) }],
            timeRange: range,
          })
        )
      )
      .subscribe((data) => this.publishResults(data));
  }

  private toAnnotations(data: PanelData, stepMs: number): PanelData {
    const events = this.state.queries.flatMap((q) =>
      regionsFromSeries(
        data.series.filter((f) => f.refId === q.refId),
        q.kind,
        (v) => v > 0,
        (field) => field.config?.displayNameFromDS ?? q.kind,
        stepMs || FALLBACK_STEP_MS
      ).map((r) => ({ time: r.start, timeEnd: r.end, isRegion: true, title: r.label, text: r.label, kind: r.kind }))
    );
    const frame = arrayToDataFrame(events);
    frame.meta = { dataTopic: DataTopic.Annotations };
    return { ...data, series: [frame], annotations: [frame] };
  }
}

function RegionsLayerSwitch({ model }: SceneComponentProps<RegionsLayer>) {
  const { isEnabled, isHidden, name, key } = model.useState();
  if (isHidden) {
    return null;
  }
  return (
    <InlineSwitch
      id={`om-layer-${key ?? name}`}
      label={name}
      showLabel
      value={isEnabled}
      onChange={() => model.setState({ isEnabled: !isEnabled })}
    />
  );
}
