import fc from 'fast-check';
import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import {
  SnappyBlockError,
  checkSnappyBlock,
  maxSnappyOutput,
  nativeUncompress,
  readSnappyHeader,
  uncompressSnappyBlock,
} from './snappy-block.js';
import type { SnappyUncompress } from './snappy-block.js';
import { varint } from '../../test/varint.js';

/**
 * maximalBlock is a valid block that expands as much as the format allows: a 1-byte literal, then `copies`
 * copies with a 2-byte offset of 64 bytes each (tag (64−1)<<2 | 2, offset 1), i.e. 64 bytes per 3.
 */
function maximalBlock(copies: number, declared = 1 + 64 * copies): Uint8Array {
  const stream = [0x00, 0x61];
  for (let i = 0; i < copies; i++) stream.push(0xfe, 0x01, 0x00);
  return new Uint8Array([...varint(declared), ...stream]);
}

/** observed wraps the native decoder and records the blocks it was asked to decode. */
function observed(): { decode: SnappyUncompress; calls: Uint8Array[] } {
  const calls: Uint8Array[] = [];
  return {
    calls,
    decode: (block) => {
      calls.push(block);
      return nativeUncompress(block);
    },
  };
}

describe('readSnappyHeader', () => {
  const cases: { name: string; bytes: number[]; declared?: number; headerBytes?: number; error?: RegExp }[] =
    [
      { name: 'zero', bytes: [0x00], declared: 0, headerBytes: 1 },
      { name: 'one byte max', bytes: [0x7f], declared: 127, headerBytes: 1 },
      { name: 'two bytes', bytes: [0x80, 0x01], declared: 128, headerBytes: 2 },
      { name: '2^32 − 1 in five bytes', bytes: varint(2 ** 32 - 1), declared: 2 ** 32 - 1, headerBytes: 5 },
      { name: 'empty', bytes: [], error: /truncated/ },
      { name: 'truncated continuation', bytes: [0xff, 0xff], error: /truncated/ },
      { name: '2^32 does not fit uint32', bytes: varint(2 ** 32), error: /above 2\^32/ },
      { name: 'six bytes', bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x00], error: /longer than 5/ },
      // snappyjs computed the fifth byte with 32-bit shifts and read this as a negative length.
      { name: 'fifth byte high bits', bytes: [0xff, 0xff, 0xff, 0xff, 0x0f], declared: 2 ** 32 - 1 },
    ];
  it.each(cases)('$name', ({ bytes, declared, headerBytes, error }) => {
    if (error) {
      expect(() => readSnappyHeader(new Uint8Array(bytes))).toThrow(error);
      return;
    }
    const h = readSnappyHeader(new Uint8Array(bytes));
    expect(h.declared).toBe(declared);
    if (headerBytes !== undefined) expect(h.headerBytes).toBe(headerBytes);
  });

  it('reads what the native compressor writes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
        const block = compressSync(Buffer.from(data));
        expect(readSnappyHeader(block).declared).toBe(data.length);
      }),
      { seed: 7, numRuns: 100 },
    );
  });
});

describe('expansion bound', () => {
  it('admits the most expansive valid block, and it decodes to the declared length', async () => {
    for (const copies of [0, 1, 2, 100, 10_000]) {
      const block = maximalBlock(copies);
      const { declared, headerBytes } = checkSnappyBlock(block, 2 ** 32 - 1);
      expect(declared).toBeLessThanOrEqual(maxSnappyOutput(block.length, headerBytes));
      const out = await uncompressSnappyBlock(block, 2 ** 32 - 1);
      expect(out.length).toBe(declared);
      expect(out.every((b) => b === 0x61)).toBe(true);
    }
  });

  it('refuses a header one byte beyond the bound without decoding', async () => {
    const block = maximalBlock(1000);
    const { headerBytes } = readSnappyHeader(block);
    const bound = maxSnappyOutput(block.length, headerBytes);
    const lying = maximalBlock(1000, bound + 1);
    // The longer header may shift the bound; recompute it for the block actually sent.
    expect(bound + 1).toBeGreaterThan(maxSnappyOutput(lying.length, readSnappyHeader(lying).headerBytes));
    const spy = observed();
    await expect(uncompressSnappyBlock(lying, 2 ** 32 - 1, spy.decode)).rejects.toThrow(/expand to at most/);
    expect(spy.calls).toHaveLength(0);
  });
});

describe('uncompressSnappyBlock', () => {
  const cases: { name: string; block: () => Uint8Array; max: number; reason?: 'too_large' | 'corrupt' }[] = [
    { name: 'valid', block: () => compressSync(Buffer.from('hello hello hello hello')), max: 1024 },
    { name: 'empty input', block: () => compressSync(Buffer.alloc(0)), max: 0 },
    {
      name: 'declared above the cap',
      block: () => compressSync(Buffer.alloc(2048, 1)),
      max: 2047,
      reason: 'too_large',
    },
    {
      name: '4 GiB declared by 7 bytes',
      block: () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41]),
      max: 2 ** 32 - 1,
      reason: 'corrupt',
    },
    {
      // snappyjs read this literal length as −5 and looped forever stepping back onto the same tag.
      name: 'negative-literal trick',
      block: () => new Uint8Array([0x40, 0xfc, 0xfa, 0xff, 0xff, 0xff, 0x00, 0x00]),
      max: 1024,
      reason: 'corrupt',
    },
    {
      name: 'truncated',
      block: () => compressSync(Buffer.from('abcdefghijklmnopqrstuvwxyz'.repeat(10))).subarray(0, 20),
      max: 1024,
      reason: 'corrupt',
    },
    {
      name: 'copy before any output',
      block: () => new Uint8Array([0x10, 0xfe, 0x01, 0x00]),
      max: 1024,
      reason: 'corrupt',
    },
    {
      name: 'elements produce more than declared',
      block: () => new Uint8Array([0x01, 0x04, 0x61, 0x62]),
      max: 1024,
      reason: 'corrupt',
    },
  ];
  it.each(cases)('$name', async ({ block, max, reason }) => {
    const input = block();
    if (reason === undefined) {
      const out = await uncompressSnappyBlock(input, max);
      expect(out.length).toBe(readSnappyHeader(input).declared);
      return;
    }
    const err = await uncompressSnappyBlock(input, max).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SnappyBlockError);
    expect((err as SnappyBlockError).reason).toBe(reason);
  });

  it('settles for every input: refused before decoding when the header is oversize or implausible, else exactly the declared length', async () => {
    const block = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      // A plausible header in front of random elements, so the decoder itself is exercised.
      fc
        .tuple(fc.integer({ min: 0, max: 4096 }), fc.uint8Array({ minLength: 1, maxLength: 512 }))
        .map(([n, rest]) => new Uint8Array([...varint(n), ...rest])),
      // Any declared length, up to the format's 2^32 − 1, in front of a few bytes.
      fc
        .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 16 }))
        .map(([n, rest]) => new Uint8Array([...varint(n), ...rest])),
    );
    await fc.assert(
      fc.asyncProperty(block, fc.integer({ min: 0, max: 1 << 20 }), async (input, max) => {
        const spy = observed();
        let header: { declared: number; headerBytes: number } | undefined;
        try {
          header = readSnappyHeader(input);
        } catch {
          header = undefined;
        }
        try {
          const out = await uncompressSnappyBlock(input, max, spy.decode);
          expect(out.length).toBe(header?.declared);
        } catch (err) {
          expect(err).toBeInstanceOf(SnappyBlockError);
        }
        const refusable =
          header === undefined ||
          header.declared > max ||
          header.declared > maxSnappyOutput(input.length, header.headerBytes);
        if (refusable) expect(spy.calls).toHaveLength(0);
        else expect(spy.calls).toHaveLength(1);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
