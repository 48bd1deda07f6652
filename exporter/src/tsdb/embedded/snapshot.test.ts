import { describe, expect, it } from 'vitest';
import { Pacer } from '../../util/pacer.js';
import { DEFAULT_CODEC } from '../codec.js';
import { Head, type HeadSink } from '../head.js';
import { captureSnapshot, decodeSnapshot, encodeSnapshot } from './snapshot.js';

const H = 3_600_000;
const NO_SINK: HeadSink = { rawChunk: () => undefined, rollupChunk: () => undefined };
const FILES = new Map([['raw-0', 1234]]);
/** AT_ONCE never yields: the unsliced reference. */
const atOnce = (): Pacer => new Pacer(Infinity);

function headWith(series: number, from: number, to: number): Head {
  const head = new Head({ codec: DEFAULT_CODEC, sink: NO_SINK });
  for (let i = 0; i < series; i++) head.getOrCreate({ __name__: 'm', i: String(i) });
  appendRange(head, series, from, to);
  return head;
}

function appendRange(head: Head, series: number, from: number, to: number): void {
  for (let t = from; t < to; t += 15_000)
    for (let ref = 1; ref <= series; ref++) head.append(ref, t, Math.cos(t / 1e6 + ref) * 50);
}

describe('snapshot', () => {
  it('captured in slices, equals the capture taken at once, and lets the loop run between series', async () => {
    const series = 30;
    const head = headWith(series, 1 * H, 1.83 * H);
    const whole = await encodeSnapshot(await captureSnapshot(head, FILES, atOnce()), 7, atOnce());
    // A zero slice yields before every series: a callback queued before the capture runs before it ends.
    const pacer = new Pacer(0);
    const order: string[] = [];
    setImmediate(() => order.push('other'));
    const capture = await captureSnapshot(head, FILES, pacer);
    order.push('captured');
    expect(order).toEqual(['other', 'captured']);
    expect(pacer.yields).toBeGreaterThanOrEqual(series);
    const sliced = await encodeSnapshot(capture, 7, atOnce());
    expect(Buffer.from(sliced).equals(Buffer.from(whole))).toBe(true);
  });

  it('encoded in slices while appends go on, a snapshot holds the state it captured', async () => {
    const series = 30;
    // 1h → 1h50: open raw runs with sealed prefixes, rollup pending runs sealed several times.
    const head = headWith(series, 1 * H, 1.83 * H);
    const whole = await encodeSnapshot(await captureSnapshot(head, FILES, atOnce()), 7, atOnce());
    const capture = await captureSnapshot(head, FILES, atOnce());
    // A zero slice yields before every series and checksum piece; meanwhile the head seals, cuts at 2 h
    // and creates a series.
    const pacer = new Pacer(0);
    let appending = true;
    const appends = (async () => {
      let t = 1.83 * H;
      while (appending) {
        appendRange(head, series, t, t + 60_000);
        head.getOrCreate({ __name__: 'late', t: String(t) });
        t += 60_000;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const sliced = await encodeSnapshot(capture, 7, pacer);
    appending = false;
    await appends;
    expect(pacer.yields).toBeGreaterThanOrEqual(series);
    expect(head.maxTime).toBeGreaterThan(2 * H);
    expect(Buffer.from(sliced).equals(Buffer.from(whole))).toBe(true);

    // And it restores to the captured head.
    const restored = new Head({ codec: DEFAULT_CODEC, sink: NO_SINK });
    const loaded = decodeSnapshot(sliced);
    expect(loaded.walSegment).toBe(7);
    expect(loaded.fileLengths).toEqual(FILES);
    loaded.restoreHead(restored);
    const again = await encodeSnapshot(await captureSnapshot(restored, FILES), 7);
    expect(Buffer.from(again).equals(Buffer.from(sliced))).toBe(true);
  });

  it('checksums a body of several pieces as one piece would', async () => {
    // Long label values make a snapshot of more than one checksum piece (1 MiB) from a few series.
    const head = new Head({ codec: DEFAULT_CODEC, sink: NO_SINK });
    for (let i = 0; i < 300; i++) head.getOrCreate({ __name__: 'm', i: String(i), pad: 'x'.repeat(4096) });
    const capture = await captureSnapshot(head, FILES);
    const bytes = await encodeSnapshot(capture, 3, new Pacer(0));
    expect(bytes.length).toBeGreaterThan(1 << 20);
    // decodeSnapshot checks the crc over the whole body at once.
    expect(decodeSnapshot(bytes).walSegment).toBe(3);
  });
});
