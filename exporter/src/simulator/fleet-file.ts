/**
 * The fleet file: a YAML list of servers (role, hardware, disks, interfaces, services, zone), validated with
 * zod so that every error names the offending field (`servers[3].disks[0].size: …`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SimulatorError } from './errors.js';
import type { ServerInfo } from './types.js';

import { SERVER_ROLES } from '../contract/fleet.js';

export { SERVER_ROLES };

/** DEFAULT_FLEET_FILE is the shipped 20-server fleet (exporter/fleets/default.yaml). */
export const DEFAULT_FLEET_FILE = fileURLToPath(new URL('../../fleets/default.yaml', import.meta.url));

/** SIZE_UNITS are the suffixes a size may carry: SI (powers of 1000) and IEC (powers of 1024). */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
  TIB: 1024 ** 4,
};

/** parseSize reads a byte count or a string such as `16GiB` / `500 GB`; undefined when it is neither. */
export function parseSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(v);
  if (!m) return undefined;
  const factor = SIZE_UNITS[(m[2] ?? '').toUpperCase() || 'B'];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * factor);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = parseSize(v);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a positive byte count or a size such as "16GiB"' });
    return z.NEVER;
  }
  return bytes;
});

/** A label-safe name: Prometheus accepts any label value, but ids also appear in URLs (/probe?target=). */
const name = (what: string) =>
  z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/,
      `${what} must start with a letter or digit and use only [A-Za-z0-9_.:-]`,
    );

const diskSchema = z.strictObject({
  mount: z.string().regex(/^\/[^\s]*$/, 'mount must be an absolute path without spaces'),
  device: name('device'),
  size,
});

const serverSchema = z.strictObject({
  id: name('id'),
  role: z.enum(SERVER_ROLES, { message: `role must be one of ${SERVER_ROLES.join(', ')}` }),
  cores: z.number().int().min(1).max(1024),
  memory: size,
  zone: z.string().min(1),
  disks: z.array(diskSchema).min(1),
  interfaces: z.array(name('interface')).min(1),
  services: z.array(name('service')).default([]),
});

const fleetSchema = z.strictObject({ servers: z.array(serverSchema).min(1) }).superRefine((fleet, ctx) => {
  const ids = new Set<string>();
  fleet.servers.forEach((s, i) => {
    if (ids.has(s.id))
      ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], message: `duplicate id "${s.id}"` });
    ids.add(s.id);
    const unique = (key: 'interfaces' | 'services', values: readonly string[]) => {
      const seen = new Set<string>();
      values.forEach((v, j) => {
        if (seen.has(v))
          ctx.addIssue({ code: 'custom', path: ['servers', i, key, j], message: `duplicate "${v}"` });
        seen.add(v);
      });
    };
    unique('interfaces', s.interfaces);
    unique('services', s.services);
    const mounts = new Set<string>();
    s.disks.forEach((d, j) => {
      if (mounts.has(d.mount))
        ctx.addIssue({
          code: 'custom',
          path: ['servers', i, 'disks', j, 'mount'],
          message: `duplicate "${d.mount}"`,
        });
      mounts.add(d.mount);
    });
  });
});

/** formatPath renders a zod issue path as `servers[3].disks[0].size`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

/** parseFleet validates an already-parsed fleet document; `source` names it in error messages. */
export function parseFleet(doc: unknown, source = 'fleet file'): ServerInfo[] {
  const res = fleetSchema.safeParse(doc);
  if (!res.success) {
    const first = res.error.issues[0];
    const field = first ? formatPath(first.path) : undefined;
    const lines = res.error.issues.slice(0, 10).map((i) => `${formatPath(i.path)}: ${i.message}`);
    throw new SimulatorError('FLEET_FILE_INVALID', `${source}: ${lines.join('; ')}`, field);
  }
  return res.data.servers.map((s) => ({
    id: s.id,
    role: s.role,
    cores: s.cores,
    memoryBytes: s.memory,
    disks: s.disks.map((d) => ({ mount: d.mount, device: d.device, sizeBytes: d.size })),
    interfaces: s.interfaces,
    services: s.services,
    zone: s.zone,
  }));
}

/** parseFleetYaml parses and validates the text of a fleet file. */
export function parseFleetYaml(text: string, source = 'fleet file'): ServerInfo[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new SimulatorError('FLEET_FILE_INVALID', `${source}: invalid YAML: ${(err as Error).message}`);
  }
  return parseFleet(doc, source);
}

/** loadFleetFile reads and validates a fleet file; errors name the file and the field. */
export function loadFleetFile(path: string): ServerInfo[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SimulatorError(
      'FLEET_FILE_UNREADABLE',
      `cannot read fleet file ${path}: ${(err as Error).message}`,
    );
  }
  return parseFleetYaml(text, path);
}

let cachedDefault: ServerInfo[] | undefined;

/** defaultFleet returns the shipped 20-server fleet (read once from DEFAULT_FLEET_FILE). */
export function defaultFleet(): ServerInfo[] {
  cachedDefault ??= loadFleetFile(DEFAULT_FLEET_FILE);
  return cachedDefault;
}
