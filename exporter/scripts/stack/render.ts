/**
 * Rendering the stack's shared config files for the Docker-free stack: the same prometheus.yml,
 * alertmanager.yml and Grafana provisioning that docker-compose.yml mounts, with the container world
 * translated to this machine — service addresses (`exporter:3001`) to local ports, container paths to the
 * host paths docker-compose.yml's volumes name, `${NAME}` placeholders to values — plus the few overrides a
 * test or a demo asks for (short intervals, a test copy of the rules).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { formatDuration } from '../../src/util/duration.js';
import { hostPath, type ComposeService } from './compose.js';

/** PLACEHOLDER matches `${NAME}`, the syntax Grafana's provisioning and entrypoint.sh expand. */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * substitutePlaceholders replaces every `${NAME}` outside YAML comment lines with `values[NAME]`; names
 * without a value stay as written (Grafana then reads them from its own environment). Returns the text and
 * the names left unreplaced.
 */
export function substitutePlaceholders(
  text: string,
  values: Readonly<Record<string, string | undefined>>,
): { text: string; unresolved: string[] } {
  const unresolved = new Set<string>();
  const out = text
    .split('\n')
    .map((line) =>
      /^\s*#/.test(line)
        ? line
        : line.replace(PLACEHOLDER, (whole, name: string) => {
            const v = values[name];
            if (v === undefined) unresolved.add(name);
            return v ?? whole;
          }),
    )
    .join('\n');
  return { text: out, unresolved: [...unresolved] };
}

/** AddressMap maps a compose address (`exporter:3001`) to where that service listens here (`127.0.0.1:40123`). */
export type AddressMap = ReadonlyMap<string, string>;

/** mapStrings returns a deep copy of a parsed YAML value with `f` applied to every string in it. */
function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

/** rewriteAddresses replaces each compose address in `s` (not followed by another digit) by its local one. */
export function rewriteAddresses(s: string, addresses: AddressMap): string {
  let out = s;
  for (const [from, to] of addresses) {
    out = out.replace(new RegExp(`(?<![\\w.-])${from.replaceAll('.', '\\.')}(?!\\d)`, 'g'), to);
  }
  return out;
}

/** localPath maps an absolute container path of `service` to the host, leaving other strings alone. */
function localPath(service: ComposeService, s: string): string {
  if (!s.startsWith('/')) return s;
  const glob = s.indexOf('*');
  // A glob maps through the folder that holds it.
  const dir = glob < 0 ? s : s.slice(0, s.lastIndexOf('/', glob));
  const host = hostPath(service, dir);
  return host === undefined ? s : host + s.slice(dir.length);
}

/** PrometheusOverrides are what the Docker-free stack may change in prometheus.yml beyond addresses and paths. */
export interface PrometheusOverrides {
  readonly scrapeIntervalMs?: number;
  readonly evaluationIntervalMs?: number;
  /** ruleFiles replaces rule_files (host paths or globs), e.g. a test copy of the rules with short `for`s. */
  readonly ruleFiles?: readonly string[];
  /** remoteWrite adds the optional remote_write to the exporter that prometheus.yml shows commented out. */
  readonly remoteWrite?: boolean;
}

interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files?: string[];
  scrape_configs?: Array<Record<string, unknown>>;
  remote_write?: unknown[];
  [key: string]: unknown;
}

/** REMOTE_WRITE_BLOCK finds the commented-out remote_write section at the end of prometheus.yml. */
const REMOTE_WRITE_BLOCK = /^# remote_write:\n(?:#.*\n?)*/m;

/**
 * optionalRemoteWrite returns the remote_write section prometheus.yml carries commented out (uncommented),
 * so `--remote-write` turns on exactly what the file documents.
 */
export function optionalRemoteWrite(prometheusYml: string): unknown[] {
  const block = REMOTE_WRITE_BLOCK.exec(prometheusYml)?.[0];
  if (block === undefined) throw new Error('prometheus.yml has no commented-out "# remote_write:" section');
  const uncommented = block
    .split('\n')
    .map((l) => l.replace(/^# ?/, ''))
    .join('\n');
  return (parse(uncommented) as { remote_write: unknown[] }).remote_write;
}

/**
 * renderPrometheus turns the compose prometheus.yml into one for a local Prometheus: compose addresses to
 * local ones, container paths (rule_files) to host paths through the prometheus service's mounts, then the
 * overrides. A scrape interval below Prometheus's default scrape timeout (10 s) lowers the timeout with it.
 */
export function renderPrometheus(
  text: string,
  prometheus: ComposeService,
  addresses: AddressMap,
  overrides: PrometheusOverrides = {},
): string {
  const cfg = mapStrings(parse(text), (s) =>
    localPath(prometheus, rewriteAddresses(s, addresses)),
  ) as PrometheusConfig;
  const global = (cfg.global ??= {});
  if (overrides.scrapeIntervalMs !== undefined) {
    global.scrape_interval = formatDuration(overrides.scrapeIntervalMs);
    global.scrape_timeout = formatDuration(Math.min(overrides.scrapeIntervalMs, 10_000));
    for (const job of cfg.scrape_configs ?? [])
      for (const sd of (job.http_sd_configs as Array<Record<string, unknown>> | undefined) ?? [])
        sd.refresh_interval = formatDuration(overrides.scrapeIntervalMs);
  }
  if (overrides.evaluationIntervalMs !== undefined)
    global.evaluation_interval = formatDuration(overrides.evaluationIntervalMs);
  if (overrides.ruleFiles !== undefined) cfg.rule_files = [...overrides.ruleFiles];
  if (overrides.remoteWrite === true)
    cfg.remote_write = mapStrings(optionalRemoteWrite(text), (s) =>
      rewriteAddresses(s, addresses),
    ) as unknown[];
  return stringify(cfg, { lineWidth: 0 });
}

/** AlertmanagerOverrides shorten the root route's timings (tests). */
export interface AlertmanagerOverrides {
  readonly groupWaitMs?: number;
  readonly groupIntervalMs?: number;
}

/**
 * renderAlertmanager does what entrypoint.sh does in the container — every `${NAME}` from `env` — and applies
 * the overrides. A placeholder without a value is an error naming it: Alertmanager would refuse an empty URL.
 */
export function renderAlertmanager(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  overrides: AlertmanagerOverrides = {},
): string {
  const { text: substituted, unresolved } = substitutePlaceholders(text, env);
  if (unresolved.length > 0) throw new Error(`alertmanager.yml needs ${unresolved.join(', ')} set`);
  if (overrides.groupWaitMs === undefined && overrides.groupIntervalMs === undefined) return substituted;
  const cfg = parse(substituted) as { route: Record<string, unknown> };
  if (overrides.groupWaitMs !== undefined) cfg.route.group_wait = formatDuration(overrides.groupWaitMs);
  if (overrides.groupIntervalMs !== undefined)
    cfg.route.group_interval = formatDuration(overrides.groupIntervalMs);
  return stringify(cfg, { lineWidth: 0 });
}

/**
 * renderProvisioning copies Grafana's provisioning folder (YAML files only: dashboards JSON stay where the
 * provider points) into `outDir` with `values` substituted and container paths mapped through the grafana
 * service's mounts. Returns the placeholders left for Grafana's own environment (the secrets).
 */
export function renderProvisioning(
  srcDir: string,
  outDir: string,
  grafana: ComposeService,
  values: Readonly<Record<string, string | undefined>>,
): string[] {
  const left = new Set<string>();
  const walk = (from: string, to: string): void => {
    for (const name of readdirSync(from)) {
      const src = join(from, name);
      if (statSync(src).isDirectory()) {
        walk(src, join(to, name));
      } else if (/\.ya?ml$/.test(name)) {
        const { text, unresolved } = substitutePlaceholders(readFileSync(src, 'utf8'), values);
        for (const u of unresolved) left.add(u);
        // Container paths sit at the start of a YAML value (`path: /var/lib/grafana/...`).
        const mapped = text.replace(/(:\s+['"]?)(\/[^\s'"]+)/g, (_m, lead: string, p: string) => {
          return lead + localPath(grafana, p);
        });
        mkdirSync(to, { recursive: true });
        writeFileSync(join(to, name), mapped);
      }
    }
  };
  walk(srcDir, outDir);
  return [...left].sort();
}
