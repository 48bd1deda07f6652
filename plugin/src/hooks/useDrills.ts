import { useCallback, useState } from 'react';

import { exporterClient } from '../api/client';
import type { ExporterApiError } from '../api/errors';
import type { DrillRequest, DrillsResponse } from '../api/types';
import { useAsync, type AsyncState } from './useAsync';
import { useExporterAction } from './useExporterAction';

/**
 * DRILL_POLL_MS is how often the drills are re-read while one runs, so each step shows up as it is injected;
 * two seconds is finer than any step spacing a drill has even at high speed-ups (the shipped ones are minutes
 * apart, so 100× is still seconds).
 */
export const DRILL_POLL_MS = 2_000;

/** DRILLS_IDLE_REFRESH_MS re-reads the list when nothing runs here, to notice a drill started elsewhere. */
export const DRILLS_IDLE_REFRESH_MS = 15_000;

/** DrillActions are the Drills page's mutations; each resolves once the list is reloaded. */
export interface DrillActions {
  start: (req: DrillRequest) => Promise<void>;
  abort: (id: string) => Promise<void>;
  /** actionError is the last refused action's error (the exporter's message), cleared by the next success. */
  actionError: ExporterApiError | undefined;
  busy: boolean;
}

/** useDrills lists the shipped drills and the runs (polled fast while one runs), and starts and aborts runs. */
export function useDrills(): AsyncState<DrillsResponse> & DrillActions {
  const [running, setRunning] = useState(false);
  const list = useAsync(
    async () => {
      const body = await exporterClient.drills();
      setRunning(body.runs.some((r) => r.status === 'running'));
      return body;
    },
    [],
    running ? DRILL_POLL_MS : DRILLS_IDLE_REFRESH_MS
  );
  const { run, actionError, busy } = useExporterAction(list.reload);

  const start = useCallback(async (req: DrillRequest) => void (await run(() => exporterClient.startDrill(req))), [run]);
  const abort = useCallback(async (id: string) => void (await run(() => exporterClient.abortDrill(id))), [run]);
  return { ...list, start, abort, actionError, busy };
}
