import React, { useMemo, useState } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { Alert, EmptyState, InlineField, LoadingPlaceholder, RadioButtonGroup, Stack, useStyles2 } from '@grafana/ui';

import { humanDuration } from '../../components/AlertTable/format';
import { LiveIndicator } from '../../components/LiveIndicator/LiveIndicator';
import { testIds } from '../../components/testIds';
import { etaRows, isOpen } from '../../hooks/analysis-state';
import { useAnalysis } from '../../hooks/useAnalysis';
import { AnalysisCharts } from './AnalysisCharts';
import { EtaTable } from './EtaTable';
import { FindingsTable } from './FindingsTable';
import { RootCauseList } from './RootCauseList';

/** ETA_ROWS is how many servers each forecast table lists (soonest first); the rest are counted. */
const ETA_ROWS = 10;

type FindingsFilter = 'open' | 'all';

const FILTER_OPTIONS: Array<{ label: string; value: FindingsFilter }> = [
  { label: 'Open', value: 'open' },
  { label: 'Open and recent', value: 'all' },
];

/**
 * Analysis is the page of the exporter's anomaly analysis: its current findings, root-cause hints for incidents
 * that span servers, disk-full and memory-exhaustion forecasts, and the fleet anomaly rate over time (a scene over
 * the app's data source). It follows the hub's `ai-analysis` channel and says why when there is nothing to show.
 */
export function Analysis() {
  const styles = useStyles2(getStyles);
  const { state, loaded, unavailable, error, live } = useAnalysis();
  const [filter, setFilter] = useState<FindingsFilter>('open');
  const findings = useMemo(
    () => (filter === 'open' ? state.findings.filter(isOpen) : state.findings),
    [state.findings, filter]
  );
  const openCount = useMemo(() => state.findings.filter(isOpen).length, [state.findings]);
  const disk = useMemo(() => etaRows(state, 'disk'), [state]);
  const memory = useMemo(() => etaRows(state, 'memory'), [state]);
  // Durations count to the last run: findings are in the simulated clock, which may run faster than the wall.
  const at = state.generatedAt ?? 0;
  const ran = state.generatedAt !== null;

  return (
    <PluginPage>
      <div data-testid={testIds.analysis.container} className={styles.page}>
        <Stack direction="row" alignItems="center" justifyContent="space-between" wrap="wrap">
          <span data-testid={testIds.analysis.status} className={styles.status} data-runs={state.runs}>
            {ran ? (
              <>
                Fleet anomaly rate <strong>{(state.fleetAnomalyRate * 100).toFixed(1)} %</strong> · {openCount} open
                finding{openCount === 1 ? '' : 's'} · last run {dateTimeFormat(at, { format: 'HH:mm:ss' })}, every{' '}
                {humanDuration(state.intervalMs)}
                {state.lastRunMs !== null ? ` (took ${Math.round(state.lastRunMs)} ms)` : ''}
              </>
            ) : (
              'Waiting for the first analysis run'
            )}
          </span>
          <LiveIndicator status={live} />
        </Stack>
        {error && (
          <Alert severity="error" title="Cannot load the analysis">
            {error.message}
          </Alert>
        )}
        {!loaded && !error && <LoadingPlaceholder text="Loading the analysis…" />}
        {unavailable && (
          <div data-testid={testIds.analysis.empty} data-reason="off">
            <EmptyState variant="not-found" message="The analysis is off">
              The exporter answers 404 for <code>/api/analysis</code>: it runs with <code>ANALYSIS_INTERVAL=0</code>.
              Start it with an interval (the default is 30 s) to get findings and forecasts.
            </EmptyState>
          </div>
        )}
        {loaded && !unavailable && !ran && !error && (
          <div data-testid={testIds.analysis.empty} data-reason="not-run">
            <EmptyState variant="not-found" message="No analysis run yet">
              The analysis runs every {humanDuration(state.intervalMs)} once the exporter&apos;s store has data; this
              page updates when it does.
            </EmptyState>
          </div>
        )}
        {ran && (
          <>
            <section data-testid={testIds.analysis.findings} aria-label="Findings" className={styles.section}>
              <Stack direction="row" alignItems="center" justifyContent="space-between" wrap="wrap">
                <h3 className={styles.h}>Findings</h3>
                <InlineField label="Show" data-testid={testIds.analysis.findingsFilter}>
                  <RadioButtonGroup size="sm" options={FILTER_OPTIONS} value={filter} onChange={setFilter} />
                </InlineField>
              </Stack>
              {findings.length === 0 ? (
                <p className={styles.muted} data-testid={testIds.analysis.empty} data-reason="quiet">
                  {filter === 'open'
                    ? `No open finding: every watched signal of every server is within its expected range.`
                    : 'No finding in the analysis memory.'}
                </p>
              ) : (
                <FindingsTable findings={findings} at={at} />
              )}
            </section>
            <section data-testid={testIds.analysis.rootCauses} aria-label="Root-cause hints" className={styles.section}>
              <h3 className={styles.h}>Root-cause hints</h3>
              {state.rootCauses.length === 0 ? (
                <p className={styles.muted}>
                  No incident spans several servers: a hint appears when anomalies on dependent servers begin one after
                  another.
                </p>
              ) : (
                <RootCauseList rootCauses={state.rootCauses} />
              )}
            </section>
            <section data-testid={testIds.analysis.forecasts} aria-label="Forecasts" className={styles.section}>
              <h3 className={styles.h}>Forecasts</h3>
              <div className={styles.forecasts}>
                <EtaTable resource="disk" rows={disk} limit={ETA_ROWS} />
                <EtaTable resource="memory" rows={memory} limit={ETA_ROWS} />
              </div>
            </section>
          </>
        )}
        <section aria-label="Fleet anomaly rate over time" className={styles.section}>
          <AnalysisCharts />
        </section>
      </div>
    </PluginPage>
  );
}

export default Analysis;

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  status: css({ color: theme.colors.text.secondary }),
  section: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  h: css({ margin: 0 }),
  muted: css({ color: theme.colors.text.secondary, margin: 0 }),
  forecasts: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(3) }),
});
