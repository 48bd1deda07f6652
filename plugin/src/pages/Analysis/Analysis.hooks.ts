import { useMemo } from 'react';
import type { EmbeddedScene } from '@grafana/scenes';

import { DEFAULT_DATASOURCE_UID } from '../../constants';
import { useAppSettings } from '../../hooks/AppSettings';
import { buildAnalysisScene } from './analysisScene';

/** useAnalysisScene builds the Analysis page's chart scene over the app's configured data source. */
export function useAnalysisScene(): EmbeddedScene {
  const { datasourceUid } = useAppSettings();
  return useMemo(() => buildAnalysisScene({ datasourceUid: datasourceUid || DEFAULT_DATASOURCE_UID }), [datasourceUid]);
}

/** findingRange is the time range to open a finding in on its Server page: a quarter hour either side of it. */
export function findingRange(window: { start: number; end: number }, open: boolean): { from: string; to: string } {
  const pad = 15 * 60_000;
  return { from: String(window.start - pad), to: open ? 'now' : String(window.end + pad) };
}
