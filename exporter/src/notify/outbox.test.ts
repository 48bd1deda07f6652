import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from './notification.js';
import { FileOutbox, MAX_DEAD_LETTERS, OUTBOX_FILE, type NewEntry } from './outbox.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'om-outbox-'));
  dirs.push(d);
  return d;
}

function note(receiver: string, group: string): Notification {
  return {
    receiver,
    groupKey: `{}:{server="${group}"}`,
    status: 'firing',
    groupLabels: { server: group },
    commonLabels: { server: group },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:3001',
    alerts: [],
    truncatedAlerts: 0,
  };
}
const entry = (receiver: string, group: string, createdAt = 1_000): NewEntry => ({
  receiver,
  createdAt,
  notification: note(receiver, group),
});
const groups = (entries: readonly { notification: Notification }[]): string[] =>
  entries.map((e) => e.notification.groupLabels.server ?? '');

describe('FileOutbox', () => {
  it('lists entries per receiver in the order added, and forgets acked and dead ones', async () => {
    const box = await FileOutbox.open(tempDir());
    const added = await box.add([entry('a', 'g1'), entry('b', 'g2'), entry('a', 'g3')]);
    expect(added.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(groups(box.pending('a'))).toEqual(['g1', 'g3']);
    expect(groups(box.pending())).toEqual(['g1', 'g2', 'g3']);
    await box.ack(1);
    await box.deadLetter(2, 5_000, 'HTTP 400');
    expect(groups(box.pending())).toEqual(['g3']);
    expect(box.size).toBe(1);
    expect(box.deadLetters().map((d) => [d.entry.id, d.reason])).toEqual([[2, 'HTTP 400']]);
    expect(box.deadLettersTotal).toBe(1);
    await box.close();
  });

  it('after a crash (no close), reopening finds every unacknowledged entry, in order, and new ids go on', async () => {
    const dir = tempDir();
    const crashed = await FileOutbox.open(dir);
    await crashed.add([entry('a', 'g1'), entry('a', 'g2'), entry('a', 'g3'), entry('b', 'g4')]);
    await crashed.ack(2);
    await crashed.deadLetter(4, 9, 'gone');
    // The process dies here: no close(), no final write.
    const box = await FileOutbox.open(dir);
    expect(groups(box.pending('a'))).toEqual(['g1', 'g3']);
    expect(box.pending('b')).toEqual([]);
    expect(box.deadLetters().map((d) => d.reason)).toEqual(['gone']);
    const [next] = await box.add([entry('a', 'g5')]);
    expect(next?.id).toBe(5);
    await box.close();
    await crashed.close();
  });

  it('cuts off a line torn by a crash mid-write and keeps appending on a fresh line', async () => {
    const dir = tempDir();
    const box = await FileOutbox.open(dir);
    await box.add([entry('a', 'g1')]);
    await box.close();
    appendFileSync(join(dir, OUTBOX_FILE), '{"op":"add","entry":{"id":2,"recei');
    const reopened = await FileOutbox.open(dir);
    expect(groups(reopened.pending())).toEqual(['g1']);
    await reopened.add([entry('a', 'g2')]);
    await reopened.close();
    const again = await FileOutbox.open(dir);
    expect(groups(again.pending())).toEqual(['g1', 'g2']);
    await again.close();
  });

  it('refuses a log with a damaged complete line, naming the line', async () => {
    const dir = tempDir();
    const box = await FileOutbox.open(dir);
    await box.add([entry('a', 'g1')]);
    await box.close();
    appendFileSync(join(dir, OUTBOX_FILE), 'garbage\n');
    await expect(FileOutbox.open(dir)).rejects.toThrow(/outbox\.jsonl:2: not a JSON record/);
  });

  it('group-commits concurrent adds and keeps their order', async () => {
    const box = await FileOutbox.open(tempDir());
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => box.add([entry('a', `g${i}`)])));
    expect(all.flat().map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(groups(box.pending('a'))).toEqual(Array.from({ length: 50 }, (_, i) => `g${i}`));
    await box.close();
  });

  it('compacts a log that is mostly acknowledged entries, losing nothing', async () => {
    const dir = tempDir();
    const box = await FileOutbox.open(dir, { compactMinBytes: 20_000 });
    for (let round = 0; round < 40; round++) {
      const added = await box.add(Array.from({ length: 10 }, (_, i) => entry('a', `r${round}-${i}`)));
      for (const e of added.slice(0, 9)) await box.ack(e.id);
    }
    await box.deadLetter(box.pending('a')[0]?.id ?? 0, 1, 'expired');
    const size = statSync(join(dir, OUTBOX_FILE)).size;
    expect(size).toBeLessThan(60_000);
    await box.close();
    const reopened = await FileOutbox.open(dir);
    expect(groups(reopened.pending('a'))).toEqual(Array.from({ length: 39 }, (_, r) => `r${r + 1}-9`));
    expect(reopened.deadLettersTotal).toBe(1);
    const [next] = await reopened.add([entry('a', 'x')]);
    expect(next?.id).toBe(401);
    await reopened.close();
    expect(readFileSync(join(dir, OUTBOX_FILE), 'utf8').split('\n')[0]).toMatch(/"op":"meta"/);
  });

  it('keeps the newest dead letters only, but counts all of them, across a reopen', async () => {
    const dir = tempDir();
    const box = await FileOutbox.open(dir, { compactMinBytes: 100_000 });
    const n = MAX_DEAD_LETTERS + 20;
    const added = await box.add(Array.from({ length: n }, (_, i) => entry('a', `g${i}`)));
    for (const e of added) await box.deadLetter(e.id, 1, 'x');
    expect(box.deadLetters()).toHaveLength(MAX_DEAD_LETTERS);
    expect(box.deadLetters()[0]?.entry.id).toBe(21);
    await box.close();
    const reopened = await FileOutbox.open(dir);
    expect(reopened.deadLettersTotal).toBe(n);
    expect(reopened.deadLetters()).toHaveLength(MAX_DEAD_LETTERS);
    await reopened.close();
  });
});
