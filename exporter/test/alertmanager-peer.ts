/**
 * AlertmanagerPeer runs Debian's Alertmanager 0.25 (`prometheus-alertmanager`) for tests and benches: on a
 * free 127.0.0.1 port, clustering off (`--cluster.listen-address=`), a temporary storage dir, and a config
 * that routes everything to one webhook receiver (a local stand-in) with short group timings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './promql-peer.js';

/** ALERTMANAGER is Debian's binary (package `prometheus-alertmanager`, 0.25). */
export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** AlertmanagerPeer is one running Alertmanager. */
export interface AlertmanagerPeer {
  readonly base: string;
  /** output is what the process printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** startAlertmanager starts Alertmanager routing every alert to `webhookUrl` (send_resolved) by alertname and server. */
export async function startAlertmanager(webhookUrl: string): Promise<AlertmanagerPeer> {
  if (!existsSync(ALERTMANAGER))
    throw new Error(
      `${ALERTMANAGER} is missing: install Debian's prometheus-alertmanager (bash exporter/scripts/ensure-peers.sh)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'om-alertmanager-'));
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    [
      'route:',
      '  receiver: hook',
      '  group_by: [alertname, server]',
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: hook',
      '    webhook_configs:',
      `      - url: ${webhookUrl}`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  let out = '';
  const proc: ChildProcess = spawn(
    ALERTMANAGER,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await waitFor(async () => (await fetch(`${base}/-/ready`)).ok, 30_000, 'Alertmanager to become ready');
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  return {
    base,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
