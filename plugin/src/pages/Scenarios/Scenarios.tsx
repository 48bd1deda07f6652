import React, { useMemo, useState } from 'react';
import { css } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { Alert, Badge, Button, Checkbox, Field, Input, RadioButtonGroup, Stack, useStyles2 } from '@grafana/ui';

import { exporterClient } from '../../api/client';
import type { Scenario, ScenarioKind } from '../../api/types';
import { LiveIndicator } from '../../components/LiveIndicator/LiveIndicator';
import { testIds } from '../../components/testIds';
import { useAsync } from '../../hooks/useAsync';
import { useScenarios } from '../../hooks/useScenarios';
import { DURATION_DEFAULT_S, INTENSITY_RANGE, SCENARIO_KINDS } from './kinds';

/** HISTORY_ROWS caps the history table; the exporter keeps the whole ground truth. */
const HISTORY_ROWS = 100;

function formatTime(ms: number): string {
  return dateTimeFormat(ms, { format: 'YYYY-MM-DD HH:mm:ss' });
}

function ScenarioRow({ s, onStop, busy }: { s: Scenario; onStop?: (id: string) => void; busy: boolean }) {
  const ended = s.stoppedAt ?? s.end;
  return (
    <tr>
      <td>{s.kind}</td>
      <td>{s.affected.length > 1 ? `${s.server} (+${s.affected.length - 1})` : s.server}</td>
      <td>{formatTime(s.start)}</td>
      <td>{formatTime(ended)}</td>
      <td>{s.intensity}</td>
      <td>{s.source}</td>
      <td>
        {onStop ? (
          <Button
            size="sm"
            variant="destructive"
            icon="square-shape"
            disabled={busy}
            onClick={() => onStop(s.id)}
            aria-label={`Stop ${s.kind} on ${s.server}`}
          >
            Stop
          </Button>
        ) : s.stoppedAt ? (
          <Badge text="stopped" color="orange" />
        ) : (
          <Badge text="ended" color="blue" />
        )}
      </td>
    </tr>
  );
}

/** Scenarios is the page that injects failure scenarios and shows the active ones and the history. */
export function Scenarios() {
  const styles = useStyles2(getStyles);
  const scenarios = useScenarios();
  const servers = useAsync(() => exporterClient.servers(), []);
  const [kind, setKind] = useState<ScenarioKind>('cpu_spike');
  const [chosen, setChosen] = useState<string[]>([]);
  const [duration, setDuration] = useState(DURATION_DEFAULT_S);
  const [intensity, setIntensity] = useState<number>(INTENSITY_RANGE.default);

  const history = useMemo(
    () => [...(scenarios.data?.history ?? [])].sort((a, b) => b.start - a.start).slice(0, HISTORY_ROWS),
    [scenarios.data]
  );
  const selected = SCENARIO_KINDS.find((k) => k.kind === kind);
  const toggle = (id: string) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id]));

  const onSubmit = (e: React.FormEvent) => {
    e.preventDefault();
    scenarios.inject(chosen.map((server) => ({ kind, server, durationSeconds: duration, intensity })));
  };

  const header = (title: string) => <h3 className={styles.h3}>{title}</h3>;
  const table = (rows: Scenario[], stop?: (id: string) => void) => (
    <table className={styles.table}>
      <thead>
        <tr>
          <th>Kind</th>
          <th>Server</th>
          <th>Start</th>
          <th>End</th>
          <th>Intensity</th>
          <th>Source</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <ScenarioRow key={s.id} s={s} onStop={stop} busy={scenarios.busy} />
        ))}
      </tbody>
    </table>
  );

  return (
    <PluginPage>
      <div data-testid={testIds.scenarios.container} className={styles.page}>
        <Stack justifyContent="space-between" alignItems="center">
          <span className={styles.muted}>
            Inject failures into the simulated fleet. Every scenario is recorded as ground truth.
          </span>
          <LiveIndicator status={scenarios.live} />
        </Stack>
        {scenarios.actionError && (
          <div data-testid={testIds.scenarios.error}>
            <Alert severity="error" title="The exporter refused the request">
              {scenarios.actionError.message}
              {scenarios.actionError.status === 401 || scenarios.actionError.status === 403
                ? ' — set the API token on the app configuration page.'
                : ''}
            </Alert>
          </div>
        )}
        {scenarios.error && (
          <Alert severity="error" title="Cannot load scenarios">
            {scenarios.error.message}
          </Alert>
        )}
        <form
          onSubmit={onSubmit}
          data-testid={testIds.scenarios.form}
          aria-label="Inject a scenario"
          className={styles.form}
        >
          <Field label="Kind">
            <RadioButtonGroup
              options={SCENARIO_KINDS.map((k) => ({ label: k.title, value: k.kind, description: k.description }))}
              value={kind}
              onChange={setKind}
            />
          </Field>
          {selected && <p className={styles.muted}>{selected.description}</p>}
          <Field label="Servers" description="The scenario starts on each chosen server.">
            <div className={styles.servers} role="group" aria-label="Servers">
              {(servers.data ?? []).map((s) => (
                <Checkbox key={s.id} label={s.id} value={chosen.includes(s.id)} onChange={() => toggle(s.id)} />
              ))}
            </div>
          </Field>
          <Stack gap={2}>
            <Field label="Duration (seconds)">
              <Input
                type="number"
                min={1}
                width={16}
                value={duration}
                aria-label="Duration (seconds)"
                onChange={(e) => setDuration(Number(e.currentTarget.value))}
              />
            </Field>
            <Field label={`Intensity (${INTENSITY_RANGE.min}–${INTENSITY_RANGE.max})`}>
              <Input
                type="number"
                min={INTENSITY_RANGE.min}
                max={INTENSITY_RANGE.max}
                step={INTENSITY_RANGE.step}
                width={16}
                value={intensity}
                aria-label="Intensity"
                onChange={(e) => setIntensity(Number(e.currentTarget.value))}
              />
            </Field>
          </Stack>
          <Button type="submit" icon="bolt" disabled={chosen.length === 0 || scenarios.busy}>
            Inject on {chosen.length || 'no'} server{chosen.length === 1 ? '' : 's'}
          </Button>
        </form>
        <section data-testid={testIds.scenarios.active} aria-label="Active scenarios">
          {header(`Active (${scenarios.data?.active.length ?? 0})`)}
          {scenarios.data && scenarios.data.active.length === 0 ? (
            <p className={styles.muted}>No scenario is running.</p>
          ) : (
            table(scenarios.data?.active ?? [], scenarios.stop)
          )}
        </section>
        <section data-testid={testIds.scenarios.history} aria-label="Scenario history">
          {header(`History (${scenarios.data?.history.length ?? 0})`)}
          {history.length === 0 ? <p className={styles.muted}>No scenario has run yet.</p> : table(history)}
        </section>
        <section data-testid={testIds.scenarios.kinds} aria-label="Scenario kinds">
          {header('Scenario kinds')}
          <dl className={styles.kinds}>
            {SCENARIO_KINDS.map((k) => (
              <React.Fragment key={k.kind}>
                <dt>
                  {k.title} <code>{k.kind}</code>
                </dt>
                <dd>{k.description}</dd>
              </React.Fragment>
            ))}
          </dl>
        </section>
      </div>
    </PluginPage>
  );
}

export default Scenarios;

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  muted: css({ color: theme.colors.text.secondary }),
  h3: css({ fontSize: theme.typography.h4.fontSize }),
  form: css({
    padding: theme.spacing(2),
    background: theme.colors.background.secondary,
    borderRadius: theme.shape.radius.default,
  }),
  servers: css({
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(120px, 1fr))',
    gap: theme.spacing(0.5),
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
  kinds: css({
    dt: { fontWeight: theme.typography.fontWeightMedium, marginTop: theme.spacing(1) },
    dd: { marginLeft: theme.spacing(2) },
  }),
});
