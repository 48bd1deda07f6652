import { useEffect, useRef } from 'react';

import type { LiveState } from '../api/live';

/**
 * POLL_FALLBACK_MS is how often a page re-reads the exporter through the proxy while live updates are
 * unavailable: one simulator tick (15 s, the seed's generation interval), since the data changes no faster.
 */
export const POLL_FALLBACK_MS = 15_000;

/**
 * usePollWhileNotLive runs `poll` every POLL_FALLBACK_MS while the hub connection is not live, so a page keeps
 * its data current through the plugin proxy. `poll` may change between renders; the latest one runs.
 */
export function usePollWhileNotLive(state: LiveState, poll: () => void): void {
  const latest = useRef(poll);
  useEffect(() => {
    latest.current = poll;
  });
  const live = state === 'live';
  useEffect(() => {
    if (live) {
      return;
    }
    const timer = setInterval(() => latest.current(), POLL_FALLBACK_MS);
    return () => clearInterval(timer);
  }, [live]);
}
