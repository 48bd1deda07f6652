import { useCallback, useEffect, useState } from 'react';

import { toExporterApiError, type ExporterApiError } from '../api/errors';

/** AsyncState is a loader's state: the last good data survives a failed refresh. */
export interface AsyncState<T> {
  data: T | undefined;
  error: ExporterApiError | undefined;
  loading: boolean;
  /** reload runs the loader again now. */
  reload: () => void;
}

/**
 * useAsync runs `load` when `deps` change (and every `refreshMs` when given), ignoring answers to
 * superseded calls so a slow response never overwrites a newer one.
 */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[], refreshMs?: number): AsyncState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ExporterApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let current = true;
    const run = () =>
      load().then(
        (value) => {
          if (current) {
            setData(value);
            setError(undefined);
            setLoading(false);
          }
        },
        (err: unknown) => {
          if (current) {
            setError(toExporterApiError(err));
            setLoading(false);
          }
        }
      );
    run();
    const timer = refreshMs ? setInterval(run, refreshMs) : undefined;
    return () => {
      current = false;
      if (timer) {
        clearInterval(timer);
      }
    };
    // `load` is a fresh closure on every render; `deps` say when it means something new (as in react-use).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, refreshMs, generation]);

  const reload = useCallback(() => {
    setLoading(true);
    setGeneration((g) => g + 1);
  }, []);

  return { data, error, loading, reload };
}
