/**
 * Silences, as Alertmanager keeps them: a set of label matchers and a time window; an alert whose labels match
 * every matcher of a silence in force is not notified (it stays in its group, and is notified again once the
 * silence ends). A silence is `pending` before startsAt, `active` until endsAt, then `expired`; DELETE expires
 * it at once. Expired silences are kept SILENCE_RETENTION_MS for inspection, then forgotten. They persist in
 * `<dataDir>/notify/silences.json`, so a restart keeps them.
 */
import { randomUUID } from 'node:crypto';
import type { Silence, SilenceMatcher } from '../contract/notifications.js';
import type { Clock } from '../util/clock.js';
import { JsonStateFile } from '../util/json-state-file.js';
import type { Labels } from '../util/labels.js';
import { compile, type LabelMatcher } from './matchers.js';

/** SILENCE_RETENTION_MS is how long an expired silence stays listed (Alertmanager's default: 120 h). */
export const SILENCE_RETENTION_MS = 120 * 3_600_000;

/** MAX_SILENCES bounds the silences kept (a client creating them in a loop cannot grow memory without end). */
export const MAX_SILENCES = 10_000;

/** SILENCES_FILE is the silences' file under `<dataDir>/notify/`. */
export const SILENCES_FILE = 'silences.json';

/** StoredSilence is a silence as kept (times in ms). */
interface StoredSilence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAt: number;
  endsAt: number;
  updatedAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

/** NewSilence is what `create` takes (times in ms). */
export interface NewSilence {
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

/** toMatcher turns an API matcher (isRegex, isEqual) into a compiled one; throws on a bad regex. */
export function toMatcher(m: SilenceMatcher): LabelMatcher {
  const type = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return compile({ type, name: m.name, value: m.value });
}

/** SilenceStore holds the silences. */
export class SilenceStore {
  private readonly silences = new Map<string, { s: StoredSilence; matchers: LabelMatcher[] }>();

  private constructor(
    private readonly clock: Clock,
    private readonly file: JsonStateFile | undefined,
  ) {}

  /** open loads the silences saved under `dir` (undefined: kept in memory only). */
  static open(dir: string | undefined, clock: Clock): SilenceStore {
    const file = dir === undefined ? undefined : new JsonStateFile(dir, SILENCES_FILE);
    const store = new SilenceStore(clock, file);
    const saved = file?.load() as { silences?: StoredSilence[] } | undefined;
    for (const s of saved?.silences ?? [])
      store.silences.set(s.id, { s, matchers: s.matchers.map(toMatcher) });
    return store;
  }

  /** create adds a silence and returns its id; throws an Error naming a bad regex. */
  async create(n: NewSilence): Promise<string> {
    const matchers = n.matchers.map(toMatcher);
    this.gc();
    if (this.silences.size >= MAX_SILENCES)
      throw new Error(
        `there are already ${MAX_SILENCES} silences; expire some with DELETE /api/silences/<id>`,
      );
    const id = randomUUID();
    const s: StoredSilence = { ...n, matchers: [...n.matchers], id, updatedAt: this.clock.now() };
    this.silences.set(id, { s, matchers });
    await this.save();
    return id;
  }

  /** expire ends a silence now; false when there is no such silence. */
  async expire(id: string): Promise<boolean> {
    const entry = this.silences.get(id);
    if (!entry) return false;
    const now = this.clock.now();
    if (entry.s.endsAt > now) {
      entry.s.endsAt = Math.max(entry.s.startsAt, now);
      entry.s.updatedAt = now;
      await this.save();
    }
    return true;
  }

  /** isSilenced tells whether an active silence matches `labels` at `now`. */
  isSilenced(labels: Labels, now = this.clock.now()): boolean {
    for (const { s, matchers } of this.silences.values()) {
      if (now < s.startsAt || now >= s.endsAt) continue;
      if (matchers.every((m) => m.matches(labels))) return true;
    }
    return false;
  }

  /** list returns every silence kept, as the API shows it, newest first. */
  list(): Silence[] {
    this.gc();
    return [...this.silences.values()]
      .map(({ s }) => this.view(s))
      .sort((a, b) => (a.startsAt < b.startsAt ? 1 : a.startsAt > b.startsAt ? -1 : 0));
  }

  /** get returns one silence, or undefined. */
  get(id: string): Silence | undefined {
    const e = this.silences.get(id);
    return e ? this.view(e.s) : undefined;
  }

  private view(s: StoredSilence): Silence {
    const now = this.clock.now();
    const state = now < s.startsAt ? 'pending' : now < s.endsAt ? 'active' : 'expired';
    return {
      id: s.id,
      matchers: [...s.matchers],
      startsAt: new Date(s.startsAt).toISOString(),
      endsAt: new Date(s.endsAt).toISOString(),
      updatedAt: new Date(s.updatedAt).toISOString(),
      createdBy: s.createdBy,
      comment: s.comment,
      status: { state },
    };
  }

  /** gc forgets silences expired longer than the retention. */
  private gc(): void {
    const cutoff = this.clock.now() - SILENCE_RETENTION_MS;
    for (const [id, { s }] of this.silences) if (s.endsAt < cutoff) this.silences.delete(id);
  }

  private async save(): Promise<void> {
    await this.file?.save({ silences: [...this.silences.values()].map((e) => e.s) });
  }
}
