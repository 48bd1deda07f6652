import { describe, expect, it } from 'vitest';

import { Encoding } from './chunk.js';
import { decodeChunk } from './decode.js';
import { encodeXor } from './xor.js';

function roundTrip(ts: number[], vs: number[]): { ts: number[]; vs: number[] } {
  const c = decodeChunk(encodeXor(ts, vs));
  const out = { ts: [] as number[], vs: [] as number[] };
  const it = c.iterator();
  while (it.next()) {
    out.ts.push(it.at());
    out.vs.push(it.value());
  }
  expect(it.err()).toBeUndefined();
  return out;
}

describe('xor', () => {
  it('round trips simple', () => {
    const ts = [1000, 16000, 31000, 46001, 60999, 1e9, 1e9 + 1];
    const vs = [1, 1, 2.5, -3, NaN, Infinity, -0];
    const r = roundTrip(ts, vs);
    expect(r.ts).toEqual(ts);
    expect(r.vs).toEqual(vs);
    expect(decodeChunk(encodeXor(ts, vs)).encoding).toBe(Encoding.XOR);
  });
  it('round trips extreme timestamps', () => {
    const ts = [Number.MIN_SAFE_INTEGER, -5, 0, 3, Number.MAX_SAFE_INTEGER - 10, Number.MAX_SAFE_INTEGER];
    const vs = [1, 2, 3, 4, 5, 6];
    expect(roundTrip(ts, vs).ts).toEqual(ts);
  });
});
