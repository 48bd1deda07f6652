/**
 * Record framing shared by the embedded store's files (write-ahead log segments and chunk files):
 * `[u32 length][u32 crc32(payload)][payload]`, little-endian. A record whose length runs past the end of
 * the file or whose CRC does not match is torn (a crash mid-write) or corrupt: readers stop there and the
 * caller truncates the file at `validBytes`, dropping the bad tail.
 */
import { crc32 } from 'node:zlib';
import type { ByteWriter } from '../bytes.js';

/** FRAME_HEADER_BYTES is the size of a record header: length + CRC32. */
export const FRAME_HEADER_BYTES = 8;

/** writeFrame appends one framed record holding `payload` to `w`. */
export function writeFrame(w: ByteWriter, payload: Uint8Array): void {
  w.u32(payload.length);
  w.u32(crc32(payload));
  w.bytesRaw(payload);
}

/** ParsedFrames is the result of scanning a file's records. */
export interface ParsedFrames {
  /** payloads are views into the scanned buffer, in file order. */
  readonly payloads: Uint8Array[];
  /** validBytes is the length of the clean prefix (where a torn tail starts). */
  readonly validBytes: number;
  /** torn is true when bytes after validBytes were dropped. */
  readonly torn: boolean;
}

/** readFrames scans `buf` and returns every intact record up to the first torn or corrupt one. */
export function readFrames(buf: Uint8Array): ParsedFrames {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const payloads: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + FRAME_HEADER_BYTES > buf.length) break;
    const len = view.getUint32(off, true);
    const crc = view.getUint32(off + 4, true);
    const end = off + FRAME_HEADER_BYTES + len;
    if (end > buf.length) break;
    const payload = buf.subarray(off + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== crc) break;
    payloads.push(payload);
    off = end;
  }
  return { payloads, validBytes: off, torn: off < buf.length };
}
