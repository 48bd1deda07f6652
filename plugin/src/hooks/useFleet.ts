import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { exporterClient } from '../api/client';
import { toExporterApiError, type ExporterApiError } from '../api/errors';
import type { LiveStatus } from '../api/live';
import type { AnyDataMessage, Scenario, ServerInfo } from '../api/types';
import { anomaliesByServer, type ServerAnomaly } from './analysis-state';
import { applySnapshot, EMPTY_FLEET, scenariosByServer, type FleetState } from './fleet-state';
import { useAsync } from './useAsync';
import { useLiveClient } from './useLiveClient';
import { usePollWhileNotLive } from './usePollWhileNotLive';
import { markUpdateStart } from '../utils/perf';

/** FleetData is everything the Fleet page shows. */
export interface FleetData {
  fleet: FleetState;
  infos: ReadonlyMap<string, ServerInfo>;
  scenarioKinds: ReadonlyMap<string, string[]>;
  /** anomalies are the servers the analysis finds anomalous now, with their strongest signal. */
  anomalies: ReadonlyMap<string, ServerAnomaly>;
  live: LiveStatus;
  error: ExporterApiError | undefined;
}

/**
 * useFleet loads the fleet snapshot, server descriptions, active scenarios and the analysis' anomaly scores, then
 * follows the hub's `server-metrics`, `alerts` and `ai-analysis` channels, polling through the proxy while the hub
 * is not live.
 */
export function useFleet(): FleetData {
  const [fleet, setFleet] = useState<FleetState>(EMPTY_FLEET);
  const [activeScenarios, setActiveScenarios] = useState<Scenario[]>([]);
  const [anomalies, setAnomalies] = useState<ReadonlyMap<string, ServerAnomaly>>(NO_ANOMALIES);
  const [error, setError] = useState<ExporterApiError | undefined>(undefined);
  const liveSeen = useRef(false);

  const mounted = useRef(false);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  /** load reads the snapshot and the active scenarios through the proxy (first load, and polling while not live). */
  const load = useCallback((initial: boolean) => {
    exporterClient.unifiedMetrics().then(
      (m) => {
        // On the first load, a live snapshot that already arrived is newer than this answer.
        if (mounted.current && !(initial && liveSeen.current)) {
          setError(undefined);
          setFleet((prev) => applySnapshot(prev, m, Date.now()));
        }
      },
      (err: unknown) => mounted.current && setError(toExporterApiError(err))
    );
    exporterClient.scenarios().then(
      (s) => mounted.current && setActiveScenarios(s.active),
      () => undefined
    );
    // Markers are extra: an exporter without analysis (404) or an older one leaves the tiles unmarked.
    exporterClient.analysis().then(
      (a) => mounted.current && setAnomalies((prev) => anomaliesByServer(a.scores, prev)),
      () => undefined
    );
  }, []);
  useEffect(() => load(true), [load]);

  const servers = useAsync(() => exporterClient.servers(), []);

  const onMessage = useCallback((msg: AnyDataMessage, receivedAt: number) => {
    if (msg.channel === 'server-metrics') {
      liveSeen.current = true;
      markUpdateStart(receivedAt);
      setError(undefined);
      setFleet((prev) => applySnapshot(prev, msg.data, msg.timestamp));
    } else if (msg.channel === 'alerts') {
      if (msg.data.event === 'scenario_started' || msg.data.event === 'scenario_stopped') {
        setActiveScenarios(msg.data.activeScenarios);
      }
    } else if (msg.channel === 'ai-analysis' && msg.data.scores) {
      const scores = msg.data.scores;
      setAnomalies((prev) => anomaliesByServer(scores, prev));
    }
  }, []);
  const live = useLiveClient(['server-metrics', 'alerts', 'ai-analysis'], onMessage);
  usePollWhileNotLive(live.state, () => load(false));

  const infos = useMemo(() => new Map((servers.data ?? []).map((s) => [s.id, s])), [servers.data]);
  const scenarioKinds = useMemo(() => scenariosByServer(activeScenarios), [activeScenarios]);
  return { fleet, infos, scenarioKinds, anomalies, live, error };
}

const NO_ANOMALIES: ReadonlyMap<string, ServerAnomaly> = new Map();
