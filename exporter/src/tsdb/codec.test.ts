import { describe, expect, it } from 'vitest';
import { DEFAULT_CODEC, codecFromSpec, isCodecSpec } from './codec.js';

/** samplesOf encodes a slowly rising series with the codec and returns how many samples the chunk keeps. */
function kept(spec: string): { n: number; maxErrPct: number } {
  const codec = codecFromSpec(spec);
  const b = codec.newBuilder();
  const values = Array.from({ length: 100 }, (_, i) => 100 + i * 0.1);
  values.forEach((v, i) => b.append(i * 15_000, v));
  const chunk = codec.decode(b.finish().bytes());
  const it = chunk.iterator();
  let n = 0;
  let maxErrPct = 0;
  while (it.next()) {
    n++;
    const exact = values[it.at() / 15_000] ?? NaN;
    maxErrPct = Math.max(maxErrPct, (Math.abs(it.value() - exact) / exact) * 100);
  }
  return { n, maxErrPct };
}

describe('codecFromSpec', () => {
  it.each([
    ['lossless', 100],
    // The seed's scheme drops what moved less than 5 % but keeps one sample per 4 min: 25 min of samples
    // keep 7, plus the first and the last.
    ['deadband:5', 9],
  ])('%s keeps %s of 100 samples within its error bound', (spec, atMost) => {
    const { n, maxErrPct } = kept(spec);
    expect(n).toBeLessThanOrEqual(atMost);
    if (spec === 'lossless') expect(n).toBe(100);
    expect(maxErrPct).toBeLessThanOrEqual(spec === 'lossless' ? 0 : 5);
  });

  it('is the default codec for lossless', () => {
    expect(codecFromSpec('lossless')).toBe(DEFAULT_CODEC);
  });

  it.each(['', 'gorilla', 'deadband', 'deadband:0', 'deadband:101', 'deadband:-1', 'deadband:5%'])(
    'refuses %j',
    (spec) => {
      expect(isCodecSpec(spec)).toBe(false);
      expect(() => codecFromSpec(spec)).toThrow(/unknown codec/);
    },
  );
});
