/** HeadQuerier's read-less hints: SelectHints.from and SelectHints.newest. */
import { describe, expect, it } from 'vitest';
import { STALE_NAN } from '../util/stale-marker.js';
import { EmbeddedStorage } from './embedded/embedded-storage.js';
import type { SelectHints } from './storage.js';

const T0 = Date.UTC(2026, 0, 5);
const S = 1_000;

/** read selects `x` with `hints` and lists each series' sample times (seconds after T0). */
async function read(store: EmbeddedStorage, hints: SelectHints): Promise<Record<string, number[]>> {
  const q = await store.querier(hints.start, hints.end);
  const out: Record<string, number[]> = {};
  await q.selectEach?.([{ type: '=', name: '__name__', value: 'x' }], hints, (labels, ts, _vs, n) => {
    out[labels.s ?? ''] = [...ts.subarray(0, n)].map((t) => (t - T0) / S);
  });
  return out;
}

describe('HeadQuerier hints', () => {
  it.each<[string, Partial<SelectHints>, Record<string, number[]>]>([
    ['no hint: the window', {}, { a: [60, 75, 90, 105, 120], b: [60, 75, 90] }],
    ['newest: the newest sample of each series in the window', { newest: true }, { a: [120], b: [90] }],
    [
      "newest, window ending before a series' newest: that series' window",
      { newest: true, end: T0 + 100 * S },
      { a: [60, 75, 90], b: [90] },
    ],
    [
      'from: what each series has since',
      { from: (l) => T0 + (l.s === 'a' ? 100 : 0) * S },
      { a: [105, 120], b: [60, 75, 90] },
    ],
  ])('%s', async (_name, hints, want) => {
    // Series b ends with a staleness marker at 90 s: it is a sample like any other here.
    const store = await EmbeddedStorage.open({ chunkSpanMs: 60 * S });
    try {
      const app = store.appender();
      for (let t = 0; t <= 120; t += 15) {
        app.append(0, { __name__: 'x', s: 'a' }, T0 + t * S, t);
        if (t <= 90) app.append(0, { __name__: 'x', s: 'b' }, T0 + t * S, t === 90 ? STALE_NAN : t);
      }
      await app.commit();
      expect(await read(store, { start: T0 + 60 * S, end: T0 + 120 * S, ...hints })).toEqual(want);
    } finally {
      await store.close();
    }
  });
});

describe('HeadQuerier pacing', () => {
  it('gives the event loop a turn while it decodes a few long series', async () => {
    // 8 series of 20,000 samples in stored chunks: fewer series than a scan reads between two looks at its
    // pacer when it counts series alone, and far more than one slice of decoding.
    const store = await EmbeddedStorage.open({ chunkSpanMs: 600 * S });
    try {
      const app = store.appender();
      for (let t = 0; t < 20_000; t++) {
        for (let s = 0; s < 8; s++) app.append(0, { __name__: 'x', s: String(s) }, T0 + t * S, t % 97);
      }
      await app.commit();
      let turned = false;
      setImmediate(() => {
        turned = true;
      });
      let samples = 0;
      const q = await store.querier(T0, T0 + 20_000 * S);
      await q.selectEach?.([{ type: '=', name: '__name__', value: 'x' }], undefined, (_l, _ts, _vs, n) => {
        samples += n;
      });
      expect(samples).toBe(160_000);
      expect(turned).toBe(true);
    } finally {
      await store.close();
    }
  });
});
