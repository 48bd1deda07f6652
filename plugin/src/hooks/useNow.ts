import { useEffect, useState } from 'react';

/** useNow is the current time (Unix ms), refreshed every `everyMs`: for "active for" texts. */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
