/**
 * The Prometheus remote_write 1.0 wire schema (prometheus/prompb types.proto + remote.proto), trimmed to what a
 * float-sample receiver needs, and the decode/encode helpers around protobufjs. Exemplars and native
 * histograms are declared as opaque `bytes` so they are skipped cheaply yet still counted.
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

/** WireSeries is one time series of a write request. */
export interface WireSeries {
  readonly labels: readonly WireLabel[];
  readonly samples: readonly WireSample[];
  /** exemplars and histograms count the parts this receiver does not store. */
  readonly exemplars: number;
  readonly histograms: number;
}

/** WireWriteRequest is a decoded remote-write request. */
export interface WireWriteRequest {
  readonly timeseries: readonly WireSeries[];
}

/** LongLike is what protobufjs hands back for an int64 when the `long` package is present. */
interface LongLike {
  toNumber(): number;
  toString(): string;
}

// The decoded message's shape (protobufjs fills defaults for absent scalars, empty arrays for repeated).
interface DecodedSample {
  value: number;
  timestamp: number | LongLike;
}
interface DecodedSeries {
  labels: WireLabel[];
  samples: DecodedSample[];
  exemplars: Uint8Array[];
  histograms: Uint8Array[];
}
interface DecodedRequest {
  timeseries: DecodedSeries[];
}

/** TimestampRangeError reports an int64 timestamp a JS number cannot hold exactly. */
export class TimestampRangeError extends Error {
  constructor(readonly raw: string) {
    super(`timestamp ${raw} is outside the exactly representable range ±2^53 ms`);
    this.name = 'TimestampRangeError';
  }
}

function toMillis(t: number | LongLike): number {
  const n = typeof t === 'number' ? t : t.toNumber();
  if (!Number.isSafeInteger(n))
    throw new TimestampRangeError(typeof t === 'number' ? String(t) : t.toString());
  return n;
}

/**
 * decodeWriteRequest parses the uncompressed protobuf bytes of a WriteRequest. It throws protobufjs's
 * decode error on malformed input and TimestampRangeError on an int64 timestamp beyond ±2^53.
 */
export function decodeWriteRequest(bytes: Uint8Array): WireWriteRequest {
  const message = writeRequestType.decode(bytes) as unknown as DecodedRequest;
  return {
    timeseries: message.timeseries.map((ts) => ({
      labels: ts.labels,
      samples: ts.samples.map((s) => ({ value: s.value, timestamp: toMillis(s.timestamp) })),
      exemplars: ts.exemplars.length,
      histograms: ts.histograms.length,
    })),
  };
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
