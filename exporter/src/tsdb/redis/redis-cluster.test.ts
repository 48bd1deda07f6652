/**
 * The Redis backend on a real 3-node Redis Cluster (private redis-server processes): the same key layout and
 * code, with writes split per node. Runs the storage contract suite, reopen included.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorageContract } from '../../../test/storage-contract.js';
import type { Storage } from '../storage.js';
import { clusterSlot } from './cluster-slot.js';
import { RedisServerProcess } from './redis-server-process.js';
import { RedisStorage } from './redis-storage.js';

/** REDIS_CLI is Debian's redis-cli (same package as redis-server), used to form the cluster. */
const REDIS_CLI = '/usr/bin/redis-cli';
/** CLUSTER_WAIT_MS bounds the wait for the cluster to agree on its slots (takes ~1-2 s). */
const CLUSTER_WAIT_MS = 20_000;

const nodes: RedisServerProcess[] = [];

function cli(port: number, ...args: string[]): string {
  return execFileSync(REDIS_CLI, ['-p', String(port), ...args], { encoding: 'utf8' });
}

beforeAll(async () => {
  for (let i = 0; i < 3; i++) {
    nodes.push(
      await RedisServerProcess.start(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']),
    );
  }
  execFileSync(
    REDIS_CLI,
    [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + CLUSTER_WAIT_MS;
  while (!nodes.every((n) => cli(n.port, 'cluster', 'info').includes('cluster_state:ok'))) {
    if (Date.now() > deadline)
      throw new Error(`the 3-node cluster did not reach cluster_state:ok in ${CLUSTER_WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  for (const n of nodes) await n.destroy();
});

describe('Redis Cluster', () => {
  it('computes the same hash slots as Redis', () => {
    const port = nodes[0]!.port;
    for (const key of [
      'foo',
      'om:{s:1}:raw',
      'om:{s:1}:state',
      'om:{s:987}:1h',
      'om:series',
      'om:meta',
      'a{}b',
    ]) {
      expect(clusterSlot(key), key).toBe(Number(cli(port, 'cluster', 'keyslot', key).trim()));
    }
  });

  const url = (): string => nodes[0]!.url;
  const prefixOf = new Map<Storage, string>();
  const open = (prefix: string) =>
    RedisStorage.open({
      url: url(),
      cluster: true,
      keyPrefix: prefix,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
    });
  runStorageContract({
    name: 'redis cluster',
    create: async () => {
      const prefix = `omtest-${randomBytes(6).toString('hex')}`;
      const s = await open(prefix);
      prefixOf.set(s, prefix);
      return s;
    },
    reopen: async (s) => {
      const prefix = prefixOf.get(s);
      if (prefix === undefined) throw new Error('unknown store');
      await s.close();
      const r = await open(prefix);
      prefixOf.set(r, prefix);
      return r;
    },
  });
});
