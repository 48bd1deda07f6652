/**
 * The stack's topology as docker-compose.yml states it, read for `npm run stack`: which services exist, the
 * port each listens on inside its container, its command line and where each of its container paths lives
 * on this machine (a bind mount: the repository's file or folder; a named volume: a folder of the stack's data
 * directory). The Docker-free stack derives its paths from here, so it cannot drift from the compose file.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** REPO_ROOT is the repository's top level (docker-compose.yml, rules/, provisioning/). */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** COMPOSE_FILE is the stack's compose file. */
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');

/** Mount is one volume of a service: a container path backed by a host path. */
export interface Mount {
  readonly container: string;
  readonly host: string;
  /** volume names the named volume behind the mount, undefined for a bind mount. */
  readonly volume: string | undefined;
}

/** ComposeService is what the stack reads of one service. */
export interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  readonly command: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** containerPort is the container side of the service's first published port. */
  readonly containerPort: number | undefined;
  readonly mounts: readonly Mount[];
}

interface RawService {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string | number | null> | string[];
  ports?: string[];
  volumes?: string[];
}

/**
 * readCompose reads the compose file's services. Named volumes map to `<volumesDir>/<volume name>`; bind
 * mounts resolve against the compose file's folder.
 */
export function readCompose(volumesDir: string, file = COMPOSE_FILE): Map<string, ComposeService> {
  const doc = parse(readFileSync(file, 'utf8')) as { services?: Record<string, RawService> };
  const base = resolve(file, '..');
  const out = new Map<string, ComposeService>();
  for (const [name, raw] of Object.entries(doc.services ?? {})) {
    const mounts = (raw.volumes ?? []).map((spec): Mount => {
      const [source = '', container = ''] = spec.split(':');
      const bind = source.startsWith('.') || isAbsolute(source);
      return {
        container,
        host: bind ? resolve(base, source) : join(volumesDir, source),
        volume: bind ? undefined : source,
      };
    });
    const published = raw.ports?.[0];
    const containerPort = published === undefined ? undefined : Number(published.split(':').at(-1));
    const command = typeof raw.command === 'string' ? raw.command.split(/\s+/) : (raw.command ?? []);
    const env: Record<string, string> = {};
    if (Array.isArray(raw.environment)) {
      for (const kv of raw.environment) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    } else {
      for (const [k, v] of Object.entries(raw.environment ?? {})) env[k] = v === null ? '' : String(v);
    }
    out.set(name, { name, image: raw.image, command, environment: env, containerPort, mounts });
  }
  return out;
}

/**
 * hostPath maps a path inside a service's container to this machine through the service's mounts (the
 * longest mount that contains it), or returns undefined when no mount covers it.
 */
export function hostPath(service: ComposeService, containerPath: string): string | undefined {
  let best: Mount | undefined;
  for (const m of service.mounts) {
    const inside = containerPath === m.container || containerPath.startsWith(`${m.container}/`);
    if (inside && (best === undefined || m.container.length > best.container.length)) best = m;
  }
  if (best === undefined) return undefined;
  const rest = posix.relative(best.container, containerPath);
  return rest === '' ? best.host : join(best.host, ...rest.split('/'));
}

/** service returns the named service or throws naming the compose file. */
export function service(services: ReadonlyMap<string, ComposeService>, name: string): ComposeService {
  const s = services.get(name);
  if (s === undefined) throw new Error(`${COMPOSE_FILE} has no service "${name}"`);
  return s;
}
