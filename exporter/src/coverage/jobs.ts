/**
 * CoverageJobs runs alert coverage jobs for the HTTP API (`POST /api/coverage`): one at a time (a run keeps
 * both cores busy for a minute or more), each in a worker thread so the exporter's event loop — scrapes, the
 * hub, queries — never waits for it. A request's rule files arrive as YAML text and are written to a temporary
 * directory the job owns; without any, the exporter's own rule files are covered. The newest MAX_JOBS jobs are
 * kept in memory with their reports; the running job's progress is what `system-status` shows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CoverageJob, CoverageRequest } from '../contract/coverage.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { workerEntry } from '../util/worker-entry.js';
import type { JobMessage } from './job-worker.js';
import { CoverageError, type CoverageOptions } from './options.js';

/** MAX_JOBS is how many jobs (with their reports) are kept for `GET /api/coverage`. */
export const MAX_JOBS = 10;

/** CoverageJobsDeps are the runner's parts. */
export interface CoverageJobsDeps {
  /** ruleFiles are the exporter's rule file globs, covered when a request brings none; relative to `cwd`. */
  readonly ruleFiles: readonly string[];
  readonly cwd: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * simulationBusy names the other simulation running now (a drill on a separate clock), if any: a job is then
   * refused with COVERAGE_BUSY (both simulate a fleet of their own on worker threads; one at a time).
   */
  readonly simulationBusy?: () => string | undefined;
}

interface Running {
  readonly job: CoverageJob;
  readonly worker: Worker | undefined;
  readonly dir: string | undefined;
}

/** CoverageJobs keeps the jobs (see the file comment). */
export class CoverageJobs {
  private readonly jobs: CoverageJob[] = [];
  private running: Running | undefined;
  private seq = 0;

  constructor(private readonly deps: CoverageJobsDeps) {}

  /** current is the running job, if any (system-status). */
  current(): CoverageJob | undefined {
    return this.running && this.get(this.running.job.id);
  }

  /** list returns the kept jobs, newest first, without their reports. */
  list(): CoverageJob[] {
    return [...this.jobs].reverse().map((j) => ({ ...j, report: null }));
  }

  /** get returns one job, or undefined when it is not kept. */
  get(id: string): CoverageJob | undefined {
    return this.jobs.find((j) => j.id === id);
  }

  /** start begins a job for `request`; CoverageError COVERAGE_BUSY while another runs. */
  start(request: CoverageRequest): CoverageJob {
    if (this.running)
      throw new CoverageError('COVERAGE_BUSY', `coverage job "${this.running.job.id}" is still running`);
    const other = this.deps.simulationBusy?.();
    if (other !== undefined)
      throw new CoverageError(
        'COVERAGE_BUSY',
        `${other} is running; coverage jobs and drills on a separate clock run one at a time`,
      );
    const now = this.deps.clock.now();
    const job: CoverageJob = {
      id: `cov-${++this.seq}-${now}`,
      status: 'running',
      createdAt: now,
      finishedAt: null,
      request,
      progress: { simulatedMs: 0, totalMs: 0, phase: 'simulating' },
      error: null,
      report: null,
    };
    this.jobs.push(job);
    if (this.jobs.length > MAX_JOBS) this.jobs.splice(0, this.jobs.length - MAX_JOBS);
    let dir: string | undefined;
    let ruleFiles = [...this.deps.ruleFiles];
    if (request.rules && request.rules.length > 0) {
      dir = mkdtempSync(join(tmpdir(), 'om-coverage-'));
      for (const f of request.rules) writeFileSync(join(dir, f.name), f.yaml);
      ruleFiles = request.rules.map((f) => join(dir ?? '', f.name));
    }
    const options: Partial<CoverageOptions> = {
      ruleFiles,
      cwd: dir ?? this.deps.cwd,
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.servers === undefined ? {} : { servers: request.servers }),
      ...(request.kinds === undefined ? {} : { kinds: request.kinds }),
      ...(request.intensities === undefined ? {} : { intensities: request.intensities }),
      ...(request.repetitions === undefined ? {} : { repetitions: request.repetitions }),
      ...(request.minDays === undefined ? {} : { minDays: request.minDays }),
    };
    const spec = workerEntry(import.meta.url, 'job-worker', './coverage/job-worker.js');
    const worker = spec ? new Worker(spec.entry, { eval: spec.eval, workerData: options }) : undefined;
    this.running = { job, worker, dir };
    this.deps.logger.info({ id: job.id, rules: ruleFiles.length }, 'coverage job started');
    if (worker) {
      let settled = false;
      worker.on('message', (m: JobMessage) => {
        if (m.type === 'progress') this.update(job.id, { progress: m.progress });
        else {
          settled = true;
          this.finish(job.id, m.type === 'result' ? { report: m.report } : { error: m.message });
        }
      });
      worker.on('error', (err) => {
        settled = true;
        this.finish(job.id, { error: err.message });
      });
      worker.on('exit', (code) => {
        if (!settled) this.finish(job.id, { error: `the coverage worker exited with code ${code}` });
      });
    } else {
      // No worker entry (an unusual build): run in this thread, which yields only between its stretches.
      import('./run.js')
        .then(({ runCoverage }) => runCoverage(options, (progress) => this.update(job.id, { progress })))
        .then((report) => this.finish(job.id, { report }))
        .catch((err: unknown) =>
          this.finish(job.id, { error: err instanceof Error ? err.message : String(err) }),
        );
    }
    return job;
  }

  /** stop ends the running job (the exporter is shutting down). */
  async stop(): Promise<void> {
    const r = this.running;
    if (!r) return;
    this.finish(r.job.id, { error: 'the exporter stopped before the job finished' });
    await r.worker?.terminate();
  }

  private update(id: string, change: Partial<CoverageJob>): void {
    const i = this.jobs.findIndex((j) => j.id === id);
    const job = this.jobs[i];
    if (job) this.jobs[i] = { ...job, ...change };
  }

  private finish(id: string, outcome: { report: CoverageJob['report'] } | { error: string }): void {
    const r = this.running;
    if (!r || r.job.id !== id) return;
    this.running = undefined;
    if (r.dir) rmSync(r.dir, { recursive: true, force: true });
    const job = this.jobs.find((j) => j.id === id);
    const done = 'report' in outcome;
    this.update(id, {
      status: done ? 'done' : 'failed',
      finishedAt: this.deps.clock.now(),
      ...(done ? { report: outcome.report } : { error: outcome.error }),
      ...(done && job
        ? { progress: { ...job.progress, simulatedMs: job.progress.totalMs, phase: 'scoring' } }
        : {}),
    });
    const log = {
      id,
      status: done ? 'done' : 'failed',
      ...('error' in outcome ? { error: outcome.error } : {}),
    };
    this.deps.logger.info(log, 'coverage job ended');
  }
}
