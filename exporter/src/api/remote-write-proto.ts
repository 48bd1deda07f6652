/**
 * The Prometheus remote_write 1.0 wire format (prometheus/prompb types.proto + remote.proto): the schema,
 * trimmed to what a float-sample receiver needs (the encoder senders' side uses, for tests and benches), and
 * WriteRequestReader, the step-by-step decoder the receiver uses so that decoding a large body never holds the
 * event loop for long. Exemplars and native histograms are skipped unparsed yet still counted.
 * Spec: https://prometheus.io/docs/concepts/remote_write_spec/
 */
import protobuf from 'protobufjs';

/** REMOTE_WRITE_PROTO is the protobuf schema, field numbers as in prompb (types.proto, remote.proto). */
export const REMOTE_WRITE_PROTO = `
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
  repeated MetricMetadata metadata = 3;
}

message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated bytes exemplars = 3;
  repeated bytes histograms = 4;
}

message Label {
  string name = 1;
  string value = 2;
}

message Sample {
  double value = 1;
  int64 timestamp = 2;
}

message MetricMetadata {
  int32 type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}
`;

const root = protobuf.parse(REMOTE_WRITE_PROTO, { keepCase: true }).root;
const writeRequestType = root.lookupType('prometheus.WriteRequest');

/** WireLabel is one label pair as sent on the wire (order and duplicates not yet checked). */
export interface WireLabel {
  readonly name: string;
  readonly value: string;
}

/** WireSample is one float sample; `timestamp` is ms since the epoch. */
export interface WireSample {
  readonly value: number;
  readonly timestamp: number;
}

/** LongLike is what protobufjs hands back for an int64 when the `long` package is present. */
interface LongLike {
  toNumber(): number;
  toString(): string;
}

/** TimestampRangeError reports an int64 timestamp a JS number cannot hold exactly. */
export class TimestampRangeError extends Error {
  constructor(readonly raw: string) {
    super(`timestamp ${raw} is outside the exactly representable range ±2^53 ms`);
    this.name = 'TimestampRangeError';
  }
}

/** WireFormatError is a body that is not a well-formed WriteRequest; the message says where and why. */
export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

function toMillis(t: number | LongLike): number {
  const n = typeof t === 'number' ? t : t.toNumber();
  if (!Number.isSafeInteger(n))
    throw new TimestampRangeError(typeof t === 'number' ? String(t) : t.toString());
  return n;
}

/**
 * WireEvent is what one `WriteRequestReader.next()` step decoded: a TimeSeries opening or closing, one of its
 * labels or samples (the values are on the reader until the next step), an exemplar or native histogram
 * (skipped, counted), any other field (skipped), or the end of the request.
 */
export type WireEvent =
  'series' | 'label' | 'sample' | 'exemplar' | 'histogram' | 'seriesEnd' | 'skipped' | 'end';

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/#structure).
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/**
 * MAX_FIELDS_PER_LEAF bounds the fields of one Label or Sample message, each decoded in a single step. Both
 * have two fields and senders write each once; the bound keeps one step O(1) whatever a hostile body holds
 * (a Label of a million unknown fields would otherwise be one long uninterruptible loop).
 */
const MAX_FIELDS_PER_LEAF = 16;

/**
 * WriteRequestReader walks a WriteRequest (uncompressed protobuf) one field at a time, with protobufjs's Reader
 * as the wire primitive: each `next()` decodes one top-level field, one field of the current TimeSeries, or
 * one whole Label / Sample (at most MAX_FIELDS_PER_LEAF fields), so a step costs O(1) plus the bytes of the
 * strings it reads, and the caller can pause between any two steps to let the event loop run. Nested
 * messages are bounded by narrowing the Reader's `len` to the message's end: a field that overruns its
 * message is a truncation error, never a read into the next one. Field numbers follow prompb (types.proto):
 * WriteRequest.timeseries = 1; TimeSeries.labels = 1, samples = 2, exemplars = 3, histograms = 4;
 * Label.name = 1, value = 2; Sample.value = 1 (double), timestamp = 2 (int64). Groups (wire types 3/4,
 * unused by prompb) are rejected. Errors: WireFormatError, TimestampRangeError.
 */
export class WriteRequestReader {
  /** labelName and labelValue hold the label a 'label' step decoded (absent fields read as ''). */
  labelName = '';
  labelValue = '';
  /** timestamp (ms) and value hold the sample a 'sample' step decoded; NaN payloads (stale markers) intact. */
  timestamp = 0;
  value = 0;

  private readonly reader: protobuf.Reader;
  private readonly end: number;
  /** seriesEnd is the end offset of the TimeSeries being walked, -1 between series. */
  private seriesEnd = -1;

  constructor(bytes: Uint8Array) {
    this.reader = protobuf.Reader.create(bytes);
    this.end = bytes.length;
  }

  /** next decodes one step and says what it was; after 'end' it keeps returning 'end'. */
  next(): WireEvent {
    const r = this.reader;
    try {
      if (this.seriesEnd >= 0) return this.seriesStep(r);
      if (r.pos >= this.end) return 'end';
      const tag = readTag(r);
      if (tag >>> 3 !== 1) {
        skipField(r, tag & 7);
        return 'skipped';
      }
      this.seriesEnd = enterMessage(r, tag & 7, 'WriteRequest.timeseries');
      return 'series';
    } catch (err) {
      throw asWireError(err, r.pos);
    }
  }

  private seriesStep(r: protobuf.Reader): WireEvent {
    if (r.pos >= this.seriesEnd) {
      this.seriesEnd = -1;
      r.len = this.end;
      return 'seriesEnd';
    }
    const tag = readTag(r);
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        this.readLabel(r, wire);
        return 'label';
      case 2:
        this.readSample(r, wire);
        return 'sample';
      case 3:
        expectWire(wire, LEN, 'TimeSeries.exemplars');
        r.skip(r.uint32());
        return 'exemplar';
      case 4:
        expectWire(wire, LEN, 'TimeSeries.histograms');
        r.skip(r.uint32());
        return 'histogram';
      default:
        skipField(r, wire);
        return 'skipped';
    }
  }

  private readLabel(r: protobuf.Reader, wire: number): void {
    const outer = r.len;
    const end = enterMessage(r, wire, 'TimeSeries.labels');
    this.labelName = '';
    this.labelValue = '';
    for (let fields = 1; r.pos < end; fields++) {
      if (fields > MAX_FIELDS_PER_LEAF) throw tooManyFields('Label', r.pos);
      const tag = readTag(r);
      if (tag >>> 3 === 1) {
        expectWire(tag & 7, LEN, 'Label.name');
        this.labelName = r.string();
      } else if (tag >>> 3 === 2) {
        expectWire(tag & 7, LEN, 'Label.value');
        this.labelValue = r.string();
      } else {
        skipField(r, tag & 7);
      }
    }
    r.len = outer;
  }

  private readSample(r: protobuf.Reader, wire: number): void {
    const outer = r.len;
    const end = enterMessage(r, wire, 'TimeSeries.samples');
    this.value = 0;
    this.timestamp = 0;
    for (let fields = 1; r.pos < end; fields++) {
      if (fields > MAX_FIELDS_PER_LEAF) throw tooManyFields('Sample', r.pos);
      const tag = readTag(r);
      if (tag >>> 3 === 1) {
        expectWire(tag & 7, I64, 'Sample.value');
        this.value = r.double();
      } else if (tag >>> 3 === 2) {
        expectWire(tag & 7, VARINT, 'Sample.timestamp');
        // An int64 comes back as a Long when the `long` package is installed (it is, via protobufjs).
        this.timestamp = toMillis(r.int64() as unknown as number | LongLike);
      } else {
        skipField(r, tag & 7);
      }
    }
    r.len = outer;
  }
}

/** readTag reads a field's tag (field number << 3 | wire type); field number 0 is invalid protobuf. */
function readTag(r: protobuf.Reader): number {
  const tag = r.uint32();
  if (tag >>> 3 === 0) throw new WireFormatError(`field number 0 at byte ${r.pos}`);
  return tag;
}

/** enterMessage reads a sub-message's length, narrows the reader to it and returns its end offset. */
function enterMessage(r: protobuf.Reader, wire: number, what: string): number {
  expectWire(wire, LEN, what);
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) {
    throw new WireFormatError(`${what} of ${len} bytes at byte ${r.pos} runs past its enclosing message`);
  }
  r.len = end;
  return end;
}

function expectWire(wire: number, want: number, what: string): void {
  if (wire !== want) throw new WireFormatError(`${what} has wire type ${wire}, expected ${want}`);
}

function tooManyFields(message: string, pos: number): WireFormatError {
  return new WireFormatError(`${message} message at byte ${pos} has more than ${MAX_FIELDS_PER_LEAF} fields`);
}

/** skipField skips one field of a known wire type; groups (3, 4) and undefined types are errors. */
function skipField(r: protobuf.Reader, wire: number): void {
  switch (wire) {
    case VARINT:
      r.skip();
      return;
    case I64:
      r.skip(8);
      return;
    case LEN:
      r.skip(r.uint32());
      return;
    case I32:
      r.skip(4);
      return;
    default:
      throw new WireFormatError(`unsupported wire type ${wire} at byte ${r.pos} (prompb uses no groups)`);
  }
}

/** asWireError turns what protobufjs's Reader throws into a WireFormatError that names the offset. */
function asWireError(err: unknown, pos: number): Error {
  if (err instanceof WireFormatError || err instanceof TimestampRangeError) return err;
  // The Reader throws RangeError("index out of range…") past the end and Error("invalid varint encoding").
  if (err instanceof RangeError) return new WireFormatError(`message truncated at byte ${pos}`);
  return new WireFormatError(`invalid varint at byte ${pos}`);
}

/** WriteRequestInput is what `encodeWriteRequest` takes: series of labels and float samples. */
export interface WriteRequestInput {
  readonly timeseries: readonly {
    readonly labels: readonly WireLabel[];
    readonly samples: readonly WireSample[];
  }[];
}

/** encodeWriteRequest serialises a WriteRequest (uncompressed), as a remote-write sender does; for tests and benches. */
export function encodeWriteRequest(request: WriteRequestInput): Uint8Array {
  return writeRequestType.encode(writeRequestType.fromObject(request)).finish();
}
