/**
 * Starts the real exporter (../exporter/src/main.ts under tsx) on a free port for the harness tests and the
 * UI benchmark, and stops it. It fails with the exporter's own output when it does not come up.
 */
import { spawn, type ChildProcess } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

/** RunningExporter is a started exporter process. */
export interface RunningExporter {
  url: string;
  port: number;
  token: string;
  stop: () => Promise<void>;
}

/** EXPORTER_MAIN is the exporter's entry; OM_EXPORTER_MAIN points elsewhere (a development wiring). */
const EXPORTER_MAIN = process.env.OM_EXPORTER_MAIN ?? path.resolve(__dirname, '../../exporter/src/main.ts');
/** STARTUP_TIMEOUT_MS bounds start-up including a 1 h backfill on busy shared cores. */
const STARTUP_TIMEOUT_MS = 120_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** startExporter runs the exporter with `args` added to a test setup (free port, temp data dir, token). */
export async function startExporter(args: string[] = []): Promise<RunningExporter> {
  if (!fs.existsSync(EXPORTER_MAIN)) {
    throw new Error(`the exporter is missing at ${EXPORTER_MAIN}`);
  }
  const port = await freePort();
  const token = `harness-${process.pid}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-harness-'));
  const tsx = require.resolve('tsx/cli');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      tsx,
      EXPORTER_MAIN,
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--api-token',
      token,
      '--log-level',
      'warn',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the exporter exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the exporter was not ready within ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, port, token, stop };
}
