import { useCallback, useEffect, useRef, useState } from 'react';

import { exporterClient } from '../api/client';
import { toExporterApiError, type ExporterApiError } from '../api/errors';
import type { LiveStatus } from '../api/live';
import type { AnyDataMessage, PromRuleGroup } from '../api/types';
import { alertsUpdateTimer } from '../utils/perf';
import {
  applyAlertEvent,
  dropResolvedBefore,
  EMPTY_FEED,
  fromAlertsHistory,
  fromPromAlert,
  resolvedHistoryQuery,
  withActive,
  withResolvedHistory,
  type AlertFeed,
} from './alert-feed';
import { useLiveClient } from './useLiveClient';
import { usePollWhileNotLive } from './usePollWhileNotLive';

/** RESOLVED_WINDOW_MS is how far back "recently resolved" reaches on the Alerts page: one hour. */
export const RESOLVED_WINDOW_MS = 60 * 60_000;

/** AlertFeedData is the alert feed as pages and panels read it. */
export interface AlertFeedData {
  feed: AlertFeed;
  /** rules are the loaded rule groups (undefined before the first answer): the empty state says which it is. */
  rules: PromRuleGroup[] | undefined;
  error: ExporterApiError | undefined;
  loading: boolean;
  live: LiveStatus;
  /** reload re-reads the rules API now. */
  reload: () => void;
}

/**
 * useAlertFeed reads the active alerts and the rules from the exporter's rules API, the alerts resolved within
 * `resolvedWindowMs` from the `ALERTS` history, then follows the hub's `alerts` channel (each event carries the
 * complete active list); while the hub is not live it polls the API instead.
 */
export function useAlertFeed({
  resolvedWindowMs = RESOLVED_WINDOW_MS,
}: { resolvedWindowMs?: number } = {}): AlertFeedData {
  const [feed, setFeed] = useState<AlertFeed>(EMPTY_FEED);
  const [rules, setRules] = useState<PromRuleGroup[] | undefined>(undefined);
  const [error, setError] = useState<ExporterApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const mounted = useRef(false);
  /** events counts hub events, so an API answer older than a live event does not overwrite it. */
  const events = useRef(0);

  const load = useCallback(() => {
    const mine = ++generation.current;
    const eventsAtStart = events.current;
    const now = Date.now();
    Promise.all([
      exporterClient.alerts(),
      exporterClient.rules(),
      // The history only adds resolved alerts: a store without ALERTS must not fail the page. A window of 0
      // means resolved alerts are not wanted at all.
      resolvedWindowMs > 0
        ? exporterClient.query(resolvedHistoryQuery(resolvedWindowMs / 1000)).catch(() => [])
        : Promise.resolve([]),
    ]).then(
      ([alerts, groups, history]) => {
        if (!mounted.current || mine !== generation.current) {
          return;
        }
        const superseded = events.current !== eventsAtStart;
        setFeed((prev) =>
          dropResolvedBefore(
            withResolvedHistory(
              superseded ? prev : withActive(prev, alerts.map(fromPromAlert), now),
              fromAlertsHistory(history)
            ),
            now - resolvedWindowMs
          )
        );
        setRules(groups);
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (mounted.current && mine === generation.current) {
          setError(toExporterApiError(err));
          setLoading(false);
        }
      }
    );
  }, [resolvedWindowMs]);

  useEffect(() => {
    mounted.current = true;
    load();
    return () => {
      mounted.current = false;
    };
  }, [load]);

  const onMessage = useCallback(
    (msg: AnyDataMessage, receivedAt: number) => {
      if (msg.channel === 'alerts' && msg.data.event === 'alert_state_changed') {
        const event = msg.data;
        events.current++;
        alertsUpdateTimer.markStart(receivedAt);
        setFeed((prev) => dropResolvedBefore(applyAlertEvent(prev, event), event.changedAt - resolvedWindowMs));
      }
    },
    [resolvedWindowMs]
  );
  const live = useLiveClient(['alerts'], onMessage);
  usePollWhileNotLive(live.state, load);

  return { feed, rules, error, loading, live, reload: load };
}
