/**
 * RuleManager runs Prometheus rule files inside the exporter, so `/api/v1/rules` and `/api/v1/alerts` (and
 * Grafana's data-source-managed alert view) show real rules with `npm start` alone. It
 *
 * - loads the files a glob names (default: the shipped `rules/*.yml`), all-or-nothing: a file with an error
 *   is rejected with file, line and reason, and the rules that were running keep running;
 * - reloads on demand (SIGHUP, `POST /-/reload`) and when a file changes, taking over the state of rules
 *   that survive the reload, as Prometheus does;
 * - evaluates each group at the multiples of its interval on the simulated clock (`tick()` is driven by the
 *   scheduler), groups concurrently, the rules of a group in order, except that a group reading a series
 *   another group records waits for that group's evaluation: it always sees the recording of the same slot,
 *   live as in a replay, instead of whichever one a race between the two left in the store;
 * - replays rule evaluation over backfilled history at startup, and restores alerts' `for` progress from
 *   `ALERTS_FOR_STATE` after a restart, so an alert that was firing before a crash fires again without
 *   waiting `for` again;
 * - tells listeners about alert transitions (the hub's `alerts` channel, notifiers).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import type { Logger } from 'pino';
import { glob } from 'tinyglobby';
import { ParseCache, walkExpr, type Engine } from '../promql/index.js';
import type { Storage } from '../tsdb/storage.js';
import type { Clock } from '../util/clock.js';
import { METRIC_NAME, type Labels } from '../util/labels.js';
import {
  ALERTS_FOR_STATE_METRIC,
  ALERT_NAME,
  AlertingRule,
  type Alert,
  type AlertTransition,
  type OutputSample,
} from './alerting-rule.js';
import { RuleGroup, asVector } from './group.js';
import { RuleFileError, parseRuleFile, type GroupSpec } from './rule-file.js';
import { removeGroup, type RuleMetrics } from './rule-metrics.js';

/** RuleTemplates compiles and expands the template language of labels and annotations. */
export interface RuleTemplates<T> {
  /** compile throws an Error whose message says what is wrong (unknown function, syntax). */
  compile(name: string, text: string): T;
  expand(template: T, data: TemplateData, opts: TemplateOptions): Promise<string>;
}

/** TemplateData is what `$labels`, `$externalLabels` and `$value` refer to. */
export interface TemplateData {
  readonly labels: Labels;
  readonly externalLabels: Labels;
  readonly value: number;
}

/** TemplateOptions are the evaluation context of a template (the `query` function runs at `timestamp`). */
export interface TemplateOptions {
  readonly timestamp: number;
  readonly externalURL: string;
  readonly query: (q: string) => Promise<OutputSample[]>;
}

/** RuleManagerOptions configure the manager. */
export interface RuleManagerOptions {
  /** ruleFiles are globs of rule files (relative to `cwd`). */
  readonly ruleFiles: readonly string[];
  readonly cwd: string;
  /** evaluationIntervalMs is the interval of groups that set none (Prometheus's global evaluation_interval). */
  readonly evaluationIntervalMs: number;
  readonly externalLabels: Labels;
  /** externalURL returns `$externalURL`, the base of alert links (known once the server listens). */
  readonly externalURL: () => string;
  /** watch reloads when a rule file changes (default true). */
  readonly watch?: boolean;
  /** expandAnnotations expands annotation templates at every evaluation (default true; see GroupDeps). */
  readonly expandAnnotations?: boolean;
  /** replayChunkSteps is the steps of one replay range query (see GroupDeps). */
  readonly replayChunkSteps?: number;
}

/** RuleManagerDeps are the manager's injected parts. */
export interface RuleManagerDeps<T> {
  readonly engine: Engine;
  readonly storage: Storage;
  /** clock is simulated time: evaluation timestamps come from it. */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: RuleMetrics;
  readonly templates: RuleTemplates<T>;
}

/** ReloadResult says what a load did. */
export type ReloadResult =
  | { readonly ok: true; readonly files: number; readonly groups: number; readonly rules: number }
  | { readonly ok: false; readonly errors: readonly RuleFileError[] };

/** TransitionListener hears alert state changes of live evaluations. */
export type TransitionListener = (event: {
  readonly group: string;
  readonly file: string;
  readonly ts: number;
  readonly transitions: readonly AlertTransition[];
}) => void;

/** OUTAGE_TOLERANCE_MS is how far back `ALERTS_FOR_STATE` is looked for on restore (Prometheus: 1 h). */
const OUTAGE_TOLERANCE_MS = 3_600_000;
/** FOR_GRACE_PERIOD_MS is the least `for` time left to an alert restored while pending (Prometheus: 10 min). */
const FOR_GRACE_PERIOD_MS = 600_000;
/** REPLAY_CHUNK_MS is the stretch of history every group replays before the next stretch (12 h). */
const REPLAY_CHUNK_MS = 12 * 3_600_000;
/** WATCH_DEBOUNCE_MS collects an editor's burst of writes into one reload. */
const WATCH_DEBOUNCE_MS = 300;

/** RuleManager owns the loaded groups. */
export class RuleManager<T> {
  private groups: RuleGroup<T>[] = [];
  /** order is `groups` in dependency order, with the groups each one reads recordings of (set on swap). */
  private order: { group: RuleGroup<T>; needs: readonly RuleGroup<T>[] }[] = [];
  private files: string[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private readonly scheduledUpTo = new Map<string, number>();
  private readonly listeners: TransitionListener[] = [];
  private watchers: FSWatcher[] = [];
  private watchTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadResult> | undefined;
  private lastReload: ReloadResult | undefined;
  /** catchingUp is the background replay in flight; live ticks wait for it to catch up (see replayInBackground). */
  private catchingUp: Promise<void> | undefined;
  private closing = false;
  /** templateQueries are the parsed strings of templates' `query` calls, the same ones every evaluation. */
  private readonly templateQueries = new ParseCache();

  constructor(
    readonly options: RuleManagerOptions,
    private readonly deps: RuleManagerDeps<T>,
  ) {}

  /** onTransitions registers a listener; returns the function that removes it. */
  onTransitions(listener: TransitionListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** loadedGroups are the groups now running, in file and file order. */
  loadedGroups(): readonly RuleGroup<T>[] {
    return this.groups;
  }

  /** lastReloadResult is what the last load said (undefined before the first). */
  lastReloadResult(): ReloadResult | undefined {
    return this.lastReload;
  }

  /**
   * reload reads every rule file again and swaps the groups in when all of them are valid; concurrent calls
   * share one reload. Never throws: errors are in the result and the log.
   */
  reload(): Promise<ReloadResult> {
    this.reloading ??= this.load().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async load(): Promise<ReloadResult> {
    const { metrics, logger } = this.deps;
    let result: ReloadResult;
    try {
      const files = await this.resolveFiles();
      const specs: GroupSpec<T>[] = [];
      const errors: RuleFileError[] = [];
      for (const file of files) {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (err) {
          errors.push(new RuleFileError(this.display(file), 1, 1, `cannot read: ${(err as Error).message}`));
          continue;
        }
        const parsed = await parseRuleFile(this.display(file), text, (name, t) =>
          this.deps.templates.compile(name, t),
        );
        errors.push(...parsed.errors);
        specs.push(...parsed.groups);
      }
      if (errors.length > 0) {
        result = { ok: false, errors };
      } else {
        this.swap(specs);
        this.files = files;
        result = {
          ok: true,
          files: files.length,
          groups: specs.length,
          rules: specs.reduce((n, g) => n + g.rules.length, 0),
        };
      }
    } catch (err) {
      result = { ok: false, errors: [new RuleFileError('(rule files)', 1, 1, (err as Error).message)] };
    }
    this.lastReload = result;
    metrics.reloadSuccessful.set(result.ok ? 1 : 0);
    metrics.reloads.inc({ result: result.ok ? 'success' : 'failure' });
    if (result.ok) logger.info({ ...result }, 'rules loaded');
    else
      logger.error(
        { errors: result.errors.map((e) => e.message) },
        'rule files rejected; the previous rules keep running',
      );
    if (this.options.watch !== false) this.rewatch();
    return result;
  }

  private async resolveFiles(): Promise<string[]> {
    const found = await glob([...this.options.ruleFiles], { cwd: this.options.cwd, absolute: true });
    return found.sort();
  }

  private display(file: string): string {
    const rel = relative(this.options.cwd, file);
    return rel.startsWith('..') ? file : rel;
  }

  /** swap replaces the running groups, carrying state over to groups (and rules) that keep their identity. */
  private swap(specs: readonly GroupSpec<T>[]): void {
    const old = new Map(this.groups.map((g) => [g.key, g]));
    const next = specs.map((spec) => {
      const g = new RuleGroup(spec, spec.intervalMs ?? this.options.evaluationIntervalMs, {
        engine: this.deps.engine,
        storage: this.deps.storage,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        expandTemplate: (t, labels, value, ts) => this.expand(t, labels, value, ts),
        ...(this.options.expandAnnotations !== undefined && {
          expandAnnotations: this.options.expandAnnotations,
        }),
        ...(this.options.replayChunkSteps !== undefined && {
          replayChunkSteps: this.options.replayChunkSteps,
        }),
        onTransitions: (group, ts, transitions) => this.emit(group, ts, transitions),
      });
      const prev = old.get(g.key);
      if (prev) {
        g.copyStateFrom(prev);
        old.delete(g.key);
      }
      return g;
    });
    for (const gone of old.values()) {
      removeGroup(this.deps.metrics, gone.key);
      this.scheduledUpTo.delete(gone.key);
    }
    this.groups = next;
    const deps = groupDependencies(next);
    this.order = dependencyOrder(next).map((group) => ({ group, needs: [...(deps.get(group) ?? [])] }));
  }

  private async expand(t: T, labels: Labels, value: number, ts: number): Promise<string> {
    try {
      return await this.deps.templates.expand(
        t,
        { labels, externalLabels: this.options.externalLabels, value },
        {
          timestamp: ts,
          externalURL: this.options.externalURL(),
          query: async (q) =>
            asVector(
              (await this.deps.engine.instantQuery(this.deps.storage, this.templateQueries.parse(q), ts))
                .result,
            ),
        },
      );
    } catch (err) {
      return `<error expanding template: ${(err as Error).message}>`;
    }
  }

  private emit(group: RuleGroup<T>, ts: number, transitions: readonly AlertTransition[]): void {
    for (const l of this.listeners) {
      try {
        l({ group: group.spec.name, file: group.spec.file, ts, transitions });
      } catch (err) {
        this.deps.logger.error({ err }, 'alert transition listener failed');
      }
    }
  }

  /**
   * tick evaluates every group whose slot has come by `now` (simulated ms; default the clock): the latest
   * multiple of its interval not evaluated yet. A group still running from its previous slot misses this
   * one (counted). The exporter calls it after each frame is stored, so rules always see that frame.
   *
   * Groups start in dependency order and run concurrently, but a group first waits for the runs (of this
   * slot, or one still in progress) of the groups whose recordings it reads. Waiting only on runs started
   * before it, it cannot deadlock, even in a cycle (dependencyOrder breaks those in file order).
   */
  async tick(now: number = this.deps.clock.now()): Promise<void> {
    // While a background replay catches up, it evaluates these slots itself, in order.
    if (this.catchingUp) return;
    const due: Promise<void>[] = [];
    for (const { group: g, needs } of this.order) {
      const slot = Math.floor(now / g.intervalMs) * g.intervalMs;
      const last = this.scheduledUpTo.get(g.key) ?? g.lastEvaluation ?? -Infinity;
      if (slot <= last) continue;
      const label = { rule_group: g.key };
      // Slots skipped since the last scheduled one were missed (a stalled process, or a slow group).
      if (last !== -Infinity) {
        const skipped = Math.round((slot - last) / g.intervalMs) - 1;
        if (skipped > 0) {
          this.deps.metrics.missed.inc(label, skipped);
          this.deps.metrics.iterations.inc(label, skipped);
        }
      }
      this.scheduledUpTo.set(g.key, slot);
      if (this.running.has(g.key)) {
        this.deps.metrics.missed.inc(label);
        this.deps.metrics.iterations.inc(label);
        continue;
      }
      const producers = needs.flatMap((p) => this.running.get(p.key) ?? []);
      const run = (
        producers.length === 0 ? g.evaluate(slot) : Promise.all(producers).then(() => g.evaluate(slot))
      ).finally(() => {
        this.running.delete(g.key);
      });
      this.running.set(g.key, run);
      due.push(run);
    }
    await Promise.all(due);
  }

  /** lastEvaluation is the newest evaluation time of any group (ms), for resuming a replay after a restart. */
  lastEvaluation(): number | undefined {
    let last: number | undefined;
    for (const g of this.groups)
      if (g.lastEvaluation !== undefined && (last === undefined || g.lastEvaluation > last))
        last = g.lastEvaluation;
    return last;
  }

  /**
   * replay evaluates every group over (from, to] as it would have run live (history from a backfill, or the
   * gap of a restart), after restoring alert state as of `from`. Groups already evaluated past a point (a
   * reload during the replay) start there.
   */
  async replay(from: number, to: number, opts: { restore?: boolean } = {}): Promise<void> {
    if (opts.restore !== false) await this.restoreForState(from);
    // Chunk by chunk, groups in dependency order: a group whose rules read a series another group records
    // (cpu alerts on server:…:avg) replays each stretch after that group has recorded it, as live evaluation
    // would have found it.
    const order = this.order.map((o) => o.group);
    for (let chunkStart = from; chunkStart < to; chunkStart += REPLAY_CHUNK_MS) {
      const chunkEnd = Math.min(to, chunkStart + REPLAY_CHUNK_MS);
      for (const g of order) {
        const start = Math.max(chunkStart, g.lastEvaluation ?? -Infinity);
        if (this.closing) return;
        if (start < chunkEnd) await g.replay(start, chunkEnd);
      }
    }
    for (const g of this.groups) this.scheduledUpTo.set(g.key, Math.floor(to / g.intervalMs) * g.intervalMs);
  }

  /**
   * replayInBackground replays (from, storedUpTo()] and then, round after round, what was stored while it ran,
   * until it has caught up; live ticks are ignored until then (the replay evaluates those slots itself), so
   * every slot is evaluated once and in order. A week of history takes minutes to replay: running it in the
   * background lets the exporter serve and be ready meanwhile. The returned promise resolves once live
   * evaluation has taken over (or the manager closed); it never rejects (a failed round is logged).
   */
  replayInBackground(from: number, storedUpTo: () => number): Promise<void> {
    const run = async (): Promise<void> => {
      let done = from;
      for (let round = 0; !this.closing; round++) {
        const end = storedUpTo();
        // Checked and cleared with no await in between: a frame stored later is evaluated live.
        if (end <= done) return;
        await this.replay(done, end, { restore: round === 0 });
        done = end;
      }
    };
    this.catchingUp = run()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'rule replay failed; live evaluation goes on'))
      .finally(() => {
        this.catchingUp = undefined;
      });
    return this.catchingUp;
  }

  /** idle resolves once no group evaluation is running (live ticks are not awaited by the frame pipeline). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** whenCaughtUp resolves once no background replay is running. */
  whenCaughtUp(): Promise<void> {
    return this.catchingUp ?? Promise.resolve();
  }

  /**
   * restoreForState is Prometheus's restore after a restart: each alerting rule with `for` is evaluated at
   * `ts`, and each alert it returns takes back its activeAt from the newest `ALERTS_FOR_STATE` sample in the
   * last hour. An alert that had already fired fires again at its next evaluation; one that was pending
   * keeps the pending time it had (plus at least a grace period of 10 min, as Prometheus gives).
   */
  async restoreForState(ts: number): Promise<void> {
    const { engine, storage } = this.deps;
    for (const g of this.groups) {
      for (const r of g.rules) {
        const rule = r.rule;
        if (!(rule instanceof AlertingRule) || rule.spec.forMs === 0 || rule.active.size > 0) continue;
        try {
          const res = await engine.instantQuery(storage, rule.spec.expr, ts - g.spec.queryOffsetMs);
          const candidates = await rule.expand(asVector(res.result), (t, labels, value) =>
            this.expand(t, labels, value, ts),
          );
          rule.update(ts, candidates, 0);
          for (const a of rule.active.values()) await this.restoreAlert(a, rule.spec.forMs, ts);
        } catch (err) {
          this.deps.logger.warn(
            { rule: rule.name, err: (err as Error).message },
            'restoring alert state failed',
          );
        }
      }
    }
  }

  private async restoreAlert(a: Alert, forMs: number, ts: number): Promise<void> {
    const q = await this.deps.storage.querier(ts - OUTAGE_TOLERANCE_MS, ts);
    const matchers = Object.entries({ ...a.labels, [METRIC_NAME]: ALERTS_FOR_STATE_METRIC }).map(
      ([name, value]) => ({ type: '=' as const, name, value }),
    );
    const data = await q.select(matchers, { start: ts - OUTAGE_TOLERANCE_MS, end: ts });
    // The series with exactly this alert's labels (no more: another alert's labels may be a superset).
    const s = data.find((d) => Object.keys(d.labels).length === matchers.length);
    const n = s?.values.length ?? 0;
    if (!s || n === 0) return;
    let k = n - 1;
    while (k >= 0 && Number.isNaN(s.values[k])) k--; // skip staleness markers
    if (k < 0) return;
    const downAt = s.timestamps[k] as number;
    let activeAt = (s.values[k] as number) * 1000;
    const spentPending = downAt - activeAt;
    const remaining = forMs - spentPending;
    if (remaining > 0) {
      activeAt =
        remaining < FOR_GRACE_PERIOD_MS ? ts + FOR_GRACE_PERIOD_MS - forMs : activeAt + (ts - downAt);
    }
    a.activeAt = activeAt;
    if (a.state === 'firing' && ts - activeAt < forMs) {
      a.state = 'pending';
      a.firedAt = undefined;
    }
  }

  /** alerts lists every pending and firing alert with its group and rule (for the API and the hub). */
  alerts(): { group: RuleGroup<T>; rule: AlertingRule<T>; alert: Alert }[] {
    const out: { group: RuleGroup<T>; rule: AlertingRule<T>; alert: Alert }[] = [];
    for (const group of this.groups)
      for (const r of group.rules)
        if (r.rule instanceof AlertingRule)
          for (const alert of r.rule.active.values())
            if (alert.state !== 'inactive') out.push({ group, rule: r.rule, alert });
    return out;
  }

  /** firingFor returns the firing alerts whose `server` label is `server` (unified metrics, /api/servers). */
  firingFor(server: string): { name: string; severity: string }[] {
    return this.alerts()
      .filter((a) => a.alert.state === 'firing' && a.alert.labels.server === server)
      .map((a) => ({
        name: a.alert.labels[ALERT_NAME] ?? a.rule.name,
        severity: a.alert.labels.severity ?? '',
      }));
  }

  private rewatch(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    const dirs = new Set(this.files.map((f) => dirname(f)));
    for (const pattern of this.options.ruleFiles) dirs.add(dirname(`${this.options.cwd}/${pattern}`));
    for (const dir of dirs) {
      try {
        const w = watch(dir, () => this.scheduleReload());
        w.on('error', () => w.close());
        w.unref();
        this.watchers.push(w);
      } catch {
        // A directory that does not exist (yet) is not watched; SIGHUP and POST /-/reload still work.
      }
    }
  }

  private scheduleReload(): void {
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => {
      this.watchTimer = undefined;
      void this.reload();
    }, WATCH_DEBOUNCE_MS);
    this.watchTimer.unref();
  }

  /** close stops watching files and waits for evaluations in flight (they append to the store). */
  async close(): Promise<void> {
    this.closing = true;
    await this.catchingUp;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.watchTimer) clearTimeout(this.watchTimer);
    await Promise.allSettled([...this.running.values()]);
  }
}

/**
 * groupDependencies maps each group to the other groups that record a series its rules read (by metric
 * name).
 */
export function groupDependencies<T>(
  groups: readonly RuleGroup<T>[],
): Map<RuleGroup<T>, ReadonlySet<RuleGroup<T>>> {
  const recordedBy = new Map<string, RuleGroup<T>>();
  for (const g of groups) for (const r of g.spec.rules) if (r.kind === 'record') recordedBy.set(r.name, g);
  const deps = new Map<RuleGroup<T>, ReadonlySet<RuleGroup<T>>>();
  for (const g of groups) {
    const needs = new Set<RuleGroup<T>>();
    for (const r of g.spec.rules)
      walkExpr(r.expr, (n) => {
        if (n.type !== 'VectorSelector') return;
        for (const m of n.matchers) {
          const producer = m.name === METRIC_NAME && m.type === '=' ? recordedBy.get(m.value) : undefined;
          if (producer && producer !== g) needs.add(producer);
        }
      });
    deps.set(g, needs);
  }
  return deps;
}

/**
 * dependencyOrder sorts groups so that a group recording a series comes before every group whose rules read
 * it (groupDependencies); otherwise, and within a cycle, file order is kept. Live ticks and replay both
 * evaluate in this order.
 */
export function dependencyOrder<T>(groups: readonly RuleGroup<T>[]): RuleGroup<T>[] {
  const deps = groupDependencies(groups);
  const out: RuleGroup<T>[] = [];
  const state = new Map<RuleGroup<T>, 'visiting' | 'done'>();
  const visit = (g: RuleGroup<T>): void => {
    if (state.get(g) !== undefined) return; // done, or a cycle: keep the order reached
    state.set(g, 'visiting');
    for (const d of deps.get(g) ?? []) visit(d);
    state.set(g, 'done');
    out.push(g);
  };
  for (const g of groups) visit(g);
  return out;
}
