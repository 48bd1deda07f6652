/**
 * pollUntil is the one way tests and benches wait for something they cannot await directly — a real peer
 * (Prometheus, Redis, a child process) getting somewhere, or a server's state catching up with a client.
 * It re-runs `probe` every `intervalMs` until it returns a value other than undefined or false, and fails
 * after `timeoutMs` naming what it waited for and the probe's last error.
 */

/** PollOptions bound one wait. */
export interface PollOptions {
  /** timeoutMs is how long to wait in all (default 30 s: generous for a peer on a loaded 2-core machine). */
  readonly timeoutMs?: number;
  /** intervalMs is the pause between probes (default 20 ms). */
  readonly intervalMs?: number;
  /** giveUp, checked each round, ends the wait at once with its message (a peer process that exited). */
  readonly giveUp?: () => string | undefined;
}

/** pollUntil resolves with the first value `probe` returns that is neither undefined nor false. */
export async function pollUntil<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  opts: PollOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    const reason = opts.giveUp?.();
    if (reason !== undefined) throw new Error(`gave up waiting for ${what}: ${reason}`);
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `; last error: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`,
      );
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
