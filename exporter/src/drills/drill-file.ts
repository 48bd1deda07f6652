/**
 * Drill files: a game-day drill is a YAML file in `exporter/drills/` naming a sequence of failure scenarios,
 * each at an offset from the drill's start, on a server given by id or by role (the role's first server in
 * fleet order, or its `nth`). Loaded and checked against the fleet at start, so a drill that names a server
 * or role the fleet does not have stops the exporter with the file, line and field to fix.
 *
 *   title: Database memory leak
 *   description: The primary database leaks memory until it swaps, then its API callers slow down.
 *   settle: 5m        # wait for late alerts after the last step (default 5m)
 *   steps:
 *     - { after: 0s, kind: memory_leak, role: db, duration: 30m, intensity: 0.9 }
 *     - { after: 10m, kind: latency_degradation, role: api, duration: 15m }
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { SCENARIO_KINDS, SERVER_ROLES, type ServerInfo } from '../contract/fleet.js';
import type { DrillDefinition, DrillStep } from '../contract/drills.js';
import { ConfigError } from '../options.js';
import { parseDuration } from '../util/duration.js';
import { parseYamlAs, type Fail } from '../util/yaml-schema.js';

/** DEFAULT_INTENSITY is a step's intensity when its file gives none: a clear, not extreme, failure. */
export const DEFAULT_INTENSITY = 0.8;

/** DEFAULT_SETTLE is how long a run waits for late alerts after its last step when the file says nothing. */
export const DEFAULT_SETTLE = '5m';

/** MAX_STEPS bounds a drill's steps (a game day, not a load test). */
export const MAX_STEPS = 50;

const duration = (what: string) =>
  z
    .string({ message: `${what} must be a duration like 90s or 10m` })
    .refine((s) => parseDuration(s) !== undefined, `${what} must be a duration like 90s or 10m`);

const stepSchema = z
  .strictObject({
    after: duration('after'),
    kind: z.enum(SCENARIO_KINDS, { message: `kind must be one of ${SCENARIO_KINDS.join(', ')}` }),
    server: z.string().min(1).optional(),
    role: z.enum(SERVER_ROLES, { message: `role must be one of ${SERVER_ROLES.join(', ')}` }).optional(),
    nth: z.number().int().min(1).optional(),
    duration: duration('duration').refine((s) => (parseDuration(s) ?? 0) > 0, 'duration must be > 0'),
    intensity: z.number().min(0).max(1).optional(),
  })
  .refine((s) => (s.server === undefined) !== (s.role === undefined), {
    message: 'give either server (an id) or role (lb, web, api, db, cache, worker), not both',
  });

const fileSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().default(''),
  settle: duration('settle').default(DEFAULT_SETTLE),
  steps: z.array(stepSchema).min(1, 'a drill needs at least one step').max(MAX_STEPS),
});

/** parseDrill reads one drill file's text against the fleet's servers (`source` names it in errors). */
export function parseDrill(text: string, source: string, servers: readonly ServerInfo[]): DrillDefinition {
  const fail: Fail = (where, problem) => {
    throw new ConfigError(`invalid drill ${source}${where}: ${problem}`);
  };
  const file = parseYamlAs(text, fileSchema, fail);
  const steps = file.steps.map((s, i): DrillStep => {
    let server = s.server;
    if (server !== undefined && !servers.some((x) => x.id === server))
      fail(` (steps.${i}.server)`, `the fleet has no server "${server}"`);
    if (s.role !== undefined) {
      const ofRole = servers.filter((x) => x.role === s.role);
      const n = s.nth ?? 1;
      server = ofRole[n - 1]?.id;
      if (server === undefined)
        fail(` (steps.${i}.role)`, `the fleet has ${ofRole.length} "${s.role}" server(s), not ${n}`);
    }
    return {
      afterSeconds: (parseDuration(s.after) ?? 0) / 1000,
      kind: s.kind,
      server: server ?? '',
      durationSeconds: (parseDuration(s.duration) ?? 0) / 1000,
      intensity: s.intensity ?? DEFAULT_INTENSITY,
    };
  });
  steps.sort((a, b) => a.afterSeconds - b.afterSeconds);
  return {
    name: basename(source).replace(/\.ya?ml$/, ''),
    title: file.title,
    description: file.description.trim(),
    steps,
    durationSeconds: Math.max(...steps.map((s) => s.afterSeconds + s.durationSeconds)),
    settleSeconds: (parseDuration(file.settle) ?? 0) / 1000,
  };
}

/** loadDrills reads every `*.yml` / `*.yaml` in `dir`, by name (none when the directory does not exist). */
export function loadDrills(dir: string, servers: readonly ServerInfo[]): DrillDefinition[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.sort().map((n) => parseDrill(readFileSync(join(dir, n), 'utf8'), join(dir, n), servers));
}
