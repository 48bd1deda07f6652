/**
 * Server-side WebSocket text frames (RFC 6455 §5.2), built once and written to every client that shares them.
 *
 * Why not `ws.send()`: with permessage-deflate ws compresses every message once per client, each with its own
 * zlib stream (≈300 KB of native memory per connection with the default window). For a broadcast of one
 * snapshot to thousands of clients that is thousands of identical compressions. The hub negotiates
 * `server_no_context_takeover` (RFC 7692 §7.1.1.1), so every message is compressed independently and the
 * compressed bytes are the same for every client: the hub deflates a message once and writes the same frame
 * buffer to all sockets (the "shared compressor" of uWebSockets). ws still does the handshake, the extension
 * negotiation, the parsing of client frames and the control frames (ping, pong, close).
 */
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';

/** OPCODE_TEXT is the opcode of a text frame (RFC 6455 §5.2). */
const OPCODE_TEXT = 0x1;
/** FIN_BIT marks the last (here: only) frame of a message. */
const FIN_BIT = 0x80;
/** RSV1_BIT marks a compressed message under permessage-deflate (RFC 7692 §6). */
const RSV1_BIT = 0x40;
/** DEFLATE_TAIL is the empty stored block a sync flush ends with; RFC 7692 §7.2.1 says to strip it. */
const DEFLATE_TAIL_LENGTH = 4;
/** MIN_ZLIB_WINDOW_BITS: zlib's raw deflate refuses a window of 8 bits, so such clients get plain frames. */
export const MIN_ZLIB_WINDOW_BITS = 9;
/** MAX_WINDOW_BITS is the largest deflate window (32 KiB) and the default of permessage-deflate. */
export const MAX_WINDOW_BITS = 15;

/** frameHeader returns the header of an unmasked, final text frame carrying `length` payload bytes. */
function frameHeader(length: number, compressed: boolean): Buffer {
  const first = FIN_BIT | OPCODE_TEXT | (compressed ? RSV1_BIT : 0);
  if (length < 126) return Buffer.from([first, length]);
  if (length < 65536) {
    const h = Buffer.allocUnsafe(4);
    h[0] = first;
    h[1] = 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.allocUnsafe(10);
  h[0] = first;
  h[1] = 127;
  h.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  h.writeUInt32BE(length >>> 0, 6);
  return h;
}

/** textFrame frames a UTF-8 payload as one uncompressed text frame (header and payload in one buffer). */
export function textFrame(payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(payload.length, false), payload]);
}

/**
 * deflatedTextFrame compresses a payload on its own (no context shared with earlier messages, so it is valid
 * for every client that negotiated permessage-deflate with at least `windowBits`) and frames it with RSV1.
 */
export function deflatedTextFrame(payload: Buffer, windowBits: number, level: number): Buffer {
  const deflated = deflateRawSync(payload, {
    finishFlush: zlibConstants.Z_SYNC_FLUSH,
    windowBits,
    level,
  });
  const body = deflated.subarray(0, deflated.length - DEFLATE_TAIL_LENGTH);
  return Buffer.concat([frameHeader(body.length, true), body]);
}

/**
 * DeflateParams is what one connection negotiated: whether permessage-deflate is on and the largest window
 * the server may use for it (`server_max_window_bits`, 15 when the client did not limit it).
 */
export interface DeflateParams {
  readonly enabled: boolean;
  readonly windowBits: number;
}

/** NO_DEFLATE is the DeflateParams of a connection without permessage-deflate. */
export const NO_DEFLATE: DeflateParams = { enabled: false, windowBits: 0 };

/**
 * parseNegotiatedDeflate reads the server's `Sec-WebSocket-Extensions` response header (as ws emits it in its
 * `headers` event) and returns what the connection negotiated.
 */
export function parseNegotiatedDeflate(headerLines: readonly string[]): DeflateParams {
  const prefix = 'sec-websocket-extensions:';
  for (const line of headerLines) {
    if (!line.toLowerCase().startsWith(prefix)) continue;
    for (const ext of line.slice(prefix.length).split(',')) {
      const [name, ...params] = ext.split(';').map((p) => p.trim());
      if (name !== 'permessage-deflate') continue;
      let windowBits = MAX_WINDOW_BITS;
      for (const p of params) {
        const [key, value] = p.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
        if (key === 'server_max_window_bits' && value !== undefined) {
          const bits = Number(value);
          if (Number.isInteger(bits)) windowBits = Math.min(MAX_WINDOW_BITS, bits);
        }
      }
      return { enabled: true, windowBits };
    }
  }
  return NO_DEFLATE;
}
