/**
 * Maintenance helpers for Redis stores: deleting every key under a prefix (test cleanup, `--reset`-style
 * tools). Uses SCAN + UNLINK so a big store is removed without blocking Redis.
 */
import { Redis } from 'ioredis';
import { RedisKeys } from './keys.js';

/** SCAN_COUNT is the SCAN batch hint: large enough to be quick, small enough not to stall Redis. */
const SCAN_COUNT = 1000;

/** deleteRedisPrefix removes every key of the store under `prefix` and returns how many were removed. */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<number> {
  const keys = new RedisKeys(prefix);
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', keys.pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (batch.length > 0) removed += await client.unlink(...batch);
    } while (cursor !== '0');
    return removed;
  } finally {
    client.disconnect();
  }
}
