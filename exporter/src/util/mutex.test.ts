import { describe, expect, it } from 'vitest';
import { Mutex } from './mutex.js';

describe('Mutex', () => {
  it('runs sections one at a time in order, even when they yield the loop', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const section = (name: string) => async () => {
      log.push(`${name} start`);
      await new Promise((r) => setImmediate(r));
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([mutex.run(section('a')), mutex.run(section('b'))]);
    expect(results).toEqual(['a', 'b']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
  });

  it('starts an uncontended section synchronously and unlocks after a failure', async () => {
    const mutex = new Mutex();
    let started = false;
    const p = mutex.run(async () => {
      started = true;
      await Promise.resolve();
      throw new Error('boom');
    });
    expect(started).toBe(true);
    expect(mutex.locked).toBe(true);
    await expect(p).rejects.toThrow('boom');
    await expect(mutex.run(() => Promise.resolve(1))).resolves.toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(mutex.locked).toBe(false);
  });

  it('starts a waiting section in a later turn of the event loop than the one before it ended', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const first = mutex.run(async () => {
      await new Promise((r) => setImmediate(r));
      // Queued as the first section ends: it runs before the waiting section starts.
      setImmediate(() => log.push('turn'));
      log.push('a');
    });
    const second = mutex.run(() => {
      log.push('b');
      return Promise.resolve();
    });
    await Promise.all([first, second]);
    expect(log).toEqual(['a', 'turn', 'b']);
  });
});
