import { useCallback, useEffect, useState } from 'react';

import { exporterClient } from '../api/client';
import { toExporterApiError, type ExporterApiError } from '../api/errors';
import type { CoverageJob, CoverageRequest } from '../api/types';
import { useAsync, type AsyncState } from './useAsync';

/**
 * COVERAGE_POLL_MS is how often a running job is re-read: a small job finishes in about two seconds and a full
 * one takes minutes, so once a second keeps the progress bar moving without loading the exporter.
 */
export const COVERAGE_POLL_MS = 1_000;

/**
 * COVERAGE_LIST_REFRESH_MS re-reads the job list so a job started elsewhere (another user, the API) shows up;
 * until the user picks one, the page follows the newest.
 */
export const COVERAGE_LIST_REFRESH_MS = 15_000;

/** CoverageState is the Coverage page's data: the kept jobs, the one shown (with its report) and the actions. */
export interface CoverageState {
  jobs: AsyncState<CoverageJob[]>;
  /** job is the job shown: the one just started, the one picked, or the newest kept one. */
  job: CoverageJob | undefined;
  /** jobError is the last failure reading the shown job. */
  jobError: ExporterApiError | undefined;
  select: (id: string) => void;
  start: (req: CoverageRequest) => Promise<void>;
  /** startError is the exporter's answer to a refused start (bad rule file, a job already running, no token). */
  startError: ExporterApiError | undefined;
  busy: boolean;
}

/**
 * useCoverage lists the exporter's coverage jobs, follows one — re-reading it every COVERAGE_POLL_MS while it
 * runs, so the page shows its progress and then its report — and starts new ones.
 */
export function useCoverage(): CoverageState {
  const jobs = useAsync(() => exporterClient.coverageJobs(), [], COVERAGE_LIST_REFRESH_MS);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [job, setJob] = useState<CoverageJob | undefined>(undefined);
  const [jobError, setJobError] = useState<ExporterApiError | undefined>(undefined);
  const [startError, setStartError] = useState<ExporterApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const { reload } = jobs;

  // Until the user picks or starts one, show the newest kept job (the list is newest first).
  const shownId = selected ?? jobs.data?.[0]?.id;

  useEffect(() => {
    if (!shownId) {
      return;
    }
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // running is what the last answer said; a job the page never saw run is not retried on errors.
    let running = false;
    const read = () =>
      exporterClient.coverageJob(shownId).then(
        (j) => {
          if (!current) {
            return;
          }
          running = j.status === 'running';
          setJob(j);
          setJobError(undefined);
          if (j.status === 'running') {
            timer = setTimeout(read, COVERAGE_POLL_MS);
          } else {
            // The list shows each job's status: refresh it once the followed job has ended.
            reload();
          }
        },
        (err: unknown) => {
          if (!current) {
            return;
          }
          const e = toExporterApiError(err);
          setJobError(e);
          // A running job is followed through a hiccup (a 502 from the proxy, a restart); a 404 means the
          // exporter no longer keeps it, so there is nothing left to follow.
          if (running && e.status !== 404) {
            timer = setTimeout(read, COVERAGE_POLL_MS);
          }
        }
      );
    read();
    return () => {
      current = false;
      if (timer) {
        clearTimeout(timer);
      }
    };
  }, [shownId, reload]);

  const start = useCallback(
    async (req: CoverageRequest) => {
      setBusy(true);
      try {
        const started = await exporterClient.startCoverage(req);
        setStartError(undefined);
        setJob(started);
        setSelected(started.id);
        reload();
      } catch (err) {
        setStartError(toExporterApiError(err));
      } finally {
        setBusy(false);
      }
    },
    [reload]
  );

  const select = useCallback((id: string) => setSelected(id), []);
  // A job read for an earlier selection is not shown under a new one while the new one loads.
  const shown = job && job.id === shownId ? job : undefined;
  return { jobs, job: shown, jobError, select, start, startError, busy };
}
