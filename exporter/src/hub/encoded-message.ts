/**
 * One server → client message serialised once and framed lazily for each wire form that a recipient needs:
 * a plain WebSocket frame, a deflated one per negotiated window size, and an SSE event. A broadcast builds one
 * EncodedMessage per distinct server filter and hands the same buffers to every matching client.
 */
import { deflatedTextFrame, MIN_ZLIB_WINDOW_BITS, textFrame, type DeflateParams } from './ws-frame.js';

/** CompressionSettings says when and how hard server messages are deflated. */
export interface CompressionSettings {
  /** threshold: payloads shorter than this many bytes are sent uncompressed (deflate would not pay off). */
  readonly threshold: number;
  /** level: zlib compression level 0–9. */
  readonly level: number;
}

/** EncodedMessage is a serialised message whose wire forms are built on first use and then shared. */
export class EncodedMessage {
  private payload: Buffer | undefined;
  private plainFrame: Buffer | undefined;
  private readonly deflatedFrames = new Map<number, Buffer>();
  private sseEvent: Buffer | undefined;

  constructor(
    /** json is the message as JSON text (one line: JSON.stringify never emits raw newlines). */
    readonly json: string,
    private readonly compression: CompressionSettings,
  ) {}

  /** bytes returns the UTF-8 payload. */
  bytes(): Buffer {
    return (this.payload ??= Buffer.from(this.json, 'utf8'));
  }

  /** wsFrame returns the frame to write to a WebSocket that negotiated `deflate`. */
  wsFrame(deflate: DeflateParams): Buffer {
    const payload = this.bytes();
    if (
      !deflate.enabled ||
      deflate.windowBits < MIN_ZLIB_WINDOW_BITS ||
      payload.length < this.compression.threshold
    ) {
      return (this.plainFrame ??= textFrame(payload));
    }
    let frame = this.deflatedFrames.get(deflate.windowBits);
    if (frame === undefined) {
      frame = deflatedTextFrame(payload, deflate.windowBits, this.compression.level);
      this.deflatedFrames.set(deflate.windowBits, frame);
    }
    return frame;
  }

  /** sse returns the message as one Server-Sent Event: a single `data:` line and a blank line. */
  sse(): Buffer {
    return (this.sseEvent ??= Buffer.from(`data: ${this.json}\n\n`, 'utf8'));
  }
}
