/**
 * Synthetic fleets of any size (tests and benchmarks use 1,000 and 10,000 servers) with the default fleet's
 * role mix and hardware shapes; the hardware varies with the seed, deterministically.
 */
import { SERVER_ROLES } from './fleet-file.js';
import { hashPair, seedKey, unit } from './hash.js';
import type { ServerInfo, ServerRole } from './types.js';

/** ROLE_MIX is the default fleet's share of each role (2 lb, 5 web, 4 api, 3 db, 2 cache, 4 worker of 20). */
export const ROLE_MIX: Readonly<Record<ServerRole, number>> = {
  lb: 2,
  web: 5,
  api: 4,
  db: 3,
  cache: 2,
  worker: 4,
};

/** ROLE_PRIORITY orders roles for fleets smaller than the number of roles: the most useful first. */
const ROLE_PRIORITY: readonly ServerRole[] = ['web', 'api', 'db', 'lb', 'cache', 'worker'];

/** ZONES are the default fleet's availability zones (Seoul region, as the default fleet file). */
const ZONES = ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c'] as const;

const GIB = 1024 ** 3;

interface Shape {
  cores: readonly number[];
  memoryGiB: readonly number[];
  disks: readonly { mount: string; device: string; sizeGiB: readonly number[] }[];
  interfaces: readonly string[];
  services: readonly string[];
}

/** SHAPES are the hardware choices per role, the same families as exporter/fleets/default.yaml. */
const SHAPES: Readonly<Record<ServerRole, Shape>> = {
  lb: {
    cores: [2, 4, 4],
    memoryGiB: [4, 8],
    disks: [{ mount: '/', device: 'nvme0n1', sizeGiB: [50] }],
    interfaces: ['eth0', 'eth1'],
    services: ['nginx', 'keepalived'],
  },
  web: {
    cores: [4, 4, 8],
    memoryGiB: [8, 16, 16],
    disks: [
      { mount: '/', device: 'nvme0n1', sizeGiB: [80] },
      { mount: '/var/log', device: 'nvme1n1', sizeGiB: [100, 200] },
    ],
    interfaces: ['eth0'],
    services: ['nginx', 'php-fpm'],
  },
  api: {
    cores: [8, 8, 16],
    memoryGiB: [16, 32, 32],
    disks: [{ mount: '/', device: 'nvme0n1', sizeGiB: [100, 200] }],
    interfaces: ['eth0', 'eth1'],
    services: ['nginx', 'app'],
  },
  db: {
    cores: [16, 16, 32],
    memoryGiB: [64, 64, 128],
    disks: [
      { mount: '/', device: 'nvme0n1', sizeGiB: [100] },
      { mount: '/var/lib/mysql', device: 'nvme1n1', sizeGiB: [1024, 2048, 4096] },
    ],
    interfaces: ['eth0', 'eth1'],
    services: ['mysql'],
  },
  cache: {
    cores: [4, 8],
    memoryGiB: [32, 64],
    disks: [
      { mount: '/', device: 'nvme0n1', sizeGiB: [50] },
      { mount: '/var/lib/redis', device: 'nvme1n1', sizeGiB: [200] },
    ],
    interfaces: ['eth0'],
    services: ['redis'],
  },
  worker: {
    cores: [8, 8, 16],
    memoryGiB: [16, 32],
    disks: [
      { mount: '/', device: 'nvme0n1', sizeGiB: [100] },
      { mount: '/data', device: 'nvme1n1', sizeGiB: [500, 1000] },
    ],
    interfaces: ['eth0'],
    services: ['worker', 'cron'],
  },
};

/** roleCounts splits n servers over the roles in ROLE_MIX proportions (largest remainder), each role ≥ 1 when n ≥ 6. */
export function roleCounts(n: number): Record<ServerRole, number> {
  const counts: Record<ServerRole, number> = { lb: 0, web: 0, api: 0, db: 0, cache: 0, worker: 0 };
  if (n < SERVER_ROLES.length) {
    for (const role of ROLE_PRIORITY.slice(0, n)) counts[role] = 1;
    return counts;
  }
  const total = SERVER_ROLES.reduce((a, r) => a + ROLE_MIX[r], 0);
  let assigned = 0;
  const remainders: { role: ServerRole; rem: number }[] = [];
  for (const role of SERVER_ROLES) {
    const exact = (n * ROLE_MIX[role]) / total;
    counts[role] = Math.max(1, Math.floor(exact));
    assigned += counts[role];
    remainders.push({ role, rem: exact - Math.floor(exact) });
  }
  remainders.sort((a, b) => b.rem - a.rem || ROLE_PRIORITY.indexOf(a.role) - ROLE_PRIORITY.indexOf(b.role));
  for (let k = 0; assigned < n; k = (k + 1) % remainders.length) {
    const r = remainders[k];
    if (r) counts[r.role]++;
    assigned++;
  }
  // Flooring at 1 can overshoot for tiny fleets: take the excess from the largest roles.
  while (assigned > n) {
    const largest = [...SERVER_ROLES].sort((a, b) => counts[b] - counts[a])[0] ?? 'web';
    counts[largest]--;
    assigned--;
  }
  return counts;
}

function pick<T>(choices: readonly T[], h: number): T {
  const v = choices[Math.floor(unit(h) * choices.length)];
  if (v === undefined) throw new Error('pick from empty choices');
  return v;
}

/**
 * generateFleet builds n servers with the default role mix (ids `web-01`, or `web-0042` when a role has
 * more than 99 servers), hardware drawn from the per-role shapes by `seed`, zones round-robin.
 */
export function generateFleet(n: number, seed = 1): ServerInfo[] {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`generateFleet: n must be a positive integer, got ${n}`);
  const key = seedKey(seed);
  const counts = roleCounts(n);
  const servers: ServerInfo[] = [];
  for (const role of SERVER_ROLES) {
    const count = counts[role];
    const width = Math.max(2, String(count).length);
    const shape = SHAPES[role];
    for (let k = 1; k <= count; k++) {
      const id = `${role}-${String(k).padStart(width, '0')}`;
      const h = hashPair(key, servers.length);
      servers.push({
        id,
        role,
        cores: pick(shape.cores, hashPair(h, 1)),
        memoryBytes: pick(shape.memoryGiB, hashPair(h, 2)) * GIB,
        disks: shape.disks.map((d, j) => ({
          mount: d.mount,
          device: d.device,
          sizeBytes: pick(d.sizeGiB, hashPair(h, 10 + j)) * GIB,
        })),
        interfaces: shape.interfaces,
        services: shape.services,
        zone: ZONES[(k - 1) % ZONES.length] ?? ZONES[0],
      });
    }
  }
  return servers;
}
