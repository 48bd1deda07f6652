/**
 * RedisServerProcess runs a private `redis-server` child on 127.0.0.1 for tests and benchmarks that must stop
 * and restart Redis (outage tests) without touching the shared instance on 6379. Persistence is the AOF with
 * fsync on every write, so a restart keeps what Redis acknowledged, as a production Redis with AOF would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** REDIS_SERVER_BIN is Debian's redis-server path (the peer CI installs). */
export const REDIS_SERVER_BIN = '/usr/bin/redis-server';

/** READY_TIMEOUT_MS bounds how long a started server may take to answer PING (a cold start takes ~50 ms). */
const READY_TIMEOUT_MS = 10_000;

/** POLL_MS is the pause between readiness probes. */
const POLL_MS = 25;

/** freePort asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** RedisServerProcess is one private redis-server; start() it, stop()/restart() it, destroy() it. */
export class RedisServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: readonly string[],
  ) {}

  /** url is the redis:// URL of this server. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * start launches a server on a free port in a fresh temp dir and waits until it answers PING; `extraArgs`
   * are appended to the command line (e.g. `--cluster-enabled yes`).
   */
  static async start(extraArgs: readonly string[] = []): Promise<RedisServerProcess> {
    if (!existsSync(REDIS_SERVER_BIN)) {
      throw new Error(
        `${REDIS_SERVER_BIN} is missing: install the Debian package redis-server (see .ci/run)`,
      );
    }
    const server = new RedisServerProcess(
      await freePort(),
      mkdtempSync(join(tmpdir(), 'om-redis-')),
      extraArgs,
    );
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      REDIS_SERVER_BIN,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--logfile',
        join(this.dir, 'redis.log'),
        ...this.extraArgs,
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await ping(this.port))) {
      if (child.exitCode !== null)
        throw new Error(
          `redis-server on port ${this.port} exited with ${child.exitCode}; see ${this.dir}/redis.log`,
        );
      if (Date.now() > deadline)
        throw new Error(`redis-server on port ${this.port} not ready after ${READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** stop sends SIGTERM and resolves when the process has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await this.exited;
    this.child = undefined;
  }

  /** restart starts the server again on the same port and data dir. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** restartEmpty restarts the server after deleting its data, as a Redis without persistence would come back. */
  async restartEmpty(): Promise<void> {
    await this.stop();
    for (const f of readdirSync(this.dir)) {
      if (f !== 'redis.log') rmSync(join(this.dir, f), { recursive: true, force: true });
    }
    await this.launch();
  }

  /** destroy stops the server and removes its data dir. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
