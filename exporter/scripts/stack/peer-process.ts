/**
 * PeerProcess runs one program of the Docker-free stack (redis-server, the exporter, prometheus,
 * prometheus-alertmanager) as a child in its own process group, its output appended to a log file, and stops
 * it with SIGTERM, then SIGKILL after a bound. The stack, not the terminal, decides the order in which
 * children stop (Prometheus before the exporter before Redis), so Ctrl-C reaches only the stack script.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createConnection } from 'node:net';

/** STOP_TIMEOUT_MS bounds a graceful stop; the exporter's own graceful-stop bound is 15 s. */
const STOP_TIMEOUT_MS = 20_000;

/** LOG_TAIL_BYTES is how much of a log a failure message quotes. */
const LOG_TAIL_BYTES = 4_000;

/** findBinary returns the absolute path of `name` on PATH, or undefined. */
export function findBinary(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** ExitStatus is how a child ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** PeerSpec says how to start one peer. */
export interface PeerSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logFile: string;
}

const live = new Set<PeerProcess>();
process.on('exit', () => {
  for (const p of live) p.killNow();
});

/** PeerProcess is one running peer. */
export class PeerProcess {
  private status: ExitStatus | undefined;
  /** exited resolves when the child has ended, however it ended. */
  readonly exited: Promise<ExitStatus>;
  private stopping: Promise<ExitStatus> | undefined;

  private constructor(
    readonly spec: PeerSpec,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        live.delete(this);
        this.status = { code, signal };
        resolve(this.status);
      });
    });
  }

  /** start spawns the peer in its own process group with stdout and stderr appended to its log file. */
  static start(spec: PeerSpec): PeerProcess {
    const fd = openSync(spec.logFile, 'a');
    try {
      const child = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      const p = new PeerProcess(spec, child);
      live.add(p);
      child.once('error', () => undefined);
      return p;
    } finally {
      closeSync(fd);
    }
  }

  /** pid is the child's process id (also its process group id). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** alive tells whether the child still runs. */
  alive(): boolean {
    return this.status === undefined;
  }

  /** describe names the peer, how it ended if it did, and the end of its log. */
  describe(): string {
    const state = this.status
      ? `exited (code ${String(this.status.code)}, signal ${String(this.status.signal)})`
      : `running (pid ${this.pid})`;
    let tail = '';
    try {
      tail = readFileSync(this.spec.logFile, 'utf8').slice(-LOG_TAIL_BYTES);
    } catch {
      tail = '(no log)';
    }
    return `${this.spec.name} ${state}; end of ${this.spec.logFile}:\n${tail}`;
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      // The whole group: a shell wrapper's children too.
      process.kill(-this.pid, sig);
    } catch {
      // already gone
    }
  }

  /** killNow sends SIGKILL to the peer's process group at once. */
  killNow(): void {
    if (this.alive()) this.signal('SIGKILL');
  }

  /** stop sends SIGTERM and, after `timeoutMs`, SIGKILL; resolves when the child has exited. */
  stop(timeoutMs = STOP_TIMEOUT_MS): Promise<ExitStatus> {
    this.stopping ??= (async () => {
      if (this.alive()) {
        this.signal('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            this.killNow();
            resolve();
          }, timeoutMs);
        });
        await Promise.race([this.exited, bound]);
        clearTimeout(timer);
      }
      return this.exited;
    })();
    return this.stopping;
  }
}

/** waitFor re-runs `probe` every `intervalMs` until it is true; fails after `timeoutMs` or when `peer` exits. */
export async function waitFor(
  what: string,
  peer: PeerProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (!peer.alive()) throw new Error(`${what}: ${peer.describe()}`);
    try {
      if (await probe()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs / 1000} s${last ? ` (${last})` : ''}\n${peer.describe()}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** httpOk tells whether GET `url` answers 2xx within 5 s. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  return res.ok;
}

/** redisPong tells whether a Redis at host:port answers PING with PONG. */
export function redisPong(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let seen = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('\r\n')) done(seen.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}
