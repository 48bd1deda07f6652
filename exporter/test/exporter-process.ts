/**
 * ExporterProcess runs the real exporter as a child process for tests, benchmarks and the fuzzer: `src/main.ts`
 * under tsx (or the esbuild bundle `npm start` runs), port 0 with the URL read from its "listening on" log line,
 * a temporary data dir, short ticks and no backfill unless asked. It keeps the tail of the child's output for
 * failure messages, parses its /metrics, and stops it with SIGTERM, then SIGKILL after a bound, so a hung
 * exporter never hangs the caller. A memory watchdog kills a child whose resident size runs away; children
 * still running when the calling process exits are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExposition, type ParsedFamily } from './exposition-parser.js';

/** EXPORTER_DIR is the exporter workspace (the child's working directory). */
export const EXPORTER_DIR = fileURLToPath(new URL('..', import.meta.url));

/** BUNDLE_MAIN is the esbuild bundle `npm start` runs (built by the workspace's `prestart` script). */
export const BUNDLE_MAIN = join(EXPORTER_DIR, 'dist/src/main.js');

/** START_SCRIPT is exporter/package.json's `start` script: a bundle child runs exactly it (env, node flags). */
export const START_SCRIPT = (
  JSON.parse(readFileSync(join(EXPORTER_DIR, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts.start;

/**
 * startScriptSettings are the environment assignments and node flags of the `start` script (`npm start`), for
 * a child from source that should run as `npm start` runs the bundle.
 */
export function startScriptSettings(): { env: Record<string, string>; nodeFlags: string[] } {
  const env: Record<string, string> = {};
  const nodeFlags: string[] = [];
  for (const word of (START_SCRIPT ?? '').split(/\s+/)) {
    const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word);
    if (assignment) env[assignment[1] ?? ''] = assignment[2] ?? '';
    else if (word.startsWith('--')) nodeFlags.push(word);
  }
  return { env, nodeFlags };
}

/** PATH_WITH_BINS is PATH as npm sets it for scripts: the workspace's and the root's node_modules/.bin first. */
const PATH_WITH_BINS = [
  join(EXPORTER_DIR, 'node_modules/.bin'),
  join(EXPORTER_DIR, '../node_modules/.bin'),
  dirname(process.execPath),
  process.env.PATH ?? '',
].join(delimiter);

/** DEFAULT_STARTUP_TIMEOUT_MS bounds start-up to ready, including a short backfill on busy shared cores. */
const DEFAULT_STARTUP_TIMEOUT_MS = 120_000;

/** DEFAULT_STOP_TIMEOUT_MS is main.ts's own graceful-stop bound (15 s) plus margin before SIGKILL. */
const DEFAULT_STOP_TIMEOUT_MS = 20_000;

/** DEFAULT_TAIL_BYTES is how much of stdout and of stderr is kept for failure messages. */
const DEFAULT_TAIL_BYTES = 64 * 1024;

/**
 * DEFAULT_RSS_LIMIT_MB is far above a healthy exporter (~80 MB fresh, ~0.5 GB during a 7-day backfill) and
 * far below what a runaway query reaches before the kernel kills it (22 GB was seen while fuzzing).
 */
export const DEFAULT_RSS_LIMIT_MB = 4_096;

/** RSS_POLL_MS is how often the memory watchdog reads the child's resident size (a cheap /proc read). */
const RSS_POLL_MS = 250;

/** READY_POLL_MS is the /readyz polling period while waiting for readiness. */
const READY_POLL_MS = 100;

/** LISTENING is the log line app.ts writes once the server listens. */
const LISTENING = /listening on (http:\/\/[^"\s]+)/;

/** ExporterProcessOptions configures one child; every field has a default suited to tests. */
export interface ExporterProcessOptions {
  /**
   * entry: `tsx` runs src/main.ts (default); `bundle` runs package.json's `start` script (dist/src/main.js with
   * npm start's environment and node flags; build it first with `npm run prestart -w exporter`).
   */
  readonly entry?: 'tsx' | 'bundle';
  /** args are extra command-line flags, appended last (flags win over env vars and over the defaults here). */
  readonly args?: readonly string[];
  /** env is added to the parent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** backfill is `--backfill` (default `0`: no history, ready after the first tick). */
  readonly backfill?: string;
  /** tickSeconds is `--tick-seconds` (default 1, so a first tick and broadcasts come quickly). */
  readonly tickSeconds?: number;
  /** apiToken is `--api-token`: a string, or null for none (mutations refused). Default: a generated token. */
  readonly apiToken?: string | null;
  /** queryTimeout is `--query-timeout` (a duration such as `5s`), unset by default. */
  readonly queryTimeout?: string;
  /** logLevel must log at info or finer: the URL is read from an info line. Default `info`. */
  readonly logLevel?: 'info' | 'debug' | 'trace';
  /** dataDir is `--data-dir`; default a fresh temporary directory removed by stop(). */
  readonly dataDir?: string;
  /** waitReady waits until /readyz answers 200 before start() resolves (default true). */
  readonly waitReady?: boolean;
  readonly startupTimeoutMs?: number;
  /** stopTimeoutMs is how long stop() waits after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs?: number;
  /** tailBytes is how much of each output stream is kept. */
  readonly tailBytes?: number;
  /**
   * rssLimitMb: the child is killed (SIGKILL) when its resident memory exceeds this, so a runaway exporter
   * (a query that allocates without bound) fails its test instead of bringing the machine to the kernel's
   * OOM killer. Default DEFAULT_RSS_LIMIT_MB; 0 disables the watchdog.
   */
  readonly rssLimitMb?: number;
  /** maxOldSpaceMb is node's --max-old-space-size for the child (default: node's own limit). */
  readonly maxOldSpaceMb?: number;
  /**
   * nodeFlags are extra node flags for the child, e.g. `--cpu-prof` (which NODE_OPTIONS refuses); with the
   * bundle they go after the start script's own flags, just before the entry file.
   */
  readonly nodeFlags?: readonly string[];
}

/** ExitStatus is how a child ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Tail keeps the last `max` bytes written to it (as text). */
class Tail {
  private text = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > 2 * this.max) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.length > this.max ? this.text.slice(-this.max) : this.text;
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** killLiveChildrenOnExit makes sure no exporter outlives the process that started it (a crashed test run). */
function killLiveChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** ExporterProcess is one running exporter child process. */
export class ExporterProcess {
  private readonly stdout: Tail;
  private readonly stderr: Tail;
  private status: ExitStatus | undefined;
  private rssKill: { readonly rssMb: number; readonly limitMb: number } | undefined;
  private rssWatch: NodeJS.Timeout | undefined;
  private stopping: Promise<ExitStatus> | undefined;
  /** exited resolves when the child has ended, however it ended. */
  readonly exited: Promise<ExitStatus>;
  private urlValue = '';

  private constructor(
    private readonly child: ChildProcess,
    /** dataDir is the child's data directory. */
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    /** token is the API token the child was given, or null. */
    readonly token: string | null,
    private readonly options: ExporterProcessOptions,
  ) {
    const tailBytes = options.tailBytes ?? DEFAULT_TAIL_BYTES;
    this.stdout = new Tail(tailBytes);
    this.stderr = new Tail(tailBytes);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => this.stdout.push(d));
    child.stderr?.on('data', (d: string) => this.stderr.push(d));
    // 'close' rather than 'exit': it comes after the output streams ended, so the tails are complete.
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        live.delete(child);
        clearInterval(this.rssWatch);
        this.status = { code, signal };
        resolve(this.status);
      });
    });
  }

  /** watchMemory kills the child once its resident memory exceeds `limitMb` (Linux /proc; elsewhere a no-op). */
  private watchMemory(limitMb: number): void {
    if (limitMb <= 0) return;
    this.rssWatch = setInterval(() => {
      const rssMb = residentMb(this.pid);
      if (rssMb === undefined || rssMb <= limitMb || !this.alive()) return;
      this.rssKill = { rssMb, limitMb };
      clearInterval(this.rssWatch);
      this.child.kill('SIGKILL');
    }, RSS_POLL_MS);
    this.rssWatch.unref();
  }

  /** killedForMemory tells whether the watchdog killed the child for exceeding rssLimitMb. */
  get killedForMemory(): boolean {
    return this.rssKill !== undefined;
  }

  /**
   * start spawns an exporter, resolves once it listens (and, unless `waitReady: false`, once /readyz says
   * ready), and rejects with the child's output when it exits or does not come up in time.
   */
  static async start(options: ExporterProcessOptions = {}): Promise<ExporterProcess> {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'om-exporter-'));
    const token = options.apiToken === undefined ? `test-token-${process.pid}` : options.apiToken;
    const flags = [
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--backfill',
      options.backfill ?? '0',
      '--tick-seconds',
      String(options.tickSeconds ?? 1),
      '--log-level',
      options.logLevel ?? 'info',
      ...(token === null ? [] : ['--api-token', token]),
      ...(options.queryTimeout === undefined ? [] : ['--query-timeout', options.queryTimeout]),
      ...(options.args ?? []),
    ];
    const heap = options.maxOldSpaceMb === undefined ? [] : [`--max-old-space-size=${options.maxOldSpaceMb}`];
    let child: ChildProcess;
    if (options.entry === 'bundle') {
      if (!existsSync(BUNDLE_MAIN))
        throw new Error(`no bundle at ${BUNDLE_MAIN}; build it with \`npm run prestart -w exporter\``);
      if (START_SCRIPT === undefined) throw new Error('exporter/package.json has no start script');
      const script = withNodeFlags(START_SCRIPT, options.nodeFlags ?? []);
      // exec: the pid is node's (the memory watchdog and RSS readings look at it), as under npm start.
      child = spawn('sh', ['-c', `exec ${script} "$@"`, 'sh', ...flags], {
        cwd: EXPORTER_DIR,
        env: {
          ...process.env,
          PATH: PATH_WITH_BINS,
          ...(heap.length > 0 ? { NODE_OPTIONS: heap.join(' ') } : {}),
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } else {
      const nodeArgs = [...heap, ...(options.nodeFlags ?? [])];
      child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', ...flags], {
        cwd: EXPORTER_DIR,
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    }
    killLiveChildrenOnExit();
    live.add(child);
    const proc = new ExporterProcess(child, dataDir, ownsDataDir, token, options);
    proc.watchMemory(options.rssLimitMb ?? DEFAULT_RSS_LIMIT_MB);
    const deadline = Date.now() + (options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
    try {
      proc.urlValue = await proc.waitForUrl(deadline);
      if (options.waitReady !== false) await proc.waitReady(deadline - Date.now());
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return proc;
  }

  /** url is the exporter's base URL, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    return this.urlValue;
  }

  /** pid is the child's process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** exitCode is the child's exit code once it exited (null while it runs or when a signal ended it). */
  get exitCode(): number | null {
    return this.status?.code ?? null;
  }

  /** exitSignal is the signal that ended the child, if one did. */
  get exitSignal(): NodeJS.Signals | null {
    return this.status?.signal ?? null;
  }

  /** alive tells whether the child is still running. */
  alive(): boolean {
    return this.status === undefined;
  }

  /** stdoutTail is the end of the child's stdout (its JSON log). */
  stdoutTail(): string {
    return this.stdout.toString();
  }

  /** stderrTail is the end of the child's stderr (fatal errors, uncaught exceptions). */
  stderrTail(): string {
    return this.stderr.toString();
  }

  /** describe summarises the child for a failure message: how it ended and the last `tailChars` of each output. */
  describe(tailChars = 8_000): string {
    let state = this.status
      ? `exited (code ${String(this.status.code)}, signal ${String(this.status.signal)})`
      : `running (pid ${this.pid})`;
    if (this.rssKill)
      state += `; killed by the test harness: resident memory ${this.rssKill.rssMb} MB over the limit of ${this.rssKill.limitMb} MB`;
    return `exporter ${this.urlValue || '(no url yet)'} ${state}\n--- stderr tail ---\n${this.stderrTail().slice(-tailChars)}\n--- stdout tail ---\n${this.stdoutTail().slice(-tailChars)}`;
  }

  private waitForUrl(deadline: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let seen = '';
      const onData = (d: string): void => {
        seen += d;
        const m = LISTENING.exec(seen);
        if (m?.[1]) {
          done();
          resolve(m[1]);
        }
      };
      const timer = setTimeout(
        () => {
          done();
          reject(new Error(`the exporter logged no "listening on" line in time\n${this.describe()}`));
        },
        Math.max(0, deadline - Date.now()),
      );
      const onExit = (): void => {
        done();
        reject(new Error(`the exporter exited before listening\n${this.describe()}`));
      };
      const done = (): void => {
        clearTimeout(timer);
        this.child.stdout?.off('data', onData);
        this.child.off('close', onExit);
      };
      this.child.stdout?.on('data', onData);
      this.child.once('close', onExit);
    });
  }

  /** waitReady polls /readyz until it answers 200; rejects when the child exits or `timeoutMs` passes. */
  async waitReady(timeoutMs = DEFAULT_STARTUP_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.alive()) throw new Error(`the exporter exited while starting\n${this.describe()}`);
      try {
        const res = await fetch(`${this.urlValue}/readyz`, { signal: AbortSignal.timeout(5_000) });
        last = `${res.status} ${await res.text()}`;
        if (res.status === 200) return;
      } catch (err) {
        last = String(err);
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    throw new Error(
      `the exporter was not ready within ${timeoutMs} ms (last /readyz: ${last})\n${this.describe()}`,
    );
  }

  /** metrics fetches and strictly parses `/metrics` (text format), fleet and self-metrics together. */
  async metrics(timeoutMs = 10_000): Promise<Map<string, ParsedFamily>> {
    const res = await fetch(`${this.urlValue}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${body.slice(0, 500)}`);
    return parseExposition(body, 'text');
  }

  /**
   * stop sends SIGTERM, then SIGKILL when the child has not exited within the stop bound, and removes the
   * data dir it created. Safe to call more than once and after the child died.
   */
  stop(): Promise<ExitStatus> {
    this.stopping ??= (async () => {
      if (this.alive()) {
        this.child.kill('SIGTERM');
        const bound = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (this.alive()) this.child.kill('SIGKILL');
            resolve();
          }, bound);
        });
        await Promise.race([this.exited, killed]);
        clearTimeout(timer);
      }
      const status = await this.exited;
      if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
      return status;
    })();
    return this.stopping;
  }

  /** kill ends the child at once with SIGKILL (a stalled exporter), then cleans up as stop() does. */
  async kill(): Promise<ExitStatus> {
    if (this.alive()) this.child.kill('SIGKILL');
    return this.stop();
  }
}

/** BUNDLE_ENTRY is how the start script names the bundle it runs (node's flags come before it). */
const BUNDLE_ENTRY = 'dist/src/main.js';

/** withNodeFlags inserts node flags into the start script just before the bundle's file name. */
function withNodeFlags(script: string, nodeFlags: readonly string[]): string {
  if (nodeFlags.length === 0) return script;
  const at = script.lastIndexOf(BUNDLE_ENTRY);
  if (at < 0) throw new Error(`the start script does not run ${BUNDLE_ENTRY}: ${script}`);
  const quoted = nodeFlags.map((f) => `'${f.replaceAll("'", "'\\''")}'`).join(' ');
  return `${script.slice(0, at)}${quoted} ${script.slice(at)}`;
}

/** residentMb reads a process's resident set size in MB from /proc, or undefined where that is unavailable. */
export function residentMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Math.round(Number(m[1]) / 1024);
  } catch {
    return undefined;
  }
}

/** sampleValue returns the value of one sample of a parsed exposition (first match of `labels`), if any. */
export function sampleValue(
  families: ReadonlyMap<string, ParsedFamily>,
  family: string,
  sample: string = family,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const f = families.get(family);
  const s = f?.samples.find(
    (x) => x.name === sample && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value;
}
