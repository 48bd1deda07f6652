/**
 * The Redis write queue's state machine: one WriteState says whether pipelines can go to Redis now, and
 * `transition` is the only place it changes. It is pure (the time comes in as `now`) and returns the effects
 * the queue must run, so the whole machine is tested as a table (write-state.test.ts). The transitions:
 *
 *   from       event                    to         effects (data kept in the state)
 *   up         ready                    up         flush
 *   up         linkError                up         none (lastError = message)
 *   up         linkClosed               down       logDown, releaseIdle (reason = lastError, if any)
 *   up         writeFailed, link ready  up         retryLater, logRefusing if new (refusing = message)
 *   up         writeFailed, link gone   down       logDown, releaseIdle (reason = message)
 *   up         writeOk                  up         logAccepted if it was refusing (refusing cleared)
 *   up         buildFailed              up         none: the next commit tries again (refusing = message)
 *   verifying  ready                    verifying  none
 *   verifying  linkError                verifying  none (lastError = message)
 *   verifying  linkClosed               down       logDown, releaseIdle
 *   verifying  writeFailed, link gone   down       logDown, releaseIdle (reason = message)
 *   verifying  verified                 up         flush, after recover when the store was not found
 *   verifying  verifyFailed             up         releaseIdle (lastError = message)
 *   down       ready                    verifying  logReconnected, verify
 *   down       linkError, writeFailed   down       none (reason = message: the newest is worth showing)
 *   any        close                    closed     cancelRetry, releaseIdle
 *   closed     any                      closed     none
 *
 * Any other pair keeps the state and runs nothing: e.g. a verification result outside `verifying` is stale
 * (the link dropped again, and the next `ready` verifies anew), and a late writeFailed while verifying keeps
 * its pipeline for after the check.
 */

/** WriteState says whether the store can write to Redis, with what each state needs to report itself. */
export type WriteState =
  /**
   * up: pipelines go to Redis. `refusing` is set while Redis answers but rejects them (e.g. OOM); the failed
   * pipeline is retried on a timer. `lastError` is the last connection error ioredis reported, shown as the
   * reason if the link closes.
   */
  | { readonly kind: 'up'; readonly refusing?: string; readonly lastError?: string }
  /**
   * verifying: the link is back after an outage; nothing is written until the store's keys are confirmed to
   * have survived it (or are rewritten, when Redis came back empty).
   */
  | { readonly kind: 'verifying'; readonly lastError?: string }
  /** down: Redis is unreachable since `since` (ms); commits resolve at once and wait in memory. */
  | { readonly kind: 'down'; readonly since: number; readonly reason: string }
  /** closed: the store is closed; terminal. */
  | { readonly kind: 'closed' };

/** WriteEvent is something that happened to the connection or to a pipeline. */
export type WriteEvent =
  /** ready: ioredis's 'ready' (connected, and Redis answers). */
  | { readonly type: 'ready' }
  /** linkError: ioredis's 'error' (a failed connect or a broken socket). */
  | { readonly type: 'linkError'; readonly message: string }
  /** linkClosed: ioredis's 'close'. */
  | { readonly type: 'linkClosed' }
  /** writeFailed: a pipeline failed; `linkReady` tells a refusal (Redis answered) from a broken link. */
  | { readonly type: 'writeFailed'; readonly message: string; readonly linkReady: boolean }
  /** writeOk: Redis acknowledged a pipeline. */
  | { readonly type: 'writeOk' }
  /** buildFailed: building a pipeline threw (a bug); writing stops until the next commit tries again. */
  | { readonly type: 'buildFailed'; readonly message: string }
  /** verified: the check after a reconnect answered; `storeFound` is false when Redis came back empty. */
  | { readonly type: 'verified'; readonly storeFound: boolean }
  /** verifyFailed: the check after a reconnect could not be made. */
  | { readonly type: 'verifyFailed'; readonly message: string }
  /** close: the store is closing. */
  | { readonly type: 'close' };

/**
 * WriteEffect is work the queue runs after a transition: flush (start the flush loop), verify (check the
 * store survived the outage), recover (rewrite what memory holds into an empty Redis), retryLater and
 * cancelRetry (the timer that retries a refused pipeline), releaseIdle (wake flushNow callers to re-check
 * the state), and the log lines that mark state changes (logged once per change, not once per event).
 */
export type WriteEffect =
  | 'flush'
  | 'verify'
  | 'recover'
  | 'retryLater'
  | 'cancelRetry'
  | 'releaseIdle'
  | 'logDown'
  | 'logReconnected'
  | 'logRefusing'
  | 'logAccepted';

/** Transition is a next state and the effects that go with it. */
export interface Transition {
  readonly state: WriteState;
  readonly effects: readonly WriteEffect[];
}

/** CONNECTION_CLOSED is the reason shown for a link that closed without reporting an error first. */
export const CONNECTION_CLOSED = 'connection closed';

const stay = (state: WriteState): Transition => ({ state, effects: [] });

const goDown = (now: number, reason: string): Transition => ({
  state: { kind: 'down', since: now, reason },
  effects: ['logDown', 'releaseIdle'],
});

/** transition is the write queue's state machine (table in the file comment); `now` is the clock's time. */
export function transition(state: WriteState, event: WriteEvent, now: number): Transition {
  if (state.kind === 'closed') return stay(state);
  if (event.type === 'close') return { state: { kind: 'closed' }, effects: ['cancelRetry', 'releaseIdle'] };
  switch (state.kind) {
    case 'up':
      return fromUp(state, event, now);
    case 'verifying':
      return fromVerifying(state, event, now);
    case 'down':
      return fromDown(state, event);
  }
}

function fromUp(state: WriteState & { kind: 'up' }, event: WriteEvent, now: number): Transition {
  switch (event.type) {
    case 'ready':
      return { state: withoutLastError(state), effects: ['flush'] };
    case 'linkError':
      return stay({ ...state, lastError: event.message });
    case 'linkClosed':
      return goDown(now, state.lastError ?? CONNECTION_CLOSED);
    case 'writeFailed':
      if (!event.linkReady) return goDown(now, event.message);
      return {
        state: { ...state, refusing: event.message },
        effects: state.refusing === undefined ? ['logRefusing', 'retryLater'] : ['retryLater'],
      };
    case 'buildFailed':
      return stay({ ...state, refusing: event.message });
    case 'writeOk':
      if (state.refusing === undefined) return stay(state);
      return { state: withoutRefusing(state), effects: ['logAccepted'] };
    default:
      return stay(state);
  }
}

function fromVerifying(
  state: WriteState & { kind: 'verifying' },
  event: WriteEvent,
  now: number,
): Transition {
  switch (event.type) {
    case 'ready':
      return stay({ kind: 'verifying' });
    case 'linkError':
      return stay({ kind: 'verifying', lastError: event.message });
    case 'linkClosed':
      return goDown(now, state.lastError ?? CONNECTION_CLOSED);
    case 'writeFailed':
      // A pipeline sent before the outage failing late: kept for after the check, unless the link is gone.
      return event.linkReady ? stay(state) : goDown(now, event.message);
    case 'verified':
      return { state: { kind: 'up' }, effects: event.storeFound ? ['flush'] : ['recover', 'flush'] };
    case 'verifyFailed':
      // The check itself failed (usually the link dropped again, and linkClosed follows): writes may go
      // on as before the outage, and flushNow callers re-check.
      return { state: { kind: 'up', lastError: event.message }, effects: ['releaseIdle'] };
    default:
      return stay(state);
  }
}

function fromDown(state: WriteState & { kind: 'down' }, event: WriteEvent): Transition {
  switch (event.type) {
    case 'ready':
      return { state: { kind: 'verifying' }, effects: ['logReconnected', 'verify'] };
    case 'linkError':
    case 'writeFailed':
      // ioredis reports every failed reconnect attempt; the newest reason is the one worth showing.
      return stay({ ...state, reason: event.message });
    default:
      return stay(state);
  }
}

function withoutLastError(state: WriteState & { kind: 'up' }): WriteState {
  return state.refusing === undefined ? { kind: 'up' } : { kind: 'up', refusing: state.refusing };
}

function withoutRefusing(state: WriteState & { kind: 'up' }): WriteState {
  return state.lastError === undefined ? { kind: 'up' } : { kind: 'up', lastError: state.lastError };
}

/** canWrite says whether the flush loop may send pipelines in `state`. */
export function canWrite(state: WriteState): boolean {
  return state.kind === 'up';
}

/**
 * awaitsFlush says whether flushNow should wait for pending writes in `state`: while writes go through, or
 * are about to (verifying); not while Redis is unreachable, refusing writes, or the store is closed.
 */
export function awaitsFlush(state: WriteState): boolean {
  return (state.kind === 'up' && state.refusing === undefined) || state.kind === 'verifying';
}
