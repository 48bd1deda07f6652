import React, { useState } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Badge,
  Button,
  Card,
  Field,
  Input,
  LinkButton,
  LoadingPlaceholder,
  RadioButtonGroup,
  Stack,
  useStyles2,
} from '@grafana/ui';

import type { DrillClock, DrillDefinition, DrillRun } from '../../api/types';
import { testIds } from '../../components/testIds';
import { ACTIONS, DEFAULT_DATASOURCE_UID } from '../../constants';
import { useAppSettings } from '../../hooks/AppSettings';
import { useDrills } from '../../hooks/useDrills';
import { useNow } from '../../hooks/useNow';
import { exploreUrl } from '../../utils/links';
import { canDo } from '../../utils/permissions';

/** SPEED_RANGE is what the exporter accepts for a drill's speed-up (drillRequestSchema: 1–1000). */
const SPEED_RANGE = { min: 1, max: 1000 } as const;

/** CLOCK_OPTIONS are where a drill can run (the contract's DRILL_CLOCKS). */
const CLOCK_OPTIONS: Array<{ label: string; value: DrillClock; description: string }> = [
  {
    label: 'Live fleet',
    value: 'live',
    description:
      'Steps go into the live fleet: dashboards, alerts and receivers react. A speed-up shortens the steps, not the rules’ for: clauses.',
  },
  {
    label: 'Separate clock',
    value: 'separate',
    description:
      'A fleet, store and rules of its own whose clock runs N× as fast: nothing is shortened, so the report shows what speed 1 would fire, in minutes. Its alerts reach no receiver.',
  },
];

/** COUNTDOWN_MS refreshes the "due in" countdown of a running drill's steps once a second. */
const COUNTDOWN_MS = 1_000;

function formatTime(ms: number): string {
  return dateTimeFormat(ms, { format: 'YYYY-MM-DD HH:mm:ss' });
}

/** formatDuration writes seconds as the drill files do: 90 → "1m30s", 28800 → "8h". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const parts = [h ? `${h}h` : '', m ? `${m}m` : '', r ? `${r}s` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join('') : '0s';
}

function DefinitionCard({
  d,
  onStart,
  disabled,
}: {
  d: DrillDefinition;
  onStart: (speed: number, clock: DrillClock) => void;
  disabled: string | undefined;
}) {
  const styles = useStyles2(getStyles);
  const [speed, setSpeed] = useState(1);
  const [clock, setClock] = useState<DrillClock>('live');
  return (
    <Card data-testid={testIds.drills.definition} data-drill={d.name}>
      <Card.Heading>{d.title}</Card.Heading>
      <Card.Meta>
        {[
          <code key="name">{d.name}</code>,
          `${d.steps.length} steps`,
          `${formatDuration(d.durationSeconds)} + ${formatDuration(d.settleSeconds)} settling`,
        ]}
      </Card.Meta>
      <Card.Description>
        <p>{d.description}</p>
        <table className={styles.table} aria-label={`${d.title} steps`}>
          <thead>
            <tr>
              <th>after</th>
              <th>kind</th>
              <th>server</th>
              <th>duration</th>
              <th>intensity</th>
            </tr>
          </thead>
          <tbody>
            {d.steps.map((s, i) => (
              <tr key={i}>
                <td>{formatDuration(s.afterSeconds)}</td>
                <td>{s.kind}</td>
                <td>{s.server}</td>
                <td>{formatDuration(s.durationSeconds)}</td>
                <td>{s.intensity}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card.Description>
      <Card.Actions>
        <Stack gap={1} alignItems="flex-end">
          <Field label="Clock" description={CLOCK_OPTIONS.find((o) => o.value === clock)?.description} noMargin>
            <RadioButtonGroup
              options={CLOCK_OPTIONS}
              value={clock}
              onChange={setClock}
              aria-label={`Clock for ${d.title}`}
            />
          </Field>
          <Field label="Speed" description={`×, ${SPEED_RANGE.min}–${SPEED_RANGE.max}`} noMargin>
            <Input
              type="number"
              min={SPEED_RANGE.min}
              max={SPEED_RANGE.max}
              width={10}
              value={speed}
              aria-label={`Speed for ${d.title}`}
              onChange={(e) => setSpeed(Number(e.currentTarget.value))}
            />
          </Field>
          <Button
            icon="play"
            disabled={disabled !== undefined}
            tooltip={disabled}
            onClick={() => {
              // With a tooltip, Grafana's Button is only aria-disabled and still clickable.
              if (disabled === undefined) {
                onStart(speed, clock);
              }
            }}
          >
            Start {d.title}
          </Button>
        </Stack>
      </Card.Actions>
    </Card>
  );
}

/** DRILL_EXPLORE_MARGIN_MS opens a run's Explore link 5 minutes before its start, to show the quiet baseline. */
const DRILL_EXPLORE_MARGIN_MS = 5 * 60_000;

/**
 * drillExploreUrl opens the run's window in Explore: the scenarios it injected (their ground-truth series) and the
 * alerts firing meanwhile, on the live data source, where — unlike a coverage run — the drill's samples are.
 */
export function drillExploreUrl(run: DrillRun, datasourceUid: string): string {
  const servers = [...new Set(run.steps.flatMap((s) => [s.server, ...s.affected]))];
  const re = servers.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')).join('|');
  return exploreUrl(
    datasourceUid,
    [
      { expr: `openmanager_scenario_active{server=~"${re}"}`, legendFormat: '{{server}} {{kind}}' },
      { expr: `ALERTS{alertstate="firing",server=~"${re}"}`, legendFormat: '{{alertname}} {{server}}' },
    ],
    {
      from: run.startedAt - DRILL_EXPLORE_MARGIN_MS,
      to: run.status === 'running' ? 'now' : (run.finishedAt ?? run.endsAt),
    }
  );
}

/** runNow is a run's current time: the wall clock on the live clock, the run's own clock on a separate one. */
function runNow(run: DrillRun, wallNow: number): number {
  return run.clock === 'separate' ? (run.simulatedAt ?? run.startedAt) : wallNow;
}

function stepState(
  run: DrillRun,
  i: number,
  now: number
): { text: string; color: 'green' | 'red' | 'blue' | 'orange' } {
  const step = run.steps[i];
  if (!step) {
    return { text: '', color: 'blue' };
  }
  if (step.error) {
    return { text: 'failed', color: 'red' };
  }
  if (step.scenarioId) {
    return { text: 'injected', color: 'green' };
  }
  if (run.status !== 'running') {
    return { text: 'not run', color: 'orange' };
  }
  return { text: `due in ${formatDuration(Math.max(0, (step.dueAt - now) / 1000))}`, color: 'blue' };
}

/** RunView shows one run: its steps as they get injected, Abort while it runs, and its report once it ended. */
function RunView({ run, onAbort, canAbort }: { run: DrillRun; onAbort: () => void; canAbort: boolean }) {
  const styles = useStyles2(getStyles);
  const datasourceUid = useAppSettings().datasourceUid || DEFAULT_DATASOURCE_UID;
  const now = runNow(run, useNow(COUNTDOWN_MS));
  const report = run.report;
  const separate = run.clock === 'separate';
  return (
    <section data-testid={testIds.drills.run} data-status={run.status} aria-label={`Drill run ${run.id}`}>
      <Stack justifyContent="space-between" alignItems="center">
        <h3 className={styles.h3}>
          {run.title} <small className={styles.muted}>×{run.speed}</small>{' '}
          {separate && <Badge text="separate clock" color="purple" />}{' '}
          <Badge
            text={run.status}
            color={run.status === 'running' ? 'blue' : run.status === 'finished' ? 'green' : 'orange'}
          />
        </h3>
        <Stack gap={1}>
          {!separate && (
            <LinkButton
              variant="secondary"
              icon="compass"
              href={drillExploreUrl(run, datasourceUid)}
              tooltip="The drill's scenarios and the alerts firing on its servers, in Explore"
            >
              Explore
            </LinkButton>
          )}
          {run.status === 'running' && canAbort && (
            <Button variant="destructive" icon="square-shape" onClick={onAbort}>
              Abort
            </Button>
          )}
        </Stack>
      </Stack>
      <p className={styles.muted}>
        Started {formatTime(run.startedAt)}; {run.status === 'running' ? 'due to end' : 'ended'}{' '}
        {formatTime(run.finishedAt ?? run.endsAt)}
        {separate ? ' on its own clock' : ''}.
      </p>
      {separate && (
        <p className={styles.muted} data-testid={testIds.drills.clock} data-phase={run.phase ?? ''}>
          {run.phase === 'lead-in'
            ? 'Simulating the history its rules read before the first step…'
            : `Its clock runs ×${run.speed}: now at ${formatTime(now)}.`}{' '}
          Its scenarios and alerts stay on its own fleet: not on the dashboards, not sent to receivers.
        </p>
      )}
      {run.error && (
        <Alert severity="error" title="The drill stopped early">
          {run.error}
        </Alert>
      )}
      <table className={styles.table} aria-label="Steps">
        <thead>
          <tr>
            <th>#</th>
            <th>due</th>
            <th>kind</th>
            <th>server</th>
            <th>affected</th>
            <th>state</th>
            {report && <th>detected</th>}
            {report && <th>first alert</th>}
            {report && <th>after</th>}
          </tr>
        </thead>
        <tbody>
          {run.steps.map((s, i) => {
            const st = stepState(run, i, now);
            const r = report?.steps.find((x) => x.step === i);
            return (
              <tr key={i} data-testid={testIds.drills.step} data-state={st.text}>
                <td>{i + 1}</td>
                <td>{formatTime(s.dueAt)}</td>
                <td>{s.kind}</td>
                <td>{s.server}</td>
                <td>{s.affected.join(', ') || '–'}</td>
                <td>
                  <Badge text={st.text} color={st.color} tooltip={s.error ?? undefined} />
                </td>
                {report && (
                  // A step never injected (the drill was aborted first) was neither caught nor missed.
                  <td className={r && s.scenarioId && !r.detected ? styles.bad : undefined}>
                    {r && s.scenarioId ? (r.detected ? 'yes' : 'no') : '–'}
                  </td>
                )}
                {report && <td>{r?.firstAlert ?? '–'}</td>}
                {report && <td>{r?.secondsToFirstAlert == null ? '–' : `${Math.round(r.secondsToFirstAlert)} s`}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
      {report && (
        <div data-testid={testIds.drills.report} className={styles.report}>
          <p>
            <b>Detected {Math.round(report.detectionRate * 100)} %</b> of the injected steps;{' '}
            <span className={report.unrelated > 0 ? styles.warn : undefined}>
              {report.unrelated} unrelated alert{report.unrelated === 1 ? '' : 's'}
            </span>
            ; receivers notified: {report.receivers.length > 0 ? report.receivers.join(', ') : 'none'}.
          </p>
          {report.alerts.length > 0 && (
            <table className={styles.table} aria-label="Alerts during the drill">
              <thead>
                <tr>
                  <th>alert</th>
                  <th>server</th>
                  <th>severity</th>
                  <th>fired</th>
                  <th>step</th>
                </tr>
              </thead>
              <tbody>
                {report.alerts.map((a, i) => (
                  <tr key={i}>
                    <td>{a.alertname}</td>
                    <td>{a.server || '–'}</td>
                    <td>{a.severity || '–'}</td>
                    <td>{formatTime(a.firedAt)}</td>
                    <td>
                      {a.step === null ? 'unrelated' : `${a.step + 1} (+${Math.round(a.secondsAfterStep ?? 0)} s)`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {report.notifications.length > 0 && (
            <table className={styles.table} aria-label="Notifications during the drill">
              <thead>
                <tr>
                  <th>at</th>
                  <th>receiver</th>
                  <th>status</th>
                  <th>outcome</th>
                </tr>
              </thead>
              <tbody>
                {report.notifications.map((n, i) => (
                  <tr key={i}>
                    <td>{formatTime(n.at)}</td>
                    <td>{n.receiver}</td>
                    <td>{n.status}</td>
                    <td>{n.outcome}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}

/**
 * Drills is the game-day page: the shipped drills (named sequences of failure scenarios on the live fleet) with
 * their steps, starting one (editors, optionally sped up), following the running one step by step, aborting it,
 * and each finished run's report — which steps an alert caught and how fast, the unrelated alerts and the
 * receivers notified.
 */
export function Drills() {
  const styles = useStyles2(getStyles);
  const drills = useDrills();
  const mayRun = canDo(ACTIONS.drillsWrite);
  const runs = drills.data?.runs ?? [];
  const [shown, setShown] = useState<string | undefined>(undefined);
  const running = runs.find((r) => r.status === 'running');
  // The running run first; else the one picked; else the newest.
  const current = running ?? runs.find((r) => r.id === shown) ?? runs[0];
  const disabled = !mayRun
    ? 'Starting a drill needs the Editor role'
    : running
      ? 'A drill is running: one at a time'
      : drills.busy
        ? 'Starting…'
        : undefined;

  return (
    <PluginPage>
      <div data-testid={testIds.drills.container} className={styles.page}>
        <span className={styles.muted}>
          Run a game day: a drill injects a named sequence of failure scenarios into the live fleet, so the team can
          watch its dashboards, alerts and receivers react. Each step is recorded as ground truth and annotated on the
          dashboards. On a separate clock, the drill runs fast on a fleet of its own to preview what would fire, and
          when.
        </span>
        {drills.actionError && (
          <div data-testid={testIds.drills.error}>
            <Alert severity="error" title="The exporter refused the request">
              {drills.actionError.message}
              {drills.actionError.status === 401 || drills.actionError.status === 403
                ? ' — set the API token on the app configuration page.'
                : ''}
            </Alert>
          </div>
        )}
        {drills.error && (
          <Alert severity="error" title="Cannot load drills">
            {drills.error.message}
          </Alert>
        )}
        {drills.loading && !drills.data && <LoadingPlaceholder text="Loading drills…" />}
        {current && <RunView run={current} canAbort={mayRun} onAbort={() => void drills.abort(current.id)} />}
        <section aria-label="Drills">
          <h3 className={styles.h3}>Drills</h3>
          {drills.data?.definitions.length === 0 && (
            <p className={styles.muted}>The exporter has no drill files (DRILLS_DIR).</p>
          )}
          {drills.data?.definitions.map((d) => (
            <DefinitionCard
              key={d.name}
              d={d}
              disabled={disabled}
              onStart={(speed, clock) =>
                void drills.start({
                  name: d.name,
                  ...(speed > 1 ? { speed } : {}),
                  ...(clock === 'separate' ? { clock } : {}),
                })
              }
            />
          ))}
        </section>
        {runs.length > 0 && (
          <section data-testid={testIds.drills.runs} aria-label="Drill runs">
            <h3 className={styles.h3}>Runs</h3>
            <table className={styles.table}>
              <thead>
                <tr>
                  <th>drill</th>
                  <th>started</th>
                  <th>speed</th>
                  <th>status</th>
                  <th>detected</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id}>
                    <td>{r.title}</td>
                    <td>{formatTime(r.startedAt)}</td>
                    <td>
                      ×{r.speed}
                      {r.clock === 'separate' ? ', separate clock' : ''}
                    </td>
                    <td>{r.status}</td>
                    <td>{r.report ? `${Math.round(r.report.detectionRate * 100)} %` : '–'}</td>
                    <td>
                      <Button
                        size="sm"
                        variant="secondary"
                        fill="text"
                        disabled={r.id === current?.id}
                        onClick={() => setShown(r.id)}
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
      </div>
    </PluginPage>
  );
}

export default Drills;

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  muted: css({ color: theme.colors.text.secondary }),
  bad: css({ color: theme.colors.error.text }),
  warn: css({ color: theme.colors.warning.text }),
  h3: css({ fontSize: theme.typography.h4.fontSize }),
  report: css({ marginTop: theme.spacing(1) }),
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
