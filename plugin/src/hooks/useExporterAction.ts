import { useCallback, useState } from 'react';

import { toExporterApiError, type ExporterApiError } from '../api/errors';

/** ExporterAction runs a page's mutations against the exporter, one shape for every page that has them. */
export interface ExporterAction {
  /** run performs `action`, records its error or clears the last one, then reloads; true when it succeeded. */
  run: (action: () => Promise<unknown>) => Promise<boolean>;
  /** actionError is the last refused action's error (the exporter's message), cleared by the next success. */
  actionError: ExporterApiError | undefined;
  /** busy is true while an action is in flight. */
  busy: boolean;
}

/** useExporterAction gives a page's mutations their error, busy state and the reload of what they changed. */
export function useExporterAction(reload: () => void): ExporterAction {
  const [actionError, setActionError] = useState<ExporterApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (action: () => Promise<unknown>) => {
      setBusy(true);
      try {
        await action();
        setActionError(undefined);
        return true;
      } catch (err) {
        setActionError(toExporterApiError(err));
        return false;
      } finally {
        setBusy(false);
        reload();
      }
    },
    [reload]
  );
  return { run, actionError, busy };
}
