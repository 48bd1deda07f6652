import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from './bytes.js';
import { DEFAULT_CODEC, type ChunkCodec } from './codec.js';
import { DECODED_PREFIX_BUDGET, SealedRun, decodedPrefixes } from './sealed-run.js';

/** bits maps doubles to their bit patterns, so NaN payloads and -0 compare exactly. */
const bits = (a: ArrayLike<number>): bigint[] => Array.from(new BigUint64Array(Float64Array.from(a).buffer));

/** arbRows is a run of rows with strictly increasing timestamps and `k` arbitrary double columns. */
const arbRows = (k: number) =>
  fc
    .array(
      fc.tuple(fc.integer({ min: 1, max: 120_000 }), fc.array(fc.double(), { minLength: k, maxLength: k })),
      { minLength: 1, maxLength: 300 },
    )
    .map((rows) => {
      let t = 1_700_000_000_000;
      return rows.map(([dt, vs]) => [(t += dt), ...vs]);
    });

describe('SealedRun', () => {
  it('reads (readRows) what rows() holds after every push, seal and read, its decoded prefix kept between', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }).chain((k) =>
          fc.tuple(
            fc.constant(k),
            arbRows(k),
            fc.array(fc.constantFrom('read', 'seal', 'push', 'push', 'push'), {
              minLength: 300,
              maxLength: 300,
            }),
          ),
        ),
        ([k, rows, ops]) => {
          const run = new SealedRun(k, 8);
          const row = new Float64Array(1 + k);
          let next = 0;
          for (const op of ops) {
            if (op === 'seal' && run.m > 2) run.seal(DEFAULT_CODEC, 8, 2);
            else if (op === 'push' && next < rows.length) {
              if (run.m === run.cap) run.seal(DEFAULT_CODEC, 8, 2);
              row.set(rows[next++]!);
              run.pushRow(row, 0);
            } else if (op === 'read') {
              const n = run.n * (1 + k);
              const want = bits(run.rows().subarray(0, n));
              expect(bits(run.readRows().subarray(0, n))).toEqual(want);
              // A second read is served from the kept copy: the same rows again.
              expect(bits(run.readRows().subarray(0, n))).toEqual(want);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps decoded prefixes within their budget, dropping the least recently read', () => {
    const runs = Array.from({ length: 40 }, (_, r) => {
      const run = new SealedRun(1, 4);
      for (let i = 0; i < 4_000; i++) {
        if (run.m === run.cap) run.seal(DEFAULT_CODEC, 4);
        run.pushRow(Float64Array.of(1_700_000_000_000 + i * 15_000, r * 1_000 + i), 0);
      }
      return run;
    });
    const first = bits(runs[0]!.rows().subarray(0, 8_000));
    // 40 prefixes of ~8,000 numbers each overflow the budget: the oldest copies go, reads stay right.
    for (const run of runs) run.readRows();
    expect(decodedPrefixes.size).toBeLessThanOrEqual(DECODED_PREFIX_BUDGET);
    expect(decodedPrefixes.size).toBeGreaterThan(DECODED_PREFIX_BUDGET / 2);
    expect(bits(runs[0]!.readRows().subarray(0, 8_000))).toEqual(first);
    for (const run of runs) run.clear();
    expect(decodedPrefixes.size).toBe(0);
  });

  it('returns every row bit-exactly, whatever the points it was sealed at', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((k) =>
            fc.tuple(
              fc.constant(k),
              arbRows(k),
              fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
              fc.integer({ min: 1, max: 8 }),
              fc.integer({ min: 0, max: 7 }),
            ),
          ),
        ([k, rows, sealAfter, tailRows, keepAny]) => {
          const keep = keepAny % tailRows;
          const run = new SealedRun(k, tailRows);
          const row = new Float64Array(1 + k);
          rows.forEach((r, i) => {
            if (run.m === run.cap) run.seal(DEFAULT_CODEC, tailRows, keep);
            row.set(r);
            run.pushRow(row, 0);
            if (sealAfter[i]) run.seal(DEFAULT_CODEC, tailRows, keep);
          });
          const n = rows.length;
          expect(run.n).toBe(n);
          expect(run.minT).toBe(rows[0]![0]);
          expect(run.maxT).toBe(rows[n - 1]![0]);
          const d = run.rows();
          for (let c = 0; c <= k; c++) {
            expect(bits(d.subarray(c * n, (c + 1) * n))).toEqual(bits(rows.map((r) => r[c]!)));
          }
          // rowsInto lays the same rows out anywhere in a larger buffer.
          const dst = new Float64Array(3 + n * (1 + k));
          run.rowsInto(dst, 3);
          expect(bits(dst.subarray(3))).toEqual(bits(d.subarray(0, n * (1 + k))));
          // Every row at or after a timestamp past the prefix is in the tail; a seal keeps `keep` rows there.
          expect(run.tailFrom((rows[n - 1]![0] ?? 0) + 1)).toBe(true);
          if (run.sealedN > 0 && keep > 0) {
            expect(run.m).toBeGreaterThanOrEqual(keep);
            expect(run.tailFrom(rows[n - keep]![0]!)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds a sealed 2 h chunk of 15 s samples in a fraction of the raw bytes, and clear empties it', () => {
    const run = new SealedRun(1, 32);
    const row = new Float64Array(2);
    for (let i = 0; i < 480; i++) {
      if (run.m === run.cap) run.seal(DEFAULT_CODEC, 32);
      row[0] = 1_700_000_000_000 + i * 15_000;
      row[1] = Math.round(40 + 10 * Math.sin(i / 30) * 100) / 100;
      run.pushRow(row, 0);
    }
    expect(run.n).toBe(480);
    expect(run.sealedN).toBeGreaterThan(0);
    // Raw, 480 samples take 480 × 16 bytes; sealed, the prefix takes a few bytes a sample.
    expect(run.sealedBytes).toBeLessThan((run.sealedN * 16) / 4);
    run.clear();
    expect(run.n).toBe(0);
    expect(run.sealedBytes).toBe(0);
    expect(run.minT).toBeNaN();
  });

  it('seals chunks past 64 KiB (a large maxSamplesPerChunk of full-precision values) and reads them back', () => {
    const n = 20_000;
    const run = new SealedRun(1, n);
    const row = new Float64Array(2);
    const want: number[] = [];
    let x = 0x9e3779b9;
    for (let i = 0; i < n; i++) {
      x = (x * 1664525 + 1013904223) >>> 0;
      row[0] = 1_700_000_000_000 + i * 1000;
      row[1] = x / 7;
      want.push(row[1]);
      run.pushRow(row, 0);
    }
    run.seal(DEFAULT_CODEC, 8);
    expect(run.sealedBytes).toBeGreaterThan(65_536);
    expect(Array.from(run.rows().subarray(n, 2 * n))).toEqual(want);
  });

  it("encodes each row a few times over a chunk's seals, not once per later seal", () => {
    // A 1m rollup tier's run over a 2 h chunk: 120 buckets of six aggregates, sealed four at a time.
    let encoded = 0;
    const counting: ChunkCodec = {
      ...DEFAULT_CODEC,
      encodeBytes: (ts, vs, from, to) => {
        encoded += to - from;
        return DEFAULT_CODEC.encodeBytes!(ts, vs, from, to);
      },
    };
    const k = 6;
    const run = new SealedRun(k, 4);
    const row = new Float64Array(1 + k);
    const want: number[][] = [];
    for (let i = 0; i < 120; i++) {
      if (run.m === run.cap) run.seal(counting, 4);
      row[0] = 1_700_000_000_000 + i * 60_000;
      for (let c = 1; c <= k; c++) row[c] = Math.round(100 * c * Math.sin(i / 9)) / 100;
      want.push(Array.from(row));
      run.pushRow(row, 0);
    }
    // 29 seals of 4 rows: merged at levels of 16 and 64 rows, a row is encoded at most 3 times per column
    // (re-encoding the whole prefix at each seal encodes 1,740 rows per column).
    expect(encoded / k).toBeLessThanOrEqual(3 * 116);
    expect(encoded / k).toBeGreaterThanOrEqual(116);
    const d = run.readRows();
    for (let c = 0; c <= k; c++)
      expect(bits(d.subarray(c * 120, (c + 1) * 120))).toEqual(bits(want.map((r) => r[c]!)));
  });

  it('reads the earlier layout, whose sealed prefix is one segment without its header', () => {
    const run = new SealedRun(2, 64);
    const row = new Float64Array(3);
    for (let i = 0; i < 40; i++) {
      row[0] = 1_700_000_000_000 + i * 15_000;
      row[1] = i / 4;
      row[2] = -i;
      run.pushRow(row, 0);
    }
    const want = bits(run.rows());
    // Sealed at once, the prefix is one segment; the earlier layout is its bytes without the header.
    run.seal(DEFAULT_CODEC, 8, 0);
    const w = new ByteWriter();
    run.write(w);
    const r = new ByteReader(w.finish());
    const old = new ByteWriter();
    const sealedN = r.u32();
    old.u32(sealedN);
    old.f64(r.f64());
    old.f64(r.f64());
    const segment = r.bytes();
    expect(segment[0]! + 256 * segment[1]!).toBe(sealedN);
    old.bytes(segment.subarray(5));
    old.u32(r.u32());
    expect(sealedN).toBe(40);
    const back = new SealedRun(2);
    back.read(new ByteReader(old.finish()), DEFAULT_CODEC, false);
    expect(back.n).toBe(40);
    expect(bits(back.rows())).toEqual(want);
    // Rows sealed after it go into segments of their own, before which it stays as read.
    for (let i = 40; i < 100; i++) {
      if (back.m === back.cap) back.seal(DEFAULT_CODEC, 8, 0);
      row[0] = 1_700_000_000_000 + i * 15_000;
      back.pushRow(row, 0);
    }
    back.seal(DEFAULT_CODEC, 8, 0);
    expect(back.sealedN).toBe(100);
    const d = back.rows();
    expect(bits(d.subarray(0, 40))).toEqual(want.slice(0, 40));
    expect(bits(d.subarray(100, 140))).toEqual(want.slice(40, 80));
    expect(d[99]).toBe(1_700_000_000_000 + 99 * 15_000);
  });

  it('refuses to shrink its tail below the rows it holds', () => {
    const run = new SealedRun(1, 4);
    run.pushRow(Float64Array.of(1, 1), 0);
    run.pushRow(Float64Array.of(2, 2), 0);
    expect(() => run.resize(1)).toThrow(/cannot drop rows/);
    run.resize(2);
    expect(Array.from(run.rows().subarray(0, 4))).toEqual([1, 2, 1, 2]);
  });
});
