import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../util/clock.js';
import { SILENCE_RETENTION_MS, SilenceStore } from './silences.js';

const T0 = Date.UTC(2026, 0, 5);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SilenceStore', () => {
  it('is pending, active, then expired; survives a restart; is forgotten after the retention', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-silences-'));
    dirs.push(dir);
    const clock = new ManualClock(T0);
    const store = SilenceStore.open(dir, clock);
    const id = await store.create({
      matchers: [
        { name: 'alertname', value: 'HighCPU', isRegex: false, isEqual: true },
        { name: 'server', value: 'db-.*', isRegex: true, isEqual: false },
      ],
      startsAt: T0 + 60_000,
      endsAt: T0 + 3_600_000,
      createdBy: 'ops',
      comment: 'deploy',
    });
    const labels = { alertname: 'HighCPU', server: 'web-01' };
    expect(store.get(id)?.status.state).toBe('pending');
    expect(store.isSilenced(labels)).toBe(false);
    clock.advance(60_000);
    expect(store.isSilenced(labels)).toBe(true);
    expect(store.isSilenced({ alertname: 'HighCPU', server: 'db-1' })).toBe(false);
    expect(store.isSilenced({ alertname: 'Other', server: 'web-01' })).toBe(false);
    const reopened = SilenceStore.open(dir, clock);
    expect(reopened.list()).toMatchObject([
      {
        id,
        createdBy: 'ops',
        comment: 'deploy',
        status: { state: 'active' },
        endsAt: '2026-01-05T01:00:00.000Z',
      },
    ]);
    expect(await reopened.expire(id)).toBe(true);
    expect(await reopened.expire('nope')).toBe(false);
    expect(reopened.isSilenced(labels)).toBe(false);
    expect(SilenceStore.open(dir, clock).get(id)?.status.state).toBe('expired');
    clock.advance(SILENCE_RETENTION_MS + 1);
    expect(reopened.list()).toEqual([]);
  });

  it('rejects a matcher with a bad regex, naming the problem', async () => {
    const store = SilenceStore.open(undefined, new ManualClock(T0));
    await expect(
      store.create({
        matchers: [{ name: 'server', value: '(', isRegex: true, isEqual: true }],
        startsAt: T0,
        endsAt: T0 + 1,
        createdBy: 'x',
        comment: '',
      }),
    ).rejects.toThrow(/missing closing \)/);
  });
});
