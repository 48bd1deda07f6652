import { inflateRawSync, constants as zlibConstants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflatedTextFrame, parseNegotiatedDeflate, textFrame } from './ws-frame.js';

describe('ws-frame', () => {
  it.each([
    [0, 2],
    [125, 2],
    [126, 4],
    [65535, 4],
    [65536, 10],
  ])('frames a %i-byte payload with a %i-byte header (FIN, text, unmasked)', (len, header) => {
    const frame = textFrame(Buffer.alloc(len, 0x61));
    expect(frame.length).toBe(len + header);
    expect(frame[0]).toBe(0x81);
    const lenField = frame[1]!;
    expect(lenField & 0x80).toBe(0); // server frames are never masked
    const decoded =
      lenField < 126 ? lenField : lenField === 126 ? frame.readUInt16BE(2) : frame.readUInt32BE(6);
    expect(decoded).toBe(len);
  });

  it('deflates a message on its own, sets RSV1 and strips the sync-flush tail', () => {
    const payload = Buffer.from(
      JSON.stringify({ servers: Array.from({ length: 50 }, (_, i) => ({ id: `s${i}`, cpu: i })) }),
    );
    const frame = deflatedTextFrame(payload, 15, 6);
    expect(frame[0]).toBe(0xc1);
    const body = frame.subarray(frame[1] === 126 ? 4 : 2);
    const inflated = inflateRawSync(Buffer.concat([body, Buffer.from([0, 0, 0xff, 0xff])]), {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
    });
    expect(inflated.equals(payload)).toBe(true);
    expect(body.length).toBeLessThan(payload.length / 2);
  });

  it.each([
    [['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket'], { enabled: false, windowBits: 0 }],
    [
      ['Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover'],
      { enabled: true, windowBits: 15 },
    ],
    [
      ['sec-websocket-extensions: permessage-deflate; server_max_window_bits=10; client_max_window_bits=12'],
      { enabled: true, windowBits: 10 },
    ],
    [
      ['Sec-WebSocket-Extensions: x-other, permessage-deflate; server_max_window_bits="9"'],
      { enabled: true, windowBits: 9 },
    ],
  ])('reads the negotiated extension from %j', (headers, expected) => {
    expect(parseNegotiatedDeflate(headers)).toEqual(expected);
  });
});
