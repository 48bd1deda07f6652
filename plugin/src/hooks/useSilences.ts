import { useCallback } from 'react';

import { exporterClient } from '../api/client';
import type { ExporterApiError } from '../api/errors';
import type { PostSilence, Silence } from '../api/types';
import { useAsync } from './useAsync';
import { useExporterAction } from './useExporterAction';

/** SILENCES_REFRESH_MS re-reads the silences twice per minute: they change by hand, and expire on their own. */
export const SILENCES_REFRESH_MS = 30_000;

/** SilencesData is the exporter's silences and the page's actions on them. */
export interface SilencesData {
  /** silences is undefined before the first answer and when the exporter has no silences API. */
  silences: Silence[] | undefined;
  /** unavailable is true when the exporter answered 404 (no notifications feature). */
  unavailable: boolean;
  create: (silence: PostSilence) => Promise<boolean>;
  expire: (id: string) => Promise<boolean>;
  /** actionError is the last failed create or expire (the exporter's message); cleared by the next success. */
  actionError: ExporterApiError | undefined;
}

/** useSilences reads the exporter's silences and creates and expires them through the proxy. */
export function useSilences(): SilencesData {
  const list = useAsync(() => exporterClient.silences(), [], SILENCES_REFRESH_MS);
  const { run, actionError } = useExporterAction(list.reload);
  const create = useCallback((s: PostSilence) => run(() => exporterClient.createSilence(s)), [run]);
  const expire = useCallback((id: string) => run(() => exporterClient.expireSilence(id)), [run]);
  return {
    silences: list.data,
    unavailable: list.error?.status === 404,
    create,
    expire,
    actionError,
  };
}
