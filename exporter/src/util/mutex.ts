/**
 * Mutex runs async critical sections one at a time, in the order they asked, so a section that gives the event
 * loop a turn in the middle (paced work) still keeps the next one waiting until it ends. An uncontended
 * section starts synchronously, as a plain call would; a waiting one starts in a later turn of the event
 * loop (pacer.ts: nextTurn), not in the microtasks that end the section before it: a commit's last paced
 * slice and the flush slice waiting behind it would otherwise hold the loop as one block.
 */
import { nextTurn } from './pacer.js';

/** Mutex serialises async critical sections; see the file comment. */
export class Mutex {
  private tail: Promise<void> | undefined;

  /** locked tells whether a section is running or waiting. */
  get locked(): boolean {
    return this.tail !== undefined;
  }

  /** run calls `fn` once every section queued before it has ended; it settles as `fn`'s promise does. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail === undefined ? fn() : this.tail.then(nextTurn).then(fn);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    this.tail = done;
    void done.then(() => {
      if (this.tail === done) this.tail = undefined;
    });
    return result;
  }
}
