/**
 * RedisOutbox is the Outbox of an exporter whose store is Redis: the notifications waiting for their receivers
 * live in the same Redis as the metrics, so a replacement exporter on another machine (no data dir carried
 * over) still sends what its predecessor left unacknowledged. Same contract as FileOutbox (see outbox.ts).
 *
 * Keys (one hash tag, so one Redis Cluster slot and every change is one MULTI):
 * - `<prefix>:{notify}:outbox`       hash: entry id → the entry as JSON (the pending entries);
 * - `<prefix>:{notify}:outbox-meta`  hash: `next_id`, `dead_total`;
 * - `<prefix>:{notify}:outbox-dead`  list: the newest MAX_DEAD_LETTERS dead letters as JSON, oldest first.
 *
 * `add` resolves once Redis has applied the MULTI, and only then do the entries become pending in memory:
 * when Redis is unreachable it rejects and nothing is recorded, so the dispatcher keeps the alerts and tries
 * again at its next interval. Durability beyond that is Redis's own (AOF or snapshots, as configured there).
 * An ack or dead letter Redis did not take leaves the entry in Redis: after a restart it is sent again, which
 * at-least-once allows.
 */
import type { RedisClient } from '../tsdb/redis/redis-client.js';
import {
  MAX_DEAD_LETTERS,
  MemoryOutbox,
  type DeadLetter,
  type NewEntry,
  type OutboxEntry,
} from './outbox.js';

/** RedisOutboxKeys names the outbox's keys under `prefix`. */
export function redisOutboxKeys(prefix: string): { entries: string; meta: string; dead: string } {
  return {
    entries: `${prefix}:{notify}:outbox`,
    meta: `${prefix}:{notify}:outbox-meta`,
    dead: `${prefix}:{notify}:outbox-dead`,
  };
}

/** RedisOutbox is the Redis-backed Outbox (see the file comment). */
export class RedisOutbox extends MemoryOutbox {
  private closed = false;

  private constructor(
    private readonly client: RedisClient,
    private readonly keys: ReturnType<typeof redisOutboxKeys>,
    private readonly ownsClient: boolean,
  ) {
    super();
  }

  /**
   * open loads the outbox kept under `prefix` from a connected client; with `ownsClient` close() also quits
   * the client.
   */
  static async open(client: RedisClient, prefix: string, ownsClient = false): Promise<RedisOutbox> {
    const box = new RedisOutbox(client, redisOutboxKeys(prefix), ownsClient);
    const [entries, meta, dead] = await Promise.all([
      client.hgetall(box.keys.entries),
      client.hgetall(box.keys.meta),
      client.lrange(box.keys.dead, 0, -1),
    ]);
    const m = box.memory;
    for (const json of dead) {
      const d = parse<DeadLetter>(json, box.keys.dead);
      m.apply({ op: 'add', entry: d.entry });
      m.apply({ op: 'dead', id: d.entry.id, at: d.at, reason: d.reason });
    }
    const pending = Object.values(entries)
      .map((json) => parse<OutboxEntry>(json, box.keys.entries))
      .sort((a, b) => a.id - b.id);
    for (const entry of pending) m.apply({ op: 'add', entry });
    // The total counts dead letters no longer kept too; the kept ones counted themselves above.
    m.deadTotal = Math.max(m.deadTotal, Number(meta.dead_total ?? 0));
    m.nextId = Math.max(m.nextId, Number(meta.next_id ?? 1));
    return box;
  }

  async add(entries: readonly NewEntry[]): Promise<OutboxEntry[]> {
    this.assertOpen();
    const out = this.memory.take(entries);
    const tx = this.client.multi();
    for (const e of out) tx.hset(this.keys.entries, String(e.id), JSON.stringify(e));
    tx.hset(this.keys.meta, 'next_id', String(this.memory.nextId));
    await exec(tx);
    for (const entry of out) this.memory.apply({ op: 'add', entry }, false);
    return out;
  }

  async ack(id: number): Promise<void> {
    if (!this.memory.has(id)) return;
    this.memory.apply({ op: 'ack', id });
    this.assertOpen();
    await this.client.hdel(this.keys.entries, String(id));
  }

  async deadLetter(id: number, at: number, reason: string): Promise<void> {
    const entry = this.memory.pending().find((e) => e.id === id);
    if (!entry) return;
    this.memory.apply({ op: 'dead', id, at, reason });
    this.assertOpen();
    const letter: DeadLetter = { entry, at, reason };
    const tx = this.client
      .multi()
      .hdel(this.keys.entries, String(id))
      .rpush(this.keys.dead, JSON.stringify(letter))
      .ltrim(this.keys.dead, -MAX_DEAD_LETTERS, -1)
      .hincrby(this.keys.meta, 'dead_total', 1);
    await exec(tx);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the outbox is closed');
  }
}

/** exec runs a MULTI and throws the first command error (ioredis reports them per command). */
async function exec(tx: ReturnType<RedisClient['multi']>): Promise<void> {
  const replies = await tx.exec();
  if (replies === null) throw new Error('Redis discarded the outbox transaction');
  for (const [err] of replies) if (err) throw err;
}

function parse<T>(json: string, key: string): T {
  try {
    return JSON.parse(json) as T;
  } catch {
    throw new Error(`${key} holds a value that is not JSON; delete the key to start with an empty outbox`);
  }
}
