/**
 * The outbox: notifications are recorded here before they are sent and removed once the receiver has
 * acknowledged them, so none is lost to a crash, a restart or a receiver that is down (at-least-once: a crash
 * between a send and its acknowledgement sends that notification again, with the same idempotency key).
 *
 * Contract (every Outbox implementation):
 * - `add` resolves only once the entries are durable; entries get increasing ids, and `pending(receiver)`
 *   lists a receiver's entries in id order, which is the order they must be delivered in.
 * - `ack` and `deadLetter` remove an entry from `pending`; a dead letter is kept (the newest
 *   MAX_DEAD_LETTERS of them) for inspection with the reason it died.
 * - After a reopen, `pending` is every entry added and not acked or dead-lettered, in the same order, and
 *   new ids continue above every id used before.
 *
 * FileOutbox keeps the entries in memory and a write-ahead log of operations (`add`, `ack`, `dead`) as JSON
 * lines in `<dataDir>/notify/outbox.jsonl`. Appends are group-committed (one write, and one fdatasync when it
 * holds an `add`, for everything queued meanwhile); a torn last line from a crash mid-write is cut off on open;
 * the log is rewritten with just the live entries once it is mostly dead weight. Acks are not synced: losing
 * one to a power cut only means one duplicate send.
 */
import {
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  ftruncateSync,
  fsyncSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Notification } from './notification.js';

/** OutboxEntry is one notification waiting for its receiver. */
export interface OutboxEntry {
  /** id orders entries (increasing, never reused). */
  readonly id: number;
  readonly receiver: string;
  /** createdAt is when the entry was added (wall ms): its age decides when it becomes a dead letter. */
  readonly createdAt: number;
  readonly notification: Notification;
}

/** DeadLetter is an entry given up on: too old, or refused by its receiver for good. */
export interface DeadLetter {
  readonly entry: OutboxEntry;
  readonly at: number;
  readonly reason: string;
}

/** NewEntry is what `add` takes. */
export interface NewEntry {
  readonly receiver: string;
  readonly createdAt: number;
  readonly notification: Notification;
}

/** Outbox is persistent, ordered storage of notifications not yet delivered (see the contract above). */
export interface Outbox {
  /** add records entries durably, in order, and returns them with their ids. */
  add(entries: readonly NewEntry[]): Promise<OutboxEntry[]>;
  /** pending lists a receiver's entries (or all, without `receiver`), oldest first. */
  pending(receiver?: string): readonly OutboxEntry[];
  /** size is the number of pending entries. */
  readonly size: number;
  ack(id: number): Promise<void>;
  deadLetter(id: number, at: number, reason: string): Promise<void>;
  /** deadLetters are the newest dead letters kept, oldest first. */
  deadLetters(): readonly DeadLetter[];
  /** deadLettersTotal counts every dead letter since the outbox was created (kept or not). */
  readonly deadLettersTotal: number;
  close(): Promise<void>;
}

/** MAX_DEAD_LETTERS bounds the dead letters kept for inspection (older ones are only counted). */
export const MAX_DEAD_LETTERS = 1_000;

/** COMPACT_MIN_BYTES: the log is not rewritten before it holds this much (1 MiB), however much is dead. */
const COMPACT_MIN_BYTES = 1 << 20;

/** ENTRY_BASE_BYTES and ALERT_BYTES estimate a logged entry: its envelope, plus each alert (~0.5–1 KiB). */
const ENTRY_BASE_BYTES = 512;
const ALERT_BYTES = 1_024;

function entryBytes(e: OutboxEntry): number {
  return ENTRY_BASE_BYTES + e.notification.alerts.length * ALERT_BYTES;
}

/** OUTBOX_FILE is the log's name under `<dataDir>/notify/`. */
export const OUTBOX_FILE = 'outbox.jsonl';

export type LogRecord =
  | { readonly op: 'add'; readonly entry: OutboxEntry }
  | { readonly op: 'ack'; readonly id: number }
  | { readonly op: 'dead'; readonly id: number; readonly at: number; readonly reason: string }
  | { readonly op: 'meta'; readonly nextId: number; readonly deadLettersTotal: number };

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * OutboxMemory is the in-memory state every Outbox keeps: the pending entries by id and per receiver, the kept
 * dead letters and their total, and the next id. The implementations differ only in how they make changes
 * durable; each change is applied here as the log record it is written as.
 */
export class OutboxMemory {
  private readonly live = new Map<number, OutboxEntry>();
  private readonly byReceiver = new Map<string, OutboxEntry[]>();
  private dead: DeadLetter[] = [];
  nextId = 1;
  deadTotal = 0;

  get size(): number {
    return this.live.size;
  }

  has(id: number): boolean {
    return this.live.has(id);
  }

  /** take assigns the next ids to new entries (not yet applied). */
  take(entries: readonly NewEntry[]): OutboxEntry[] {
    return entries.map((e) => ({ ...e, id: this.nextId++ }));
  }

  pending(receiver?: string): readonly OutboxEntry[] {
    if (receiver !== undefined) return this.byReceiver.get(receiver) ?? [];
    return [...this.live.values()].sort((a, b) => a.id - b.id);
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  /** apply changes the state by one record (on replay and on every live operation). */
  apply(r: LogRecord, advanceIds = true): void {
    switch (r.op) {
      case 'add': {
        this.live.set(r.entry.id, r.entry);
        const list = this.byReceiver.get(r.entry.receiver);
        if (list) list.push(r.entry);
        else this.byReceiver.set(r.entry.receiver, [r.entry]);
        if (advanceIds && r.entry.id >= this.nextId) this.nextId = r.entry.id + 1;
        return;
      }
      case 'ack':
      case 'dead': {
        const e = this.live.get(r.id);
        if (!e) return;
        this.live.delete(r.id);
        const list = this.byReceiver.get(e.receiver) ?? [];
        const i = list.indexOf(e);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.byReceiver.delete(e.receiver);
        if (r.op === 'dead') {
          this.deadTotal++;
          this.dead.push({ entry: e, at: r.at, reason: r.reason });
          if (this.dead.length > MAX_DEAD_LETTERS) this.dead = this.dead.slice(-MAX_DEAD_LETTERS);
        }
        return;
      }
      case 'meta':
        this.nextId = Math.max(this.nextId, r.nextId);
        this.deadTotal += r.deadLettersTotal;
        return;
    }
  }

  /** liveBytesEstimate guesses the bytes the pending entries and kept dead letters take when logged. */
  liveBytesEstimate(): number {
    // An entry's size is guessed from its alerts: the estimate only has to tell "mostly dead" from "mostly live".
    let bytes = 0;
    for (const e of this.live.values()) bytes += entryBytes(e);
    for (const d of this.dead) bytes += entryBytes(d.entry);
    return bytes;
  }
}

/**
 * MemoryOutbox answers an Outbox's reads from its OutboxMemory; subclasses make the changes durable.
 */
export abstract class MemoryOutbox implements Outbox {
  protected readonly memory = new OutboxMemory();

  get size(): number {
    return this.memory.size;
  }

  get deadLettersTotal(): number {
    return this.memory.deadTotal;
  }

  pending(receiver?: string): readonly OutboxEntry[] {
    return this.memory.pending(receiver);
  }

  deadLetters(): readonly DeadLetter[] {
    return this.memory.deadLetters();
  }

  abstract add(entries: readonly NewEntry[]): Promise<OutboxEntry[]>;
  abstract ack(id: number): Promise<void>;
  abstract deadLetter(id: number, at: number, reason: string): Promise<void>;
  abstract close(): Promise<void>;
}

/** FileOutbox is the data-dir Outbox. */
export class FileOutbox extends MemoryOutbox {
  private fileBytes = 0;
  private queued: string[] = [];
  private queuedSync = false;
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private handle: FileHandle,
    private readonly compactMinBytes: number,
  ) {
    super();
  }

  /**
   * open opens (or creates) the outbox under `dir` and replays its log; `compactMinBytes` (default 1 MiB) is
   * the least log size that is ever rewritten.
   */
  static async open(dir: string, opts: { compactMinBytes?: number } = {}): Promise<FileOutbox> {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, OUTBOX_FILE);
    const records = readLog(path);
    const handle = await open(path, 'a');
    const box = new FileOutbox(path, handle, opts.compactMinBytes ?? COMPACT_MIN_BYTES);
    for (const r of records.records) box.memory.apply(r);
    box.fileBytes = records.bytes;
    return box;
  }

  async add(entries: readonly NewEntry[]): Promise<OutboxEntry[]> {
    const out = this.memory.take(entries);
    for (const entry of out) this.memory.apply({ op: 'add', entry }, false);
    await this.append(
      out.map((entry) => ({ op: 'add', entry })),
      true,
    );
    return out;
  }

  async ack(id: number): Promise<void> {
    if (!this.memory.has(id)) return;
    this.memory.apply({ op: 'ack', id });
    await this.append([{ op: 'ack', id }], false);
  }

  async deadLetter(id: number, at: number, reason: string): Promise<void> {
    if (!this.memory.has(id)) return;
    const rec: LogRecord = { op: 'dead', id, at, reason };
    this.memory.apply(rec);
    await this.append([rec], false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushing;
    this.closed = true;
    await this.handle.close();
  }

  /** append queues records for the next group commit and resolves once they are written (and synced). */
  private append(records: readonly LogRecord[], sync: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the outbox is closed'));
    for (const r of records) this.queued.push(JSON.stringify(r));
    this.queuedSync ||= sync;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.flushing ??= this.flush().finally(() => {
      this.flushing = undefined;
    });
    return done;
  }

  private async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const lines = this.queued;
      const sync = this.queuedSync;
      const waiters = this.waiters;
      this.queued = [];
      this.queuedSync = false;
      this.waiters = [];
      try {
        const text = lines.join('\n') + '\n';
        await this.handle.appendFile(text);
        if (sync) await this.handle.datasync();
        this.fileBytes += Buffer.byteLength(text);
        if (this.fileBytes > this.compactMinBytes && this.fileBytes > 4 * this.memory.liveBytesEstimate())
          await this.compact();
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err as Error);
      }
    }
  }

  /** compact rewrites the log with only the live entries and the kept dead letters (temp file + rename). */
  private async compact(): Promise<void> {
    const lines: string[] = [
      // The kept dead letters below count themselves again on replay, so the meta record holds the rest.
      JSON.stringify({
        op: 'meta',
        nextId: this.memory.nextId,
        deadLettersTotal: this.memory.deadTotal - this.memory.deadLetters().length,
      } satisfies LogRecord),
    ];
    for (const d of this.memory.deadLetters()) {
      lines.push(JSON.stringify({ op: 'add', entry: d.entry } satisfies LogRecord));
      lines.push(
        JSON.stringify({ op: 'dead', id: d.entry.id, at: d.at, reason: d.reason } satisfies LogRecord),
      );
    }
    for (const e of this.pending()) lines.push(JSON.stringify({ op: 'add', entry: e } satisfies LogRecord));
    const text = lines.join('\n') + '\n';
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await this.handle.close();
    renameSync(tmp, this.path);
    this.handle = await open(this.path, 'a');
    this.fileBytes = Buffer.byteLength(text);
  }
}

/**
 * readLog parses the log at `path` (none yet = empty). A last line without its newline is a write torn by a
 * crash: it is cut off so the next append starts on a fresh line. A malformed complete line is an error
 * that names the line, since skipping it could resend or lose notifications silently.
 */
function readLog(path: string): { records: LogRecord[]; bytes: number } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], bytes: 0 };
    throw err;
  }
  const end = buf.lastIndexOf(0x0a) + 1;
  if (end < buf.length) {
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, end);
    } finally {
      closeSync(fd);
    }
  }
  const text = buf.subarray(0, end).toString('utf8');
  const records: LogRecord[] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line === '') continue;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      throw new Error(
        `${path}:${lineNo}: not a JSON record; move the file aside to start with an empty outbox`,
      );
    }
  }
  return { records, bytes: end };
}
