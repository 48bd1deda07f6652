import { useCallback, useEffect, useRef, useState } from 'react';

import { exporterClient } from '../api/client';
import { toExporterApiError, type ExporterApiError } from '../api/errors';
import type { LiveStatus } from '../api/live';
import type { AnalysisState, AnyDataMessage } from '../api/types';
import { applyAiAnalysis, EMPTY_ANALYSIS, newer } from './analysis-state';
import { useLiveClient } from './useLiveClient';
import { usePollWhileNotLive } from './usePollWhileNotLive';

/**
 * ANALYSIS_STALE_MS marks the Analysis page stale after two and a half missed runs of the default 30 s interval:
 * the `ai-analysis` channel speaks once per run, far less often than the 5 s broadcast the default is made for.
 */
export const ANALYSIS_STALE_MS = 75_000;

/** AnalysisData is the analysis as the Analysis page reads it. */
export interface AnalysisData {
  state: AnalysisState;
  /** loaded is false until the first answer (or run) arrived. */
  loaded: boolean;
  /** unavailable is true when the exporter runs without analysis (its API answers 404). */
  unavailable: boolean;
  error: ExporterApiError | undefined;
  live: LiveStatus;
}

/**
 * useAnalysis reads the analysis state through the proxy, then follows the hub's `ai-analysis` channel: a run is
 * applied at once (findings, scores, rate, root causes) and the state is re-read for its forecasts, which the
 * message does not carry. While the hub is not live it polls the API instead.
 */
export function useAnalysis(): AnalysisData {
  const [state, setState] = useState<AnalysisState>(EMPTY_ANALYSIS);
  const [loaded, setLoaded] = useState(false);
  const [unavailable, setUnavailable] = useState(false);
  const [error, setError] = useState<ExporterApiError | undefined>(undefined);
  const mounted = useRef(false);

  const load = useCallback(() => {
    exporterClient.analysis().then(
      (answer) => {
        if (mounted.current) {
          setState((prev) => newer(prev, answer));
          setLoaded(true);
          setUnavailable(false);
          setError(undefined);
        }
      },
      (err: unknown) => {
        if (!mounted.current) {
          return;
        }
        const e = toExporterApiError(err);
        setLoaded(true);
        if (e.status === 404) {
          setUnavailable(true);
          setError(undefined);
        } else {
          setError(e);
        }
      }
    );
  }, []);

  useEffect(() => {
    mounted.current = true;
    load();
    return () => {
      mounted.current = false;
    };
  }, [load]);

  const onMessage = useCallback(
    (msg: AnyDataMessage) => {
      if (msg.channel === 'ai-analysis') {
        setState((prev) => applyAiAnalysis(prev, msg.data));
        setLoaded(true);
        load();
      }
    },
    [load]
  );
  const live = useLiveClient(['ai-analysis'], onMessage, { staleAfterMs: ANALYSIS_STALE_MS });
  usePollWhileNotLive(live.state, load);

  return { state, loaded, unavailable, error, live };
}
