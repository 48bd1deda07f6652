/**
 * The stack's config files pass their own tools: `docker-compose config -q` on docker-compose.yml (Debian's
 * docker-compose 1.29, with .env.example's values), `promtool check config` on prometheus.yml as the container
 * reads it and as `npm run stack` renders it (rule files found and checked), and `amtool check-config` on
 * alertmanager.yml with its placeholders filled in. Also: the exporter image runs npm start's node flags, and
 * `--remote-write` adds exactly the section prometheus.yml documents.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMPOSE_FILE, hostPath, readCompose, REPO_ROOT, service } from '../scripts/stack/compose.js';
import { findBinary } from '../scripts/stack/peer-process.js';
import { optionalRemoteWrite, renderAlertmanager, renderPrometheus } from '../scripts/stack/render.js';
import { START_SCRIPT } from './exporter-process.js';

const run = promisify(execFile);

/** TOOLS are the binaries these tests run, with the Debian package that installs each. */
const TOOLS = {
  'docker-compose': 'docker-compose',
  promtool: 'prometheus',
  amtool: 'prometheus-alertmanager',
};

/** tool returns a binary's path or throws naming the apt-get line that installs it. */
function tool(name: keyof typeof TOOLS): string {
  const path = findBinary(name);
  if (path === undefined)
    throw new Error(
      `${name} is missing: install Debian's ${TOOLS[name]} (apt-get install -y ${TOOLS[name]})`,
    );
  return path;
}

/** check runs a tool and fails with its whole output when it exits non-zero. */
async function check(bin: string, args: string[], cwd = REPO_ROOT): Promise<string> {
  try {
    const { stdout, stderr } = await run(bin, args, { cwd, timeout: 30_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

/** exampleEnv reads .env.example's NAME=value lines. */
function exampleEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(REPO_ROOT, '.env.example'), 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] !== undefined) out[m[1]] = m[2] ?? '';
  }
  return out;
}

describe('the stack config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'om-stack-config-'));
  const services = readCompose(join(dir, 'volumes'));
  const prometheus = service(services, 'prometheus');
  const promFile = hostPath(prometheus, '/etc/prometheus/prometheus.yml') ?? '';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('docker-compose.yml passes docker-compose config -q with .env.example', async () => {
    await check(tool('docker-compose'), ['--env-file', '.env.example', '-f', COMPOSE_FILE, 'config', '-q']);
  });

  it('.env.example lists every variable docker-compose.yml reads', () => {
    const text = readFileSync(COMPOSE_FILE, 'utf8')
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    const used = new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]));
    const listed = new Set(Object.keys(exampleEnv()));
    expect([...used].filter((v) => !listed.has(v as string))).toEqual([]);
  });

  it('prometheus.yml passes promtool check config, as mounted and as npm run stack renders it', async () => {
    const promtool = tool('promtool');
    await check(promtool, ['check', 'config', promFile]);
    const rendered = join(dir, 'prometheus.yml');
    const addresses = new Map([
      ['exporter:3001', '127.0.0.1:3001'],
      ['alertmanager:9093', '127.0.0.1:9093'],
      ['prometheus:9090', '127.0.0.1:9090'],
    ]);
    writeFileSync(
      rendered,
      renderPrometheus(readFileSync(promFile, 'utf8'), prometheus, addresses, { remoteWrite: true }),
    );
    const out = await check(promtool, ['check', 'config', rendered]);
    // Every shipped rule file is found through the compose mount of rules/ and checked.
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
    expect(out).toContain(join(REPO_ROOT, 'rules', 'service_alerts.yml'));
    const cfg = parse(readFileSync(rendered, 'utf8')) as {
      remote_write: unknown[];
      scrape_configs: Array<{ job_name: string }>;
    };
    expect(cfg.remote_write).toEqual([
      {
        url: 'http://127.0.0.1:3001/api/prometheus/api/v1/write',
        write_relabel_configs: [{ source_labels: ['job'], regex: 'prometheus', action: 'keep' }],
      },
    ]);
    expect(cfg.scrape_configs.map((j) => j.job_name)).toEqual(
      expect.arrayContaining(['openmanager-metrics', 'openmanager-servers', 'openmanager-exporter']),
    );
  });

  it('alertmanager.yml passes amtool check-config with its placeholders filled in', async () => {
    const am = service(services, 'alertmanager');
    const source = readFileSync(hostPath(am, '/etc/alertmanager/alertmanager.yml') ?? '', 'utf8');
    const rendered = join(dir, 'alertmanager.yml');
    writeFileSync(rendered, renderAlertmanager(source, exampleEnv()));
    const out = await check(tool('amtool'), ['check-config', rendered]);
    expect(out).toContain('2 receivers');
    expect(() => renderAlertmanager(source, {})).toThrow(/WEBHOOK_URL, SLACK_WEBHOOK_URL/);
  });

  it('the exporter image runs npm start with its node flags', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'exporter/Dockerfile'), 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(cmd, 'exporter/Dockerfile has a CMD ["node", ...] line').toBeDefined();
    const startFlags = (START_SCRIPT ?? '')
      .split(/\s+/)
      .filter((w) => w.startsWith('--') || w.endsWith('.js'));
    expect((JSON.parse(cmd ?? '[]') as string[]).slice(1)).toEqual(startFlags);
  });

  it('prometheus.yml documents the optional remote_write that --remote-write adds', () => {
    expect(optionalRemoteWrite(readFileSync(promFile, 'utf8'))).toHaveLength(1);
  });
});
