/**
 * Helpers shared by the PromQL differential test and the query benchmark: fleet samples from the simulator,
 * the same samples as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`, a Prometheus 2.42
 * process on a free 127.0.0.1 port over those blocks, and our API over a store holding the same samples.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import pino from 'pino';
import { createPrometheusApiRouter, type PrometheusApiOptions } from '../src/api/prometheus/router.js';
import { Fleet, serverMetaLabels, serverMetaValues } from '../src/simulator/index.js';
import type { Appender, Labels } from '../src/tsdb/storage.js';
import { pollUntil } from './poll.js';

const run = promisify(execFile);

/** PROMETHEUS and PROMTOOL are Debian's binaries (package `prometheus`, 2.42). */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** FleetSeries is one series' samples. */
export interface FleetSeries {
  readonly labels: Labels;
  readonly timestamps: number[];
  readonly values: number[];
}

/** FleetSamplesOptions widen fleetSamples beyond the default 20-server fleet. */
export interface FleetSamplesOptions {
  /** fleet to run (default: the shipped 20 servers installed a day before `from`). */
  readonly fleet?: Fleet;
  /** since gives a series' first sample time (default `from`): long history only where it is read. */
  readonly since?: (labels: Labels) => number;
  /** meta adds every server's `openmanager_server_up` and `openmanager_server_info` (as the Ingestor does). */
  readonly meta?: boolean;
}

/**
 * fleetSamples runs the simulator over [from, to] at `stepMs` and returns the samples of the series `keep`
 * accepts; a down server simply has no samples (backfilled blocks cannot hold staleness markers).
 */
export function fleetSamples(
  from: number,
  to: number,
  stepMs: number,
  keep: (l: Labels) => boolean = () => true,
  opts: FleetSamplesOptions = {},
): FleetSeries[] {
  const fleet = opts.fleet ?? new Fleet({ epoch: from - 86_400_000 });
  const layout = fleet.layout;
  const idx: number[] = [];
  layout.series.forEach((s, i) => {
    if (keep(s.labels)) idx.push(i);
  });
  const out: FleetSeries[] = idx.map((i) => ({
    labels: layout.series[i]?.labels ?? {},
    timestamps: [],
    values: [],
  }));
  const since = idx.map((i) => opts.since?.(layout.series[i]?.labels ?? {}) ?? from);
  // meta[k] is server metaServer[k]'s up (metaKind 0) or info (1) series.
  const meta: FleetSeries[] = [];
  const metaServer: number[] = [];
  const metaKind: number[] = [];
  if (opts.meta)
    layout.servers.forEach((info, server) =>
      serverMetaLabels(info).forEach((labels, kind) => {
        if (!keep(labels)) return;
        meta.push({ labels, timestamps: [], values: [] });
        metaServer.push(server);
        metaKind.push(kind);
      }),
    );
  const metaSince = meta.map((s) => opts.since?.(s.labels) ?? from);
  for (const frame of fleet.frames(from, to, stepMs, { reuse: true })) {
    idx.forEach((i, k) => {
      const server = layout.series[i]?.server ?? 0;
      if (!frame.summaries[server]?.up || frame.t < (since[k] ?? from)) return;
      const v = frame.values[i] ?? NaN;
      if (Number.isNaN(v)) return;
      const s = out[k] as FleetSeries;
      s.timestamps.push(frame.t);
      s.values.push(v);
    });
    meta.forEach((s, k) => {
      if (frame.t < (metaSince[k] ?? from)) return;
      s.timestamps.push(frame.t);
      s.values.push(serverMetaValues(frame.summaries[metaServer[k] ?? 0])[metaKind[k] ?? 0] ?? NaN);
    });
  }
  return [...out, ...meta].filter((s) => s.timestamps.length > 0);
}

function omLabels(l: Labels): string {
  const parts = Object.keys(l)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}="${(l[k] ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/**
 * writeOpenMetrics writes the samples in [from, to) as OpenMetrics text with explicit timestamps (seconds
 * with ms decimals).
 */
export async function writeOpenMetrics(
  series: readonly FleetSeries[],
  file: string,
  from = -Infinity,
  to = Infinity,
): Promise<number> {
  let written = 0;
  const byName = new Map<string, FleetSeries[]>();
  for (const s of series) {
    const n = s.labels.__name__ ?? '';
    const list = byName.get(n);
    if (list) list.push(s);
    else byName.set(n, [s]);
  }
  const out = createWriteStream(file);
  const write = (chunk: string): Promise<void> =>
    new Promise((resolve) => {
      if (out.write(chunk)) resolve();
      else out.once('drain', () => resolve());
    });
  for (const [name, list] of byName) {
    await write(`# TYPE ${name} unknown\n`);
    for (const s of list) {
      const prefix = name + omLabels(s.labels) + ' ';
      let buf = '';
      for (let i = 0; i < s.timestamps.length; i++) {
        const t = s.timestamps[i] ?? 0;
        if (t < from || t >= to) continue;
        written++;
        buf += `${prefix}${String(s.values[i])} ${(t / 1000).toFixed(3)}\n`;
        if (buf.length > 1 << 16) {
          await write(buf);
          buf = '';
        }
      }
      await write(buf);
    }
  }
  await write('# EOF\n');
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return written;
}

/** BLOCK_MS is promtool's block range (2 h); 2.42's backfill re-reads its whole input once per block. */
const BLOCK_MS = 2 * 3_600_000;

/** appendAll writes the series into a store through its appender, committing in batches. */
export async function appendAll(appender: () => Appender, series: readonly FleetSeries[]): Promise<void> {
  let app = appender();
  let n = 0;
  for (const s of series) {
    let ref = 0;
    for (let i = 0; i < s.timestamps.length; i++) {
      ref = app.append(ref, s.labels, s.timestamps[i] ?? 0, s.values[i] ?? NaN);
      if (++n % 200_000 === 0) {
        await app.commit();
        app = appender();
        ref = 0;
      }
    }
  }
  await app.commit();
}

/** freePort asks the kernel for a free 127.0.0.1 port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** waitFor waits until `probe` says yes (a starting Prometheus); failures of the probe count as "not yet". */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await pollUntil(what, () => probe().catch(() => false), { timeoutMs, intervalMs: 100 });
}

/** PrometheusPeer is a running Prometheus over backfilled blocks. */
export interface PrometheusPeer {
  readonly base: string;
  stop(): Promise<void>;
}

/**
 * startPrometheus backfills `series` into a fresh data dir with promtool and starts Prometheus on it.
 * It fails with a clear message when Debian's prometheus package is missing.
 */
export async function startPrometheus(
  series: readonly FleetSeries[],
  log: (m: string) => void = () => undefined,
): Promise<PrometheusPeer> {
  for (const bin of [PROMETHEUS, PROMTOOL])
    if (!existsSync(bin)) throw new Error(`${bin} is missing: install Debian's prometheus package (2.42)`);
  const dir = mkdtempSync(join(tmpdir(), 'promql-peer-'));
  const om = join(dir, 'data.om');
  // One input file per 2 h block keeps the backfill linear in the number of samples.
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) {
    min = Math.min(min, s.timestamps[0] ?? Infinity);
    max = Math.max(max, s.timestamps[s.timestamps.length - 1] ?? -Infinity);
  }
  for (let w = Math.floor(min / BLOCK_MS) * BLOCK_MS; w <= max; w += BLOCK_MS) {
    if ((await writeOpenMetrics(series, om, w, w + BLOCK_MS)) === 0) continue;
    await run(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', om, join(dir, 'data')], {
      maxBuffer: 64 << 20,
    });
  }
  rmSync(om, { force: true });
  log('blocks created');
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
  const port = await freePort();
  const proc: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=3650d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--query.max-samples=50000000',
    ],
    { stdio: 'ignore' },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/-/ready`)).ok, 60_000, 'Prometheus to become ready');
  return {
    base,
    stop: async () => {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** ApiPeer is our API served in-process. */
export interface ApiPeer {
  readonly base: string;
  stop(): Promise<void>;
}

/** startOurApi serves the Prometheus API router on a free port under `/api/prometheus/api/v1`. */
export async function startOurApi(opts: Omit<PrometheusApiOptions, 'logger'>): Promise<ApiPeer> {
  const app = express();
  app.use(
    '/api/prometheus/api/v1',
    createPrometheusApiRouter({ logger: pino({ level: 'silent' }), ...opts }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/api/prometheus`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
