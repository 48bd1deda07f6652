import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteRedisPrefix } from '../tsdb/redis/redis-admin.js';
import type { Notification } from './notification.js';
import { FileOutbox, MAX_DEAD_LETTERS, OUTBOX_FILE, type NewEntry, type Outbox } from './outbox.js';
import { RedisOutbox } from './redis-outbox.js';

/** SHARED_REDIS is the peer Redis every machine of the project runs; each test uses a key prefix of its own. */
const SHARED_REDIS = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

const dirs: string[] = [];
const prefixes: string[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const c of clients.splice(0)) c.disconnect();
  for (const p of prefixes.splice(0)) await deleteRedisPrefix(SHARED_REDIS, p);
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'om-outbox-'));
  dirs.push(d);
  return d;
}

function note(receiver: string, group: string): Notification {
  return {
    receiver,
    groupKey: `{}:{server="${group}"}`,
    status: 'firing',
    groupLabels: { server: group },
    commonLabels: { server: group },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:3001',
    alerts: [],
    truncatedAlerts: 0,
  };
}
const entry = (receiver: string, group: string, createdAt = 1_000): NewEntry => ({
  receiver,
  createdAt,
  notification: note(receiver, group),
});
const groups = (entries: readonly { notification: Notification }[]): string[] =>
  entries.map((e) => e.notification.groupLabels.server ?? '');

/** redisClient connects to the shared Redis as the exporter does: commands fail at once while disconnected. */
async function redisClient(): Promise<Redis> {
  const c = new Redis(SHARED_REDIS, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  clients.push(c);
  await c.connect().catch((err: unknown) => {
    throw new Error(`the Redis peer at ${SHARED_REDIS} is required for this test: ${String(err)}`);
  });
  return c;
}

/** Kind opens one implementation's outbox at a place (a data dir, a key prefix) that survives reopening. */
interface Kind {
  readonly name: string;
  place(): string;
  open(place: string): Promise<Outbox>;
}
const KINDS: Kind[] = [
  // A small compaction threshold, so the contract also holds across rewrites of the log.
  { name: 'FileOutbox', place: tempDir, open: (dir) => FileOutbox.open(dir, { compactMinBytes: 100_000 }) },
  {
    name: 'RedisOutbox',
    place: () => {
      const p = `omtest-${randomBytes(6).toString('hex')}`;
      prefixes.push(p);
      return p;
    },
    open: async (prefix) => RedisOutbox.open(await redisClient(), prefix),
  },
];

describe.each(KINDS)('the Outbox contract: $name', (kind) => {
  it('lists entries per receiver in the order added, and forgets acked and dead ones', async () => {
    const box = await kind.open(kind.place());
    const added = await box.add([entry('a', 'g1'), entry('b', 'g2'), entry('a', 'g3')]);
    expect(added.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(groups(box.pending('a'))).toEqual(['g1', 'g3']);
    expect(groups(box.pending())).toEqual(['g1', 'g2', 'g3']);
    await box.ack(1);
    await box.deadLetter(2, 5_000, 'HTTP 400');
    expect(groups(box.pending())).toEqual(['g3']);
    expect(box.size).toBe(1);
    expect(box.deadLetters().map((d) => [d.entry.id, d.reason])).toEqual([[2, 'HTTP 400']]);
    expect(box.deadLettersTotal).toBe(1);
    await box.close();
  });

  it('after a crash (no close), reopening finds every unacknowledged entry, in order, and new ids go on', async () => {
    const dir = kind.place();
    const crashed = await kind.open(dir);
    await crashed.add([entry('a', 'g1'), entry('a', 'g2'), entry('a', 'g3'), entry('b', 'g4')]);
    await crashed.ack(2);
    await crashed.deadLetter(4, 9, 'gone');
    // The process dies here: no close(), no final write.
    const box = await kind.open(dir);
    expect(groups(box.pending('a'))).toEqual(['g1', 'g3']);
    expect(box.pending('b')).toEqual([]);
    expect(box.deadLetters().map((d) => d.reason)).toEqual(['gone']);
    const [next] = await box.add([entry('a', 'g5')]);
    expect(next?.id).toBe(5);
    await box.close();
    await crashed.close();
  });

  it('group-commits concurrent adds and keeps their order', async () => {
    const box = await kind.open(kind.place());
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => box.add([entry('a', `g${i}`)])));
    expect(all.flat().map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(groups(box.pending('a'))).toEqual(Array.from({ length: 50 }, (_, i) => `g${i}`));
    await box.close();
  });

  it('keeps the newest dead letters only, but counts all of them, across a reopen', async () => {
    const place = kind.place();
    const box = await kind.open(place);
    const n = MAX_DEAD_LETTERS + 20;
    const added = await box.add(Array.from({ length: n }, (_, i) => entry('a', `g${i}`)));
    for (const e of added) await box.deadLetter(e.id, 1, 'x');
    expect(box.deadLetters()).toHaveLength(MAX_DEAD_LETTERS);
    expect(box.deadLetters()[0]?.entry.id).toBe(21);
    await box.close();
    const reopened = await kind.open(place);
    expect(reopened.deadLettersTotal).toBe(n);
    expect(reopened.deadLetters()).toHaveLength(MAX_DEAD_LETTERS);
    expect(reopened.deadLetters()[0]?.entry.id).toBe(21);
    expect(reopened.pending()).toEqual([]);
    await reopened.close();
  });
});

describe('RedisOutbox', () => {
  it('while Redis is unreachable, add rejects and records nothing; what Redis took stays', async () => {
    const prefix = KINDS[1]!.place();
    const client = await redisClient();
    const box = await RedisOutbox.open(client, prefix);
    await box.add([entry('a', 'g1')]);
    client.disconnect();
    await expect(box.add([entry('a', 'g2')])).rejects.toThrow();
    expect(groups(box.pending())).toEqual(['g1']);
    const reopened = await RedisOutbox.open(await redisClient(), prefix);
    expect(groups(reopened.pending())).toEqual(['g1']);
    const [next] = await reopened.add([entry('a', 'g3')]);
    expect(next?.id).toBeGreaterThan(1);
    expect(groups(reopened.pending())).toEqual(['g1', 'g3']);
  });
});

describe('FileOutbox', () => {
  it('cuts off a line torn by a crash mid-write and keeps appending on a fresh line', async () => {
    const dir = tempDir();
    const box = await FileOutbox.open(dir);
    await box.add([entry('a', 'g1')]);
    await box.close();
    appendFileSync(join(dir, OUTBOX_FILE), '{"op":"add","entry":{"id":2,"recei');
    const reopened = await FileOutbox.open(dir);
    expect(groups(reopened.pending())).toEqual(['g1']);
    await reopened.add([entry('a', 'g2')]);
    await reopened.close();
    const again = await FileOutbox.open(dir);
    expect(groups(again.pending())).toEqual(['g1', 'g2']);
    await again.close();
  });

  it('refuses a log with a damaged complete line, naming the line', async () => {
    const dir = tempDir();
    const box = await FileOutbox.open(dir);
    await box.add([entry('a', 'g1')]);
    await box.close();
    appendFileSync(join(dir, OUTBOX_FILE), 'garbage\n');
    await expect(FileOutbox.open(dir)).rejects.toThrow(/outbox\.jsonl:2: not a JSON record/);
  });

  it('compacts a log that is mostly acknowledged entries, losing nothing', async () => {
    const dir = tempDir();
    const box = await FileOutbox.open(dir, { compactMinBytes: 20_000 });
    for (let round = 0; round < 40; round++) {
      const added = await box.add(Array.from({ length: 10 }, (_, i) => entry('a', `r${round}-${i}`)));
      for (const e of added.slice(0, 9)) await box.ack(e.id);
    }
    await box.deadLetter(box.pending('a')[0]?.id ?? 0, 1, 'expired');
    const size = statSync(join(dir, OUTBOX_FILE)).size;
    expect(size).toBeLessThan(60_000);
    await box.close();
    const reopened = await FileOutbox.open(dir);
    expect(groups(reopened.pending('a'))).toEqual(Array.from({ length: 39 }, (_, r) => `r${r + 1}-9`));
    expect(reopened.deadLettersTotal).toBe(1);
    const [next] = await reopened.add([entry('a', 'x')]);
    expect(next?.id).toBe(401);
    await reopened.close();
    expect(readFileSync(join(dir, OUTBOX_FILE), 'utf8').split('\n')[0]).toMatch(/"op":"meta"/);
  });
});
