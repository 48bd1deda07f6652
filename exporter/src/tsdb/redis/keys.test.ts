import { describe, expect, it } from 'vitest';
import { RedisKeys, chunkField, parseChunkField } from './keys.js';
import { clusterSlot } from './cluster-slot.js';
import { HEAD_RECORD_BYTES, decodeHeadRecords, encodeHeadRecords } from './head-record.js';

/** hashTag is the part of a key Redis Cluster hashes: the first `{…}` with something inside. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('RedisKeys', () => {
  it('puts every key of a series in the same hash slot, and different series in their own', () => {
    const k = new RedisKeys('om');
    for (const ref of [1, 42, 123456]) {
      const tags = new Set(k.seriesKeys(ref).map(hashTag));
      expect([...tags]).toEqual([`s:${ref}`]);
    }
    expect(hashTag(k.raw(1))).not.toBe(hashTag(k.raw(2)));
    expect(k.seriesKeys(7)).toEqual([
      'om:{s:7}:raw',
      'om:{s:7}:state',
      'om:{s:7}:log',
      'om:{s:7}:1m',
      'om:{s:7}:5m',
      'om:{s:7}:1h',
    ]);
  });

  it.each(['', 'a{b}', 'a b', 'x'.repeat(65), 'a*'])('refuses prefix %j', (prefix) => {
    expect(() => new RedisKeys(prefix)).toThrow(/prefix/);
  });
});

describe('chunk fields', () => {
  it.each([
    [0, 0],
    [1_700_000_000_000, 1_700_000_007_185_000],
    [-5_000, 10],
    [-20, -10],
  ])('round-trips %d:%d', (minT, maxT) => {
    expect(parseChunkField(chunkField(minT, maxT))).toEqual({ minT, maxT });
  });

  it.each(['', '12', 'a:b', '5:3', '1.5:2', ':3'])('rejects %j', (field) => {
    expect(() => parseChunkField(field)).toThrow(/not "<minT>:<maxT>"/);
  });
});

describe('head records', () => {
  it('round-trips timestamps and raw value bits, NaN payloads included', () => {
    const bits = [
      0x7ff0000000000002n,
      0x7ff8000000000001n,
      0xfff0000000000001n,
      0x8000000000000000n,
      1n,
      0x3fb999999999999an,
    ];
    const vs = new Float64Array(BigUint64Array.from(bits).buffer);
    const ts = Float64Array.from(bits.map((_, i) => 1_700_000_000_000 + i * 15_000));
    const buf = encodeHeadRecords(ts, vs, 1, bits.length);
    expect(buf.length).toBe((bits.length - 1) * HEAD_RECORD_BYTES);
    // Redis replies may start at an odd offset inside a pooled buffer.
    const shifted = Buffer.concat([Buffer.from([0]), buf]).subarray(1);
    const got = decodeHeadRecords(shifted);
    expect([...got.ts]).toEqual([...ts.subarray(1)]);
    expect([...new BigUint64Array(got.vs.buffer)]).toEqual(bits.slice(1));
  });

  it('refuses a torn record and a non-integer timestamp', () => {
    expect(() => decodeHeadRecords(new Uint8Array(17))).toThrow(/multiple of 16/);
    const bad = encodeHeadRecords(Float64Array.of(1.5), Float64Array.of(1), 0, 1);
    expect(() => decodeHeadRecords(bad)).toThrow(/non-integer timestamp/);
  });
});

describe('clusterSlot', () => {
  // Reference values from Redis: CLUSTER KEYSLOT <key> (and the spec's CRC16 check value 0x31C3 for "123456789").
  it.each([
    ['123456789', 0x31c3 % 16384],
    ['foo', 12182],
    ['bar', 5061],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['foo{}{bar}', 8363],
    ['om:{s:7}:raw', clusterSlot('s:7')],
  ])('slot of %j is %d', (key, slot) => {
    expect(clusterSlot(key)).toBe(slot);
  });
});
