import React, { memo, useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Badge,
  Button,
  CollapsableSection,
  Combobox,
  EmptyState,
  InlineField,
  LoadingPlaceholder,
  Pagination,
  RadioButtonGroup,
  Stack,
  useStyles2,
  type ComboboxOption,
} from '@grafana/ui';

import type { PromAlertingRule, PromRuleGroup } from '../../api/types';
import { AlertTable } from '../../components/AlertTable/AlertTable';
import { humanDuration } from '../../components/AlertTable/format';
import { LiveIndicator } from '../../components/LiveIndicator/LiveIndicator';
import { SilenceList } from '../../components/Silences/SilenceList';
import { SilenceModal } from '../../components/Silences/SilenceModal';
import { testIds } from '../../components/testIds';
import {
  countAlerts,
  facetValues,
  latestEvaluation,
  filterAlerts,
  sortFeed,
  whyEmpty,
  type AlertRow,
  type AlertRowState,
} from '../../hooks/alert-feed';
import { silenceCovers } from '../../hooks/silences';
import { useSilences } from '../../hooks/useSilences';
import { ACTIONS } from '../../constants';
import { canDo, currentLogin } from '../../utils/permissions';
import { RESOLVED_WINDOW_MS, useAlertFeed } from '../../hooks/useAlertFeed';
import { useNow } from '../../hooks/useNow';
import { alertsUpdateTimer } from '../../utils/perf';

/** NOW_REFRESH_MS refreshes "active for" once per simulator tick (15 s). */
const NOW_REFRESH_MS = 15_000;

/**
 * PAGE_SIZE is how many alerts a page of the table shows. A table re-lays out all its rows when one changes: with
 * 1,000 rows a live update took up to a second to show (npm run bench:ui); a page of 100 keeps it to milliseconds,
 * and the counts and filters still cover every alert.
 */
export const PAGE_SIZE = 100;

/** FILTER_PARAMS are the URL query parameters that hold the filters, so a filtered view can be linked. */
const FILTER_PARAMS = { severity: 'severity', server: 'server', state: 'state' } as const;

const STATE_OPTIONS: Array<{ label: string; value: AlertRowState | '' }> = [
  { label: 'All', value: '' },
  { label: 'Firing', value: 'firing' },
  { label: 'Pending', value: 'pending' },
  { label: 'Resolved', value: 'resolved' },
];

const ALL_SERVERS: ComboboxOption<string> = { label: 'All servers', value: '' };

/**
 * Alerts shows the firing, pending and recently resolved alerts of the exporter's rule manager, live over the
 * hub, filterable by severity, server and state (kept in the URL); each links to its server and to Grafana's
 * alert list, and editors may silence it. The silences in force are listed below. When no alert shows, the
 * page says why: no rules loaded, all quiet, or the filters.
 */
export function Alerts() {
  const styles = useStyles2(getStyles);
  const { feed, rules, error, loading, live } = useAlertFeed();
  const silences = useSilences();
  const now = useNow(NOW_REFRESH_MS);
  const [silencing, setSilencing] = useState<AlertRow | undefined>(undefined);
  const canSilence = canDo(ACTIONS.silencesWrite) && !silences.unavailable;
  const [params, setParams] = useSearchParams();
  const severity = params.get(FILTER_PARAMS.severity) ?? '';
  const server = params.get(FILTER_PARAMS.server) ?? '';
  const state = (params.get(FILTER_PARAMS.state) ?? '') as AlertRowState | '';

  // Every row in display order, sorted incrementally from the previous update's order.
  const sorted = useMemo(() => sortFeed(feed), [feed]);
  const rows = useMemo(
    () =>
      filterAlerts(sorted, {
        severities: severity ? [severity] : undefined,
        servers: server ? [server] : undefined,
        states: state ? [state] : undefined,
      }),
    [sorted, severity, server, state]
  );
  const counts = useMemo(() => countAlerts(feed), [feed]);
  const [page, setPage] = useState(1);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  // A filter change, or alerts resolving, may leave fewer pages than the one shown.
  const shownPage = Math.min(page, pages);
  const pageRows = useMemo(() => rows.slice((shownPage - 1) * PAGE_SIZE, shownPage * PAGE_SIZE), [rows, shownPage]);
  const silenced = useMemo(() => {
    const keys = new Set<string>();
    const inForce = (silences.silences ?? []).filter((s) => s.status.state === 'active');
    if (inForce.length > 0) {
      for (const row of feed.active.values()) {
        if (inForce.some((s) => silenceCovers(s, row.labels))) {
          keys.add(row.key);
        }
      }
    }
    return keys;
  }, [feed, silences.silences]);
  const onSilence = useCallback((row: AlertRow) => setSilencing(row), []);
  const facets = useMemo(() => facetValues(feed), [feed]);
  // The filter choices change only when a severity or server appears or goes, not with every live update: keyed
  // by their content, the 200-option server list is not rebuilt (and the Combobox not re-rendered) per event.
  const severityKey = uniq([...facets.severities, severity].filter(Boolean)).join('\n');
  const serverKey = uniq([...facets.servers, server].filter(Boolean)).join('\n');
  const severityOptions = useMemo(
    () => [{ label: 'All', value: '' }, ...splitKey(severityKey).map((s) => ({ label: s, value: s }))],
    [severityKey]
  );
  const serverOptions = useMemo(
    () => [ALL_SERVERS, ...splitKey(serverKey).map((s) => ({ label: s, value: s }))],
    [serverKey]
  );
  const alertingRules = useMemo(
    () =>
      (rules ?? []).flatMap((g) =>
        g.rules.filter((r): r is PromAlertingRule => r.type === 'alerting').map((r) => ({ group: g, rule: r }))
      ),
    [rules]
  );

  // Time from a hub event's arrival (before parsing) to this commit: the figure `npm run bench:ui` reports. A
  // passive effect, so it closes after the commit, at times after the frame that paints it: the figure errs high.
  useEffect(() => {
    alertsUpdateTimer.measureEnd();
  }, [rows]);

  const setFilter = useCallback(
    (key: keyof typeof FILTER_PARAMS, value: string) => {
      setPage(1);
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (value) {
            next.set(FILTER_PARAMS[key], value);
          } else {
            next.delete(FILTER_PARAMS[key]);
          }
          return next;
        },
        { replace: true }
      );
    },
    [setParams]
  );
  const filtered = Boolean(severity || server || state);
  const total = counts.firing + counts.pending + counts.resolved;
  const lastEvaluation = latestEvaluation(rules);
  const reason = whyEmpty(rules, total, filtered);

  return (
    <PluginPage>
      <div data-testid={testIds.alerts.container} className={styles.page}>
        <Stack direction="row" alignItems="center" justifyContent="space-between" wrap="wrap">
          <span data-testid={testIds.alerts.counts} className={styles.counts}>
            <Badge text={`${counts.firing} firing`} color={counts.firing ? 'red' : 'green'} />
            <Badge text={`${counts.pending} pending`} color={counts.pending ? 'orange' : 'green'} />
            <Badge text={`${counts.resolved} resolved in the last hour`} color="blue" />
          </span>
          <LiveIndicator status={live} />
        </Stack>
        <AlertFilterBar
          severityOptions={severityOptions}
          serverOptions={serverOptions}
          severity={severity}
          state={state}
          server={server}
          onFilter={setFilter}
        />
        {error && (
          <Alert severity="error" title="Cannot load alerts">
            {error.message}
          </Alert>
        )}
        {loading && total === 0 && !error && <LoadingPlaceholder text="Loading alerts…" />}
        {!loading && rows.length === 0 && (
          <div data-testid={testIds.alerts.empty} data-reason={reason}>
            {reason === 'no-rules' && (
              <EmptyState variant="not-found" message="No alert rules are loaded">
                Nothing can fire: the exporter has not loaded any alerting rule. It reads the rule files in{' '}
                <code>rules/</code> (or <code>RULE_FILES</code>); the exporter&apos;s log says why a file was refused.
              </EmptyState>
            )}
            {reason === 'quiet' && (
              <EmptyState variant="completed" message="All quiet">
                {alertingRules.length} alerting rule{alertingRules.length === 1 ? ' is' : 's are'} evaluated
                {lastEvaluation ? ` (last evaluation ${humanDuration(now - lastEvaluation)} ago)` : ''}; none is pending
                or firing, and none resolved in the last {humanDuration(RESOLVED_WINDOW_MS)}.
              </EmptyState>
            )}
            {reason === 'filtered' && (
              <EmptyState variant="not-found" message="No alert matches these filters">
                {total} alert{total === 1 ? '' : 's'} hidden by the filters.{' '}
                <Button
                  size="sm"
                  variant="secondary"
                  onClick={() => setParams(new URLSearchParams(), { replace: true })}
                >
                  Clear filters
                </Button>
              </EmptyState>
            )}
          </div>
        )}
        {silences.actionError && (
          <Alert severity="error" title="The silence was not changed" data-testid={testIds.silences.error}>
            {silences.actionError.message}
          </Alert>
        )}
        {rows.length > 0 && (
          <>
            <AlertTable rows={pageRows} now={now} silenced={silenced} onSilence={canSilence ? onSilence : undefined} />
            {pages > 1 && (
              <Stack direction="row" alignItems="center" justifyContent="space-between" wrap="wrap">
                <span className={styles.muted} data-testid={testIds.alerts.pageInfo}>
                  {(shownPage - 1) * PAGE_SIZE + 1}–{(shownPage - 1) * PAGE_SIZE + pageRows.length} of {rows.length}{' '}
                  alerts
                </span>
                <Pagination currentPage={shownPage} numberOfPages={pages} onNavigate={setPage} />
              </Stack>
            )}
          </>
        )}
        {silencing && (
          <SilenceModal
            alert={silencing}
            createdBy={currentLogin()}
            onSubmit={silences.create}
            onDismiss={() => setSilencing(undefined)}
          />
        )}
        {silences.silences && (
          <SilenceList
            silences={silences.silences}
            now={now}
            onExpire={canSilence ? (id) => void silences.expire(id) : undefined}
          />
        )}
        <RuleList alertingRules={alertingRules} />
      </div>
    </PluginPage>
  );
}

export default Alerts;

/** AlertFilterBarProps: the filter choices, the filters set, and how to change one. */
interface AlertFilterBarProps {
  severityOptions: Array<ComboboxOption<string>>;
  serverOptions: Array<ComboboxOption<string>>;
  severity: string;
  state: AlertRowState | '';
  server: string;
  onFilter: (key: keyof typeof FILTER_PARAMS, value: string) => void;
}

/**
 * AlertFilterBar holds the severity, state and server filters. It is memoised apart from the page: its props
 * change with the filters and the choices, not with every live update, and the server Combobox measures its
 * width (a forced layout) each time it renders.
 */
const AlertFilterBar = memo(function AlertFilterBar({
  severityOptions,
  serverOptions,
  severity,
  state,
  server,
  onFilter,
}: AlertFilterBarProps) {
  const styles = useStyles2(getStyles);
  return (
    <div data-testid={testIds.alerts.filters} className={styles.filters}>
      <InlineField label="Severity">
        <RadioButtonGroup
          size="sm"
          options={severityOptions}
          value={severity}
          onChange={(v) => onFilter('severity', v)}
        />
      </InlineField>
      <InlineField label="State">
        <RadioButtonGroup size="sm" options={STATE_OPTIONS} value={state} onChange={(v) => onFilter('state', v)} />
      </InlineField>
      <InlineField label="Server">
        <Combobox
          width={24}
          options={serverOptions}
          value={server}
          onChange={(o) => onFilter('server', o.value)}
          data-testid={testIds.alerts.serverFilter}
        />
      </InlineField>
    </div>
  );
});

/** RuleList is the collapsed list of the loaded alerting rules, memoised apart from the page's live updates. */
const RuleList = memo(function RuleList({
  alertingRules,
}: {
  alertingRules: ReadonlyArray<{ group: PromRuleGroup; rule: PromAlertingRule }>;
}) {
  const styles = useStyles2(getStyles);
  return (
    <section data-testid={testIds.alerts.rules} aria-label="Alert rules" className={styles.rules}>
      <CollapsableSection label={`Alerting rules (${alertingRules.length})`} isOpen={false}>
        {alertingRules.length === 0 ? (
          <p className={styles.muted}>No alerting rules loaded.</p>
        ) : (
          <table className={styles.table}>
            <thead>
              <tr>
                <th>Group</th>
                <th>Rule</th>
                <th>State</th>
                <th>For</th>
                <th>Query</th>
              </tr>
            </thead>
            <tbody>
              {alertingRules.map(({ group, rule }) => (
                <tr key={`${group.file}/${group.name}/${rule.name}`}>
                  <td>{group.name}</td>
                  <td>{rule.name}</td>
                  <td>{rule.health === 'err' ? `error: ${rule.lastError ?? ''}` : rule.state}</td>
                  <td>{rule.duration ? humanDuration(rule.duration * 1000) : '—'}</td>
                  <td>
                    <code className={styles.query}>{rule.query}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </CollapsableSection>
    </section>
  );
});

function uniq<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** splitKey turns a newline-joined list back into its items (none for the empty string). */
function splitKey(key: string): string[] {
  return key === '' ? [] : key.split('\n');
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  counts: css({ display: 'flex', gap: theme.spacing(1), flexWrap: 'wrap' }),
  filters: css({ display: 'flex', gap: theme.spacing(2), flexWrap: 'wrap', alignItems: 'center' }),
  rules: css({ marginTop: theme.spacing(2) }),
  muted: css({ color: theme.colors.text.secondary }),
  query: css({ fontSize: theme.typography.bodySmall.fontSize }),
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
