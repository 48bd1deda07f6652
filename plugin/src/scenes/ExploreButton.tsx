import React from 'react';
import {
  sceneGraph,
  SceneObjectBase,
  VariableDependencyConfig,
  type SceneComponentProps,
  type SceneObjectState,
} from '@grafana/scenes';
import { LinkButton } from '@grafana/ui';

import { testIds } from '../components/testIds';
import { exploreUrl, type ExploreQuery } from '../utils/links';

/** ExploreButtonState: the chart's queries and data source, both possibly holding scene variables. */
export interface ExploreButtonState extends SceneObjectState {
  queries: ExploreQuery[];
  datasourceUid: string;
}

/**
 * ExploreButton opens a chart's queries in Grafana's Explore over the scene's time range, with the scene's
 * variables filled in (`$__rate_interval` is left to Explore's data source), through Grafana's URL helpers.
 */
export class ExploreButton extends SceneObjectBase<ExploreButtonState> {
  static Component = ExploreButtonRenderer;

  protected _variableDependency = new VariableDependencyConfig(this, {
    statePaths: ['queries', 'datasourceUid'],
    onReferencedVariableValueChanged: () => this.forceRender(),
  });

  /** href is the Explore URL for the current variable values and time range. */
  href(): string {
    const { from, to } = sceneGraph.getTimeRange(this).state;
    return exploreUrl(
      sceneGraph.interpolate(this, this.state.datasourceUid),
      this.state.queries.map((q) => ({ ...q, expr: sceneGraph.interpolate(this, q.expr) })),
      { from, to }
    );
  }
}

function ExploreButtonRenderer({ model }: SceneComponentProps<ExploreButton>) {
  sceneGraph.getTimeRange(model).useState();
  model.useState();
  return (
    <LinkButton
      size="sm"
      variant="secondary"
      fill="text"
      icon="compass"
      href={model.href()}
      tooltip="Open these queries in Explore"
      data-testid={testIds.server.exploreLink}
    >
      Explore
    </LinkButton>
  );
}
