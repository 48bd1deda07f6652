import React from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, locationUtil, type GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { Alert, Button, LoadingPlaceholder, useStyles2 } from '@grafana/ui';

import type { CoverageJob } from '../../api/types';
import { testIds } from '../../components/testIds';
import { ACTIONS, DEFAULT_DATASOURCE_UID, PROXY_BASE_URL, PROXY_ROUTES } from '../../constants';
import { useAppSettings } from '../../hooks/AppSettings';
import { useCoverage } from '../../hooks/useCoverage';
import { canDo } from '../../utils/permissions';
import { CoverageForm } from './CoverageForm';
import { CoverageReportView } from './CoverageReportView';

/** JOB_ROWS caps the kept-jobs table (the exporter keeps ten). */
const JOB_ROWS = 10;

/** coverageReportHtmlUrl is a job's self-contained HTML report through the plugin proxy's read-only route. */
export function coverageReportHtmlUrl(id: string): string {
  return locationUtil.assureBaseUrl(
    `/${PROXY_BASE_URL}/${PROXY_ROUTES.api}/coverage/${encodeURIComponent(id)}/report.html`
  );
}

function formatTime(ms: number): string {
  return dateTimeFormat(ms, { format: 'YYYY-MM-DD HH:mm:ss' });
}

function Progress({ job }: { job: CoverageJob }) {
  const styles = useStyles2(getStyles);
  const { simulatedMs, totalMs, phase } = job.progress;
  const share = totalMs > 0 ? Math.min(1, simulatedMs / totalMs) : 0;
  const days = (ms: number) => (ms / 86_400_000).toFixed(2);
  return (
    <div data-testid={testIds.coverage.progress} className={styles.progress}>
      <div>
        Job <code>{job.id}</code> {phase === 'scoring' ? 'is scoring the alerts' : 'is simulating'}:{' '}
        {days(simulatedMs)} of {days(totalMs)} simulated days
      </div>
      <div
        role="progressbar"
        aria-label="Coverage progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(share * 100)}
        className={styles.bar}
      >
        <div style={{ width: `${share * 100}%` }} />
      </div>
    </div>
  );
}

/**
 * Coverage is the alert coverage page: run the exporter's (or the user's) alert rules against every failure
 * scenario on a simulated fleet in accelerated time, follow the job, and read its report — what fired for each
 * kind, how fast, what was missed and what cried wolf.
 */
export function Coverage() {
  const styles = useStyles2(getStyles);
  const coverage = useCoverage();
  const settings = useAppSettings();
  const datasourceUid = settings.datasourceUid || DEFAULT_DATASOURCE_UID;
  const mayRun = canDo(ACTIONS.coverageWrite);
  const { job } = coverage;
  const running = job?.status === 'running' || (coverage.jobs.data ?? []).some((j) => j.status === 'running');

  return (
    <PluginPage>
      <div data-testid={testIds.coverage.container} className={styles.page}>
        <span className={styles.muted}>
          Test alert rules against every failure scenario kind before production does: the exporter runs them on a
          seeded, simulated fleet in accelerated time and reports what fired, how fast, what was missed and what
          cried wolf.
        </span>
        {coverage.startError && (
          <div data-testid={testIds.coverage.error}>
            <Alert severity="error" title="The exporter refused the coverage job">
              {coverage.startError.message}
              {coverage.startError.status === 401 || coverage.startError.status === 403
                ? ' — set the API token on the app configuration page.'
                : ''}
            </Alert>
          </div>
        )}
        {coverage.jobs.error && (
          <Alert severity="error" title="Cannot load coverage jobs">
            {coverage.jobs.error.message}
          </Alert>
        )}
        <CoverageForm
          onStart={(req) => void coverage.start(req)}
          disabled={!mayRun || coverage.busy || running}
          disabledReason={
            !mayRun ? 'Running coverage needs the Editor role' : running ? 'A coverage job is running' : undefined
          }
        />
        {(coverage.jobs.data ?? []).length > 0 && (
          <section data-testid={testIds.coverage.jobs} aria-label="Coverage jobs">
            <h3 className={styles.h3}>Jobs</h3>
            <table className={styles.table}>
              <thead>
                <tr>
                  <th>job</th>
                  <th>started</th>
                  <th>status</th>
                  <th>rules</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {(coverage.jobs.data ?? []).slice(0, JOB_ROWS).map((j) => (
                  <tr key={j.id} aria-current={j.id === job?.id ? 'true' : undefined}>
                    <td>
                      <code>{j.id}</code>
                    </td>
                    <td>{formatTime(j.createdAt)}</td>
                    <td>{j.status}</td>
                    <td>{j.request.rules ? j.request.rules.map((r) => r.name).join(', ') : "the exporter's"}</td>
                    <td>
                      <Button
                        size="sm"
                        variant="secondary"
                        fill="text"
                        disabled={j.id === job?.id}
                        onClick={() => coverage.select(j.id)}
                      >
                        Show
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
        {coverage.jobError && (
          <Alert severity="error" title="Cannot read the coverage job">
            {coverage.jobError.message}
          </Alert>
        )}
        {job?.status === 'running' && <Progress job={job} />}
        {job?.status === 'failed' && (
          <Alert severity="error" title={`Coverage job ${job.id} failed`}>
            {job.error ?? 'no reason given'}
          </Alert>
        )}
        {job?.status === 'done' && job.report && (
          <CoverageReportView
            report={job.report}
            htmlUrl={coverageReportHtmlUrl(job.id)}
            datasourceUid={datasourceUid}
          />
        )}
        {coverage.jobs.loading && !coverage.jobs.data && <LoadingPlaceholder text="Loading coverage jobs…" />}
        {coverage.jobs.data?.length === 0 && !job && (
          <p className={styles.muted}>No coverage job has run on this exporter yet.</p>
        )}
      </div>
    </PluginPage>
  );
}

export default Coverage;

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  muted: css({ color: theme.colors.text.secondary }),
  h3: css({ fontSize: theme.typography.h4.fontSize }),
  progress: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  bar: css({
    height: 8,
    borderRadius: theme.shape.radius.default,
    background: theme.colors.background.secondary,
    overflow: 'hidden',
    div: { height: '100%', background: theme.colors.primary.main, transition: 'width 0.3s' },
  }),
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    'th, td': {
      padding: theme.spacing(0.5, 1),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
      textAlign: 'left',
    },
  }),
});
