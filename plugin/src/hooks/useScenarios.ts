import { useCallback } from 'react';

import { exporterClient } from '../api/client';
import type { ExporterApiError } from '../api/errors';
import type { AnyDataMessage, ScenarioRequest, ScenariosResponse } from '../api/types';
import { useAsync, type AsyncState } from './useAsync';
import { useExporterAction } from './useExporterAction';
import { useLiveClient } from './useLiveClient';
import type { LiveStatus } from '../api/live';

/** SCENARIOS_REFRESH_MS re-reads the list as a fallback when the hub is not reachable. */
export const SCENARIOS_REFRESH_MS = 15_000;

/** ScenarioActions are the Scenarios page's mutations; each resolves once the list is reloaded. */
export interface ScenarioActions {
  inject: (reqs: ScenarioRequest[]) => Promise<void>;
  stop: (id: string) => Promise<void>;
  /** actionError is the last failed mutation's error (the exporter's message), cleared by the next success. */
  actionError: ExporterApiError | undefined;
  busy: boolean;
}

/** useScenarios lists active and past scenarios (reloaded on the hub's scenario events) and injects/stops them. */
export function useScenarios(): AsyncState<ScenariosResponse> & ScenarioActions & { live: LiveStatus } {
  const list = useAsync(() => exporterClient.scenarios(), [], SCENARIOS_REFRESH_MS);
  const { reload } = list;
  const { run, actionError, busy } = useExporterAction(reload);

  const onMessage = useCallback(
    (msg: AnyDataMessage) => {
      if (msg.channel === 'alerts' && msg.data.event !== 'alert_state_changed') {
        reload();
      }
    },
    [reload]
  );
  const live = useLiveClient(['alerts'], onMessage);

  const inject = useCallback(
    async (reqs: ScenarioRequest[]) =>
      void (await run(() => Promise.all(reqs.map((r) => exporterClient.injectScenario(r))))),
    [run]
  );
  const stop = useCallback(async (id: string) => void (await run(() => exporterClient.stopScenario(id))), [run]);
  return { ...list, inject, stop, actionError, busy, live };
}
