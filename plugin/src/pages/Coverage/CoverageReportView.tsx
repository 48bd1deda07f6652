import React, { Fragment, useMemo, useState } from 'react';
import { css, cx } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import { Button, LinkButton, Stack, TextLink, Tooltip, useStyles2 } from '@grafana/ui';

import type { CoverageReport } from '../../api/types';
import { testIds } from '../../components/testIds';
import { KindTimeline } from './KindTimeline';
import { alertColours, buildMatrix, buildTimeline, missExploreUrl } from './report';
import { SignalChart } from './SignalChart';

const pct = (v: number) => `${Math.round(v * 100)} %`;
const secs = (v: number | null) => (v === null ? '–' : `${Math.round(v)} s`);

function formatTime(ms: number): string {
  return dateTimeFormat(ms, { format: 'YYYY-MM-DD HH:mm:ss', timeZone: 'utc' });
}

/** CoverageReportViewProps: the report, where its HTML version is, and the data source the miss links open. */
export interface CoverageReportViewProps {
  report: CoverageReport;
  htmlUrl: string;
  datasourceUid: string;
}

/**
 * CoverageReportView draws a finished coverage report: the summary, the scenario kind × rule matrix (misses in
 * red), a timeline chart per kind, the per-rule table and every missed scenario with a link to its series.
 */
export function CoverageReportView({ report, htmlUrl, datasourceUid }: CoverageReportViewProps) {
  const styles = useStyles2(getStyles);
  const matrix = useMemo(() => buildMatrix(report), [report]);
  const colours = useMemo(() => alertColours(report), [report]);
  const timelines = useMemo(() => matrix.rows.map((r) => buildTimeline(report, r.kind)), [matrix, report]);
  const s = report.summary;
  const set = report.settings;
  const misses = report.scenarios.filter((x) => !x.detected);
  const [shown, setShown] = useState<ReadonlySet<string>>(() => new Set());
  const toggle = (id: string) =>
    setShown((prev) => {
      const next = new Set(prev);
      if (!next.delete(id)) {
        next.add(id);
      }
      return next;
    });
  const allKinds = set.kinds.length;

  return (
    <div className={styles.report}>
      <section data-testid={testIds.coverage.summary} aria-label="Coverage summary">
        <Stack gap={2} wrap="wrap" alignItems="stretch">
          <div className={styles.stat}>
            <div className={styles.statLabel}>Detection rate</div>
            <div className={styles.statValue}>{pct(s.detectionRate)}</div>
            <div className={styles.muted}>
              {s.detected} of {s.scenarios} scenarios
            </div>
          </div>
          <div className={styles.stat}>
            <div className={styles.statLabel}>False alarms per day</div>
            <div className={cx(styles.statValue, s.falseAlarms > 0 && styles.bad)}>{s.falseAlarmsPerDay}</div>
            <div className={styles.muted}>
              {s.falseAlarms} over {s.scoredDays} scored days
            </div>
          </div>
          <div className={styles.stat}>
            <div className={styles.statLabel}>Kinds never detected</div>
            <div className={cx(styles.statValue, s.kindsMissed.length > 0 && styles.bad)}>{s.kindsMissed.length}</div>
            <div className={styles.muted}>{s.kindsMissed.length > 0 ? s.kindsMissed.join(', ') : 'none'}</div>
          </div>
        </Stack>
        <p className={styles.muted}>
          {set.servers} servers, seed {set.seed}, {set.repetitions} repetition{set.repetitions === 1 ? '' : 's'} of
          every kind × intensity ({set.intensities.join(', ')}) × role; {s.simulatedDays} simulated days from{' '}
          {formatTime(set.start)} UTC; rules: {set.rules.join(', ')}.{' '}
          <TextLink href={htmlUrl} external inline data-testid={testIds.coverage.htmlLink}>
            HTML report
          </TextLink>
        </p>
      </section>

      <section aria-label="Scenario kind by rule">
        <h3 className={styles.h3}>Scenario kind × rule</h3>
        <p className={styles.muted}>
          How many of each kind&apos;s scenarios each rule fired for (on the affected server or a cascade&apos;s
          dependents, within the scenario and {Math.round(set.graceMs / 60_000)} min after it). Kinds with misses
          are red.
        </p>
        <div className={styles.scroll}>
          <table className={styles.matrix} data-testid={testIds.coverage.matrix}>
            <thead>
              <tr>
                <th className={styles.kindHead}>kind</th>
                {matrix.rules.map((r) => (
                  <th key={r} className={styles.ruleHead}>
                    <span>{r}</span>
                  </th>
                ))}
                <th className={styles.ruleHead}>
                  <span>detected</span>
                </th>
                <th className={styles.ruleHead}>
                  <span>missed</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {matrix.rows.map((row) => (
                <tr key={row.kind} data-kind={row.kind} data-misses={row.misses}>
                  <th scope="row" className={cx(styles.kindCell, row.misses > 0 && styles.missKind)}>
                    {row.kind}
                  </th>
                  {row.cells.map((c, j) => (
                    <td
                      key={matrix.rules[j]}
                      data-testid={testIds.coverage.matrixCell}
                      data-rule={matrix.rules[j]}
                      data-count={c.count}
                      title={`${row.kind} × ${matrix.rules[j]}: fired for ${c.count} of ${row.scenarios}`}
                      className={styles.cell}
                      style={c.count > 0 ? { background: `rgba(115, 191, 105, ${0.2 + 0.75 * c.share})` } : undefined}
                    >
                      {c.count > 0 ? c.count : ''}
                    </td>
                  ))}
                  <td className={cx(styles.cell, styles.total)} title={`${row.detected} of ${row.scenarios} detected`}>
                    {row.detected}/{row.scenarios}
                  </td>
                  <td className={cx(styles.cell, row.misses > 0 ? styles.missCell : styles.total)}>{row.misses}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section data-testid={testIds.coverage.timelines} aria-label="Timelines per kind">
        <h3 className={styles.h3}>Timelines</h3>
        <p className={styles.muted}>
          One bar per scenario from its start (blue: detected, red: missed), sorted by intensity and role; coloured
          marks are alerts firing on its server (faint: on a dependent).
        </p>
        <div className={styles.legend}>
          {[...colours].map(([name, colour]) => (
            <span key={name}>
              <i style={{ background: colour }} />
              {name}
            </span>
          ))}
        </div>
        {timelines.map((t) => {
          const k = report.kinds.find((x) => x.kind === t.kind);
          return (
            <div key={t.kind}>
              <h4 className={styles.h4}>
                {t.kind}{' '}
                <small className={styles.muted}>
                  {k?.detected}/{k?.scenarios} detected; time to fire p50 {secs(k?.timeToFireS.median ?? null)}, p90{' '}
                  {secs(k?.timeToFireS.p90 ?? null)}, max {secs(k?.timeToFireS.max ?? null)}
                </small>
              </h4>
              <KindTimeline timeline={t} colours={colours} />
            </div>
          );
        })}
      </section>

      <section data-testid={testIds.coverage.rules} aria-label="Per rule">
        <h3 className={styles.h3}>Per rule</h3>
        <table className={styles.table}>
          <thead>
            <tr>
              <th>rule</th>
              <th>true fires</th>
              <th>false alarms</th>
              <th>flaps</th>
              <th>kinds never caught</th>
            </tr>
          </thead>
          <tbody>
            {report.rules.map((r) => (
              <tr key={r.alertname}>
                <td>{r.alertname}</td>
                <td>{r.trueFires}</td>
                <td className={r.falseAlarms > 0 ? styles.bad : undefined}>{r.falseAlarms}</td>
                <td className={r.flaps > 0 ? styles.warn : undefined}>{r.flaps}</td>
                <td>
                  {r.neverCaught.length === allKinds ? 'every kind' : r.neverCaught.join(', ') || '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section data-testid={testIds.coverage.misses} aria-label="Missed scenarios">
        <h3 className={styles.h3}>Missed scenarios ({misses.length})</h3>
        {misses.length === 0 ? (
          <p className={styles.muted}>None: an alert fired for every scenario.</p>
        ) : (
          <>
            <p className={styles.muted}>
              &quot;Series&quot; draws the series that should have fired: the scenario kind&apos;s key signal on its
              server, as the run evaluated it over the scenario&apos;s window (the run&apos;s samples live only in
              this report). &quot;Explore&quot; opens the same query and the ground truth (openmanager_scenario_active)
              on the data source, which holds data for that window only where it stores the run&apos;s simulated
              time.
            </p>
            <table className={styles.table}>
              <thead>
                <tr>
                  <th>kind</th>
                  <th>server</th>
                  <th>role</th>
                  <th>intensity</th>
                  <th>start (UTC)</th>
                  <th>duration</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {misses.map((x) => (
                  <Fragment key={x.id}>
                  <tr>
                    <td>{x.kind}</td>
                    <td>{x.server}</td>
                    <td>{x.role}</td>
                    <td>{x.intensity}</td>
                    <td>{formatTime(x.start)}</td>
                    <td>{Math.round((x.end - x.start) / 1000)} s</td>
                    <td>
                      <Button
                        size="sm"
                        variant="secondary"
                        fill="text"
                        icon={shown.has(x.id) ? 'angle-down' : 'angle-right'}
                        onClick={() => toggle(x.id)}
                        aria-expanded={shown.has(x.id)}
                        data-testid={testIds.coverage.signalToggle}
                        aria-label={`Series of ${x.kind} on ${x.server}`}
                      >
                        Series
                      </Button>
                      <Tooltip content="Open the series that should have fired in Explore">
                        <LinkButton
                          size="sm"
                          variant="secondary"
                          fill="text"
                          icon="compass"
                          href={missExploreUrl(x, datasourceUid, set.graceMs)}
                          data-testid={testIds.coverage.missLink}
                          aria-label={`Explore ${x.kind} on ${x.server}`}
                        >
                          Explore
                        </LinkButton>
                      </Tooltip>
                    </td>
                  </tr>
                  {shown.has(x.id) && (
                    <tr>
                      <td colSpan={7}>
                        <SignalChart scenario={x} graceMs={set.graceMs} />
                      </td>
                    </tr>
                  )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  report: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(3) }),
  muted: css({ color: theme.colors.text.secondary }),
  bad: css({ color: theme.colors.error.text }),
  warn: css({ color: theme.colors.warning.text }),
  h3: css({ fontSize: theme.typography.h4.fontSize }),
  h4: css({ fontSize: theme.typography.body.fontSize, marginTop: theme.spacing(1.5) }),
  stat: css({
    minWidth: 200,
    padding: theme.spacing(1.5, 2),
    background: theme.colors.background.secondary,
    borderRadius: theme.shape.radius.default,
  }),
  statLabel: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  statValue: css({ fontSize: theme.typography.h2.fontSize, fontWeight: theme.typography.fontWeightMedium }),
  scroll: css({ overflowX: 'auto' }),
  matrix: css({
    borderCollapse: 'collapse',
    'th, td': { border: `1px solid ${theme.colors.border.weak}` },
  }),
  kindHead: css({ textAlign: 'left', verticalAlign: 'bottom', padding: theme.spacing(0.5, 1) }),
  // Rule names are long: written bottom-up so the columns stay one cell wide.
  ruleHead: css({
    verticalAlign: 'bottom',
    padding: theme.spacing(1, 0.25),
    fontWeight: theme.typography.fontWeightRegular,
    fontSize: theme.typography.bodySmall.fontSize,
    span: { writingMode: 'vertical-rl', transform: 'rotate(180deg)', whiteSpace: 'nowrap' },
  }),
  kindCell: css({ textAlign: 'left', padding: theme.spacing(0.5, 1), whiteSpace: 'nowrap' }),
  missKind: css({ color: theme.colors.error.text, background: theme.colors.error.transparent }),
  cell: css({ minWidth: 30, height: 30, textAlign: 'center', fontSize: theme.typography.bodySmall.fontSize }),
  total: css({ background: theme.colors.background.secondary, padding: theme.spacing(0, 0.5) }),
  missCell: css({
    background: theme.colors.error.main,
    color: theme.colors.error.contrastText,
    fontWeight: theme.typography.fontWeightBold,
  }),
  legend: css({
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(0.5, 2),
    fontSize: theme.typography.bodySmall.fontSize,
    i: { display: 'inline-block', width: 10, height: 10, marginRight: theme.spacing(0.5) },
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
