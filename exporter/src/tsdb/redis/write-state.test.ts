import { describe, expect, it } from 'vitest';
import {
  awaitsFlush,
  canWrite,
  CONNECTION_CLOSED,
  transition,
  type WriteEffect,
  type WriteEvent,
  type WriteState,
} from './write-state.js';

/** T0 is when the outage in `down` began; NOW is when each event below happens (the clock's time). */
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const NOW = T0 + 90_000;

const up: WriteState = { kind: 'up' };
const upWithError: WriteState = { kind: 'up', lastError: 'read ECONNRESET' };
const upErr: WriteState = { kind: 'up', lastError: 'connect ECONNREFUSED 2' };
const upUnchecked: WriteState = { kind: 'up', lastError: 'Connection is closed.' };
const refusing: WriteState = { kind: 'up', refusing: 'OOM command not allowed' };
const upOom: WriteState = { kind: 'up', refusing: 'OOM again' };
const verifying: WriteState = { kind: 'verifying' };
const verifyingWithError: WriteState = { kind: 'verifying', lastError: 'read ECONNRESET' };
const verErr: WriteState = { kind: 'verifying', lastError: 'connect ECONNREFUSED 2' };
const down: WriteState = { kind: 'down', since: T0, reason: 'connect ECONNREFUSED' };
const closed: WriteState = { kind: 'closed' };

const ready: WriteEvent = { type: 'ready' };
const linkError: WriteEvent = { type: 'linkError', message: 'connect ECONNREFUSED 2' };
const linkClosed: WriteEvent = { type: 'linkClosed' };
const refused: WriteEvent = { type: 'writeFailed', message: 'OOM again', linkReady: true };
const broken: WriteEvent = { type: 'writeFailed', message: 'Connection is closed.', linkReady: false };
const writeOk: WriteEvent = { type: 'writeOk' };
const buildFailed: WriteEvent = { type: 'buildFailed', message: 'bug' };
const found: WriteEvent = { type: 'verified', storeFound: true };
const lost: WriteEvent = { type: 'verified', storeFound: false };
const verifyFailed: WriteEvent = { type: 'verifyFailed', message: 'Connection is closed.' };
const close: WriteEvent = { type: 'close' };

const wentDown = (reason: string): WriteState => ({ kind: 'down', since: NOW, reason });
const DOWN: WriteEffect[] = ['logDown', 'releaseIdle'];
const CLOSE: WriteEffect[] = ['cancelRetry', 'releaseIdle'];

/** Every row is one (state, event) pair: the next state and the effects, in order. */
const table: [string, WriteState, WriteEvent, WriteState, WriteEffect[]][] = [
  ['up: ready flushes, forgets the error', upWithError, ready, up, ['flush']],
  ['up: ready keeps a refusal', refusing, ready, refusing, ['flush']],
  ['up: linkError is remembered', up, linkError, upErr, []],
  ['up: closed after an error', upWithError, linkClosed, wentDown('read ECONNRESET'), DOWN],
  ['up: closed without an error', up, linkClosed, wentDown(CONNECTION_CLOSED), DOWN],
  ['up: refused, logged, retried', up, refused, upOom, ['logRefusing', 'retryLater']],
  ['up: refused again, not logged', refusing, refused, upOom, ['retryLater']],
  ['up: write on a broken link', up, broken, wentDown('Connection is closed.'), DOWN],
  ['up: broken link while refusing', refusing, broken, wentDown('Connection is closed.'), DOWN],
  ['up: accepted again', refusing, writeOk, up, ['logAccepted']],
  ['up: writeOk', up, writeOk, up, []],
  ['up: buildFailed, no timer', up, buildFailed, { kind: 'up', refusing: 'bug' }, []],
  ['up: stale verification', up, lost, up, []],
  ['up: close', up, close, closed, CLOSE],
  ['verifying: ready', verifyingWithError, ready, verifying, []],
  ['verifying: linkError is remembered', verifying, linkError, verErr, []],
  ['verifying: closed', verifyingWithError, linkClosed, wentDown('read ECONNRESET'), DOWN],
  ['verifying: late refusal waits', verifying, refused, verifying, []],
  ['verifying: late broken link', verifying, broken, wentDown('Connection is closed.'), DOWN],
  ['verifying: store found', verifying, found, up, ['flush']],
  ['verifying: store lost', verifying, lost, up, ['recover', 'flush']],
  ['verifying: check failed', verifying, verifyFailed, upUnchecked, ['releaseIdle']],
  ['verifying: close', verifying, close, closed, CLOSE],
  ['down: ready verifies first', down, ready, verifying, ['logReconnected', 'verify']],
  ['down: linkError updates reason', down, linkError, { ...down, reason: 'connect ECONNREFUSED 2' }, []],
  ['down: writeFailed updates reason', down, broken, { ...down, reason: 'Connection is closed.' }, []],
  ['down: closed keeps its start', down, linkClosed, down, []],
  ['down: stale verification', down, found, down, []],
  ['down: stale failed check', down, verifyFailed, down, []],
  ['down: close', down, close, closed, CLOSE],
  ['closed: ready', closed, ready, closed, []],
  ['closed: linkClosed', closed, linkClosed, closed, []],
  ['closed: writeFailed', closed, broken, closed, []],
  ['closed: close', closed, close, closed, []],
];

describe('write state machine', () => {
  it.each(table)('%s', (_name, from, event, to, effects) => {
    expect(transition(from, event, NOW)).toEqual({ state: to, effects });
  });

  it('never changes the state it is given (states are values)', () => {
    for (const [, from, event] of table) {
      const copy = structuredClone(from);
      transition(from, event, NOW);
      expect(from).toEqual(copy);
    }
  });

  it.each([
    ['up', up, true, true],
    ['up, refusing', refusing, true, false],
    ['verifying', verifying, false, true],
    ['down', down, false, false],
    ['closed', closed, false, false],
  ] as const)(
    '%s: whether the flush loop writes, and whether flushNow waits',
    (_name, state, writes, waits) => {
      expect(canWrite(state)).toBe(writes);
      expect(awaitsFlush(state)).toBe(waits);
    },
  );
});
