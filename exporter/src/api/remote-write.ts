/**
 * The Prometheus remote_write 1.0 receiver: `POST /api/prometheus/api/v1/write` takes a snappy-compressed
 * protobuf WriteRequest and appends its float samples to a Storage, so real Prometheus servers and agents can
 * write into the same store the simulator fills. A request is validated as a whole before anything is
 * appended: a bad request gets 4xx and changes nothing. Success is 204, as in Prometheus's own receiver.
 * Spec: https://prometheus.io/docs/concepts/remote_write_spec/
 *
 * The receiver must not be a way to stall or exhaust the exporter, whatever the body: the snappy header is
 * checked before anything is decompressed (snappy-block.ts), decompression runs off the event loop, the
 * protobuf is decoded and the samples appended step by step with a pause for the event loop every
 * YIELD_AFTER_MS, the samples and labels a request may hold are capped, and so are the bytes all requests in
 * flight may hold at once. An optional token (REMOTE_WRITE_TOKEN) restricts who may write. Errors answer in
 * the Prometheus API envelope with a stable `RW_*` code at the start of the message.
 */
import type { IncomingMessage } from 'node:http';
import express from 'express';
import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { ExporterError, defineError, type ErrorFactory } from '../errors.js';
import type { ErrorType } from '../promql/index.js';
import { LABEL_NAME_RE, METRIC_NAME, METRIC_NAME_RE, seriesKey } from '../util/labels.js';
import type { Labels } from '../util/labels.js';
import { MAX_SAMPLE_TIME_MS, MIN_SAMPLE_TIME_MS } from '../tsdb/head.js';
import { SampleBuffer } from '../tsdb/sample-buffer.js';
import type { Storage } from '../tsdb/storage.js';
import { tokenDigest, tokenMatches } from './auth.js';
import { respondErrorWithStatus } from './prometheus/envelope.js';
import type * as RemoteWriteProto from './remote-write-proto.js';
import { SnappyBlockError, checkSnappyBlock, uncompressSnappyBlock } from './snappy-block.js';
import { nextTurn } from '../util/pacer.js';
import type { SnappyHeader } from './snappy-block.js';

/** REMOTE_WRITE_PATH is where Prometheus's `remote_write.url` points (the seed's datasource root + API v1). */
export const REMOTE_WRITE_PATH = '/api/prometheus/api/v1/write';

/**
 * DEFAULT_MAX_SAMPLES_PER_REQUEST caps the samples of one request. Prometheus 2.42 (and Grafana Agent/Alloy,
 * which inherit its queue_config) sends at most `max_samples_per_send` = 2,000 per request by default and
 * vmagent at most 10,000 rows per block; 20,000 leaves room for senders tuned 10× above Prometheus's default
 * while bounding what one request holds (16 bytes per sample, plus its series' labels).
 */
export const DEFAULT_MAX_SAMPLES_PER_REQUEST = 20_000;

/**
 * DEFAULT_MAX_LABELS_PER_REQUEST caps the labels of one request, counted per TimeSeries entry (Prometheus
 * repeats the full label set with every entry). 20,000 samples, each in its own TimeSeries, with 10 labels
 * apiece (node_exporter series carry 3–8; relabelled Kubernetes ones 10–20) is 200,000.
 */
export const DEFAULT_MAX_LABELS_PER_REQUEST = 200_000;

/**
 * DEFAULT_MAX_DECODED_BYTES bounds the uncompressed protobuf (snappy's header declares it; checked before
 * decompressing). A 2,000-sample request from Prometheus is ~0.1–0.5 MB; the count caps above admit at most
 * ~8 MB of realistic labels (20,000 series × 10 labels × ~40 bytes). Measured on the costliest body that
 * passes the caps (long label values; `npm run bench:remote-write`): 16 MiB decodes in ~210–240 ms (in 10 ms
 * slices) and grows the heap by ~44 MiB; 31 MiB took ~450 ms / +87 MiB and 63 MiB ~750 ms / +168 MiB (the
 * old default was 64 MiB), on top of the decoded buffer itself — so 16 MiB.
 */
export const DEFAULT_MAX_DECODED_BYTES = 16 * 1024 * 1024;

/**
 * DEFAULT_MAX_BODY_BYTES bounds the compressed body. WriteRequests compress 4–6× with snappy, so a body at
 * DEFAULT_MAX_DECODED_BYTES is ~3–4 MiB; 16 MiB also admits a poorly compressible one.
 */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * DEFAULT_MAX_IN_FLIGHT_BYTES bounds what all requests being read, decoded and stored hold at once (compressed
 * body + declared uncompressed size): beyond it a request gets 503, which Prometheus retries with backoff,
 * instead of concurrent large bodies adding up to more memory than the exporter has. 128 MiB admits four
 * requests at both caps at once (each peaks near 80 MiB all told), or ~900 typical 2,000-sample requests
 * (~140 KB each) — more than Prometheus's 200 shards send at a time.
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 128 * 1024 * 1024;

/**
 * YIELD_AFTER_MS is how long decoding or appending a request may hold the event loop before it pauses
 * (setImmediate) so scrapes, queries and the tick run in between; 10 ms keeps the loop's lag within its normal
 * jitter. (Measured: a 20,000-sample body takes ~200 ms to decode and, as 20,000 new series, ~200 ms to append
 * to the embedded store — each one stretch without the pauses.)
 */
const YIELD_AFTER_MS = 10;

/** YIELD_CHECK_STEPS: the clock is read every this many steps (a decode step or an append: ~30 ns to ~10 µs). */
const YIELD_CHECK_STEPS = 64;

/** Pacer tells a long loop when it has held the event loop for its slice, and pauses it. */
class Pacer {
  private steps = 0;
  private sliceEnd: number;

  constructor(private readonly sliceMs: number) {
    this.sliceEnd = performance.now() + sliceMs;
  }

  /** due counts one step and says whether the slice is used up (the clock is read every YIELD_CHECK_STEPS). */
  due(): boolean {
    return ++this.steps % YIELD_CHECK_STEPS === 0 && performance.now() >= this.sliceEnd;
  }

  /** pause gives the event loop a turn (util/pacer.ts: paced works take turns), then starts a new slice. */
  async pause(): Promise<void> {
    await nextTurn();
    this.sliceEnd = performance.now() + this.sliceMs;
  }
}

/** STORAGE_FAILED_MESSAGE is all a client learns of a storage failure; the details go to the log. */
const STORAGE_FAILED_MESSAGE = 'storage refused the samples; see the exporter log';

/** MAX_ECHO_CHARS bounds a name or label set quoted back in an error message (and so in the log). */
const MAX_ECHO_CHARS = 120;

/** rwError builds one entry of the receiver's catalogue: a stable RW_ code, its HTTP status, the message given. */
const rwError = <C extends string>(code: C, status: number): ErrorFactory<[message: string]> & { code: C } =>
  defineError(code, status, (message: string) => message) as ErrorFactory<[message: string]> & { code: C };

/**
 * REMOTE_WRITE_ERRORS is the receiver's error catalogue (the exporter's one style, errors.ts): a stable code and
 * an HTTP status each; every throw site words the message so the sender knows what to change.
 */
export const REMOTE_WRITE_ERRORS = {
  RW_UNAUTHORIZED: rwError('RW_UNAUTHORIZED', 401),
  RW_FORBIDDEN: rwError('RW_FORBIDDEN', 403),
  RW_UNSUPPORTED_ENCODING: rwError('RW_UNSUPPORTED_ENCODING', 400),
  RW_UNSUPPORTED_PROTOCOL: rwError('RW_UNSUPPORTED_PROTOCOL', 415),
  RW_BODY_TOO_LARGE: rwError('RW_BODY_TOO_LARGE', 413),
  RW_DECODED_TOO_LARGE: rwError('RW_DECODED_TOO_LARGE', 413),
  RW_TOO_MANY_SAMPLES: rwError('RW_TOO_MANY_SAMPLES', 413),
  RW_TOO_MANY_LABELS: rwError('RW_TOO_MANY_LABELS', 413),
  RW_EMPTY_BODY: rwError('RW_EMPTY_BODY', 400),
  RW_BAD_SNAPPY: rwError('RW_BAD_SNAPPY', 400),
  RW_BAD_PROTOBUF: rwError('RW_BAD_PROTOBUF', 400),
  RW_MISSING_METRIC_NAME: rwError('RW_MISSING_METRIC_NAME', 400),
  RW_INVALID_METRIC_NAME: rwError('RW_INVALID_METRIC_NAME', 400),
  RW_INVALID_LABEL_NAME: rwError('RW_INVALID_LABEL_NAME', 400),
  RW_DUPLICATE_LABEL_NAME: rwError('RW_DUPLICATE_LABEL_NAME', 400),
  RW_BAD_TIMESTAMP: rwError('RW_BAD_TIMESTAMP', 400),
  RW_NON_MONOTONIC: rwError('RW_NON_MONOTONIC', 400),
  RW_BUSY: rwError('RW_BUSY', 503),
  RW_STORAGE_FAILED: rwError('RW_STORAGE_FAILED', 500),
  RW_INTERNAL: rwError('RW_INTERNAL', 500),
};

/** RemoteWriteErrorCode is one stable error code of the receiver. */
export type RemoteWriteErrorCode = keyof typeof REMOTE_WRITE_ERRORS;

/** isRemoteWriteError tells a rejection of the receiver's catalogue from an unexpected failure. */
export function isRemoteWriteError(err: unknown): err is ExporterError {
  return err instanceof ExporterError && err.code in REMOTE_WRITE_ERRORS;
}

/**
 * errorTypeOf is the Prometheus errorType a status is answered with in the envelope: Prometheus has none for
 * refused credentials or oversize requests; they are the client's to fix, so `bad_data`, the status telling
 * them apart.
 */
function errorTypeOf(status: number): ErrorType {
  if (status === 503) return 'unavailable';
  return status >= 500 ? 'internal' : 'bad_data';
}

/**
 * ValidSeries is one series of a request that passed validation: labels normalised, samples in order. Values
 * live in a typed array: V8 quiets signalling NaNs stored in plain double arrays, which would turn
 * Prometheus's stale marker (0x7ff0000000000002) into an ordinary NaN.
 */
export interface ValidSeries {
  readonly labels: Labels;
  readonly samples: SampleBuffer;
}

/** ValidatedRequest is a whole request that passed validation, plus what it carried that is not stored. */
export interface ValidatedRequest {
  readonly series: readonly ValidSeries[];
  readonly samples: number;
  readonly exemplars: number;
  readonly histograms: number;
}

/** DecodeLimits bounds what decoding one request may cost; see the DEFAULT_* constants for each default. */
export interface DecodeLimits {
  readonly maxDecodedBytes: number;
  readonly maxSamples: number;
  readonly maxLabels: number;
}

/** DEFAULT_DECODE_LIMITS are the limits a receiver uses unless configured otherwise. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxDecodedBytes: DEFAULT_MAX_DECODED_BYTES,
  maxSamples: DEFAULT_MAX_SAMPLES_PER_REQUEST,
  maxLabels: DEFAULT_MAX_LABELS_PER_REQUEST,
};

/** echo quotes client-sent text for a message, cut to MAX_ECHO_CHARS so a huge label cannot bloat replies or logs. */
function echo(text: string): string {
  return text.length <= MAX_ECHO_CHARS
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, MAX_ECHO_CHARS)).slice(0, -1)}…"`;
}

/** describe renders a label set for a message, as `name{k="v",…}`, each part and the whole cut short. */
function describe(labels: Readonly<Record<string, string>>): string {
  const name = labels[METRIC_NAME] ?? '';
  const rest = Object.entries(labels)
    .filter(([k]) => k !== METRIC_NAME)
    .map(([k, v]) => `${k.slice(0, MAX_ECHO_CHARS)}=${echo(v)}`)
    .join(',');
  const text = `${name.slice(0, MAX_ECHO_CHARS)}{${rest}}`;
  return text.length <= MAX_ECHO_CHARS ? text : `${text.slice(0, MAX_ECHO_CHARS)}…`;
}

/**
 * RequestAssembler validates a request as WriteRequestReader delivers it, one TimeSeries at a time, and
 * merges it into ValidSeries. Rules, as Prometheus's receiver applies them: every series has a valid
 * `__name__`; label names match `[a-zA-Z_][a-zA-Z0-9_]*` and are unique; empty label values are dropped
 * (Prometheus treats them as absent); each series' timestamps strictly increase, also across repeated entries
 * of the same series in one request. The caps are checked as labels and samples arrive, so a request over a
 * cap is refused having held at most the cap. The first violation throws a catalogue error.
 */
class RequestAssembler {
  private readonly byKey = new Map<string, ValidSeries>();
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private readonly seen = new Set<string>();
  /** pending holds the current TimeSeries' samples until its labels are known (they may come after). */
  private readonly pending = new SampleBuffer();
  private index = -1;
  private labelCount = 0;
  samples = 0;
  exemplars = 0;
  histograms = 0;

  constructor(private readonly limits: DecodeLimits) {}

  startSeries(): void {
    this.index++;
    this.names.length = 0;
    this.values.length = 0;
    this.pending.clear();
  }

  addLabel(name: string, value: string): void {
    if (++this.labelCount > this.limits.maxLabels) {
      throw REMOTE_WRITE_ERRORS.RW_TOO_MANY_LABELS(
        `request carries more than ${this.limits.maxLabels} labels (counted per TimeSeries entry); ` +
          'send smaller batches (Prometheus: lower remote_write.queue_config.max_samples_per_send)',
      );
    }
    this.names.push(name);
    this.values.push(value);
  }

  addSample(timestamp: number, value: number): void {
    if (++this.samples > this.limits.maxSamples) {
      throw REMOTE_WRITE_ERRORS.RW_TOO_MANY_SAMPLES(
        `request carries more than ${this.limits.maxSamples} samples; send smaller batches ` +
          `(Prometheus: remote_write.queue_config.max_samples_per_send ≤ ${this.limits.maxSamples})`,
      );
    }
    this.pending.push(timestamp, value);
  }

  endSeries(): void {
    const index = this.index;
    const labels: Record<string, string> = {};
    this.seen.clear();
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i] ?? '';
      if (!LABEL_NAME_RE.test(name)) {
        throw REMOTE_WRITE_ERRORS.RW_INVALID_LABEL_NAME(
          `series #${index}: invalid label name ${echo(name)} (must match [a-zA-Z_][a-zA-Z0-9_]*)`,
        );
      }
      if (this.seen.has(name)) {
        throw REMOTE_WRITE_ERRORS.RW_DUPLICATE_LABEL_NAME(
          `series #${index}: label ${echo(name)} appears twice`,
        );
      }
      this.seen.add(name);
      const value = this.values[i] ?? '';
      if (value !== '') labels[name] = value;
    }
    const metric = labels[METRIC_NAME];
    if (metric === undefined) {
      throw REMOTE_WRITE_ERRORS.RW_MISSING_METRIC_NAME(
        `series #${index} ${describe(labels)}: missing __name__ label (every series needs a metric name)`,
      );
    }
    if (!METRIC_NAME_RE.test(metric)) {
      throw REMOTE_WRITE_ERRORS.RW_INVALID_METRIC_NAME(
        `series #${index}: invalid metric name ${echo(metric)} (must match [a-zA-Z_:][a-zA-Z0-9_:]*)`,
      );
    }
    const { ts, n } = this.pending;
    if (n === 0) return;
    const key = seriesKey(labels);
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = { labels, samples: new SampleBuffer(n) };
      this.byKey.set(key, entry);
    }
    let last = entry.samples.lastT();
    for (let i = 0; i < n; i++) {
      const t = ts[i] ?? 0;
      // Prometheus answers samples out of its storage's bounds with 400 too; the store would only drop them.
      if (t < MIN_SAMPLE_TIME_MS || t > MAX_SAMPLE_TIME_MS)
        throw REMOTE_WRITE_ERRORS.RW_BAD_TIMESTAMP(
          `series #${index} ${describe(labels)}: timestamp ${t} ms is outside the times the store holds (${MIN_SAMPLE_TIME_MS} to ${MAX_SAMPLE_TIME_MS}, JS Date's range)`,
        );
      if (t <= last) {
        throw REMOTE_WRITE_ERRORS.RW_NON_MONOTONIC(
          `series #${index} ${describe(labels)}: sample timestamps must strictly increase, got ${t} after ${last}`,
        );
      }
      last = t;
    }
    entry.samples.appendFrom(this.pending);
  }

  result(): ValidatedRequest {
    return {
      series: [...this.byKey.values()],
      samples: this.samples,
      exemplars: this.exemplars,
      histograms: this.histograms,
    };
  }
}

/** WireCodec is the protobuf side of the receiver (remote-write-proto.ts and protobufjs behind it). */
type WireCodec = typeof RemoteWriteProto;

let wireCodec: Promise<WireCodec> | undefined;

/**
 * loadWireCodec loads the protobuf module on the first request: protobufjs and its parsed schema (~0.7 MB of
 * heap) stay out of exporters nobody writes to. The receiver's self-metrics do not depend on it.
 */
function loadWireCodec(): Promise<WireCodec> {
  wireCodec ??= import('./remote-write-proto.js');
  return wireCodec;
}

/** snappyRejection maps a SnappyBlockError to the receiver's error codes. */
function snappyRejection(err: SnappyBlockError): ExporterError {
  if (err.reason === 'too_large') {
    return REMOTE_WRITE_ERRORS.RW_DECODED_TOO_LARGE(
      `snappy header ${err.message}; send smaller batches ` +
        '(Prometheus: lower remote_write.queue_config.max_samples_per_send)',
    );
  }
  return REMOTE_WRITE_ERRORS.RW_BAD_SNAPPY(
    `body is not valid snappy block format (remote write 1.0 uses snappy block, not framed): ${err.message}`,
  );
}

/** checkBodyHeader is checkSnappyBlock with the receiver's error codes. */
function checkBodyHeader(body: Uint8Array, maxDecodedBytes: number): SnappyHeader {
  try {
    return checkSnappyBlock(body, maxDecodedBytes);
  } catch (err) {
    throw err instanceof SnappyBlockError ? snappyRejection(err) : err;
  }
}

/** uncompressBody is the snappy stage, with the receiver's error codes. */
async function uncompressBody(body: Uint8Array, maxDecodedBytes: number): Promise<Uint8Array> {
  try {
    return await uncompressSnappyBlock(body, maxDecodedBytes);
  } catch (err) {
    throw err instanceof SnappyBlockError ? snappyRejection(err) : err;
  }
}

/**
 * decodeWriteRequest is the protobuf stage: it walks the uncompressed WriteRequest step by step into a
 * RequestAssembler, pausing for the event loop every YIELD_AFTER_MS, so a body at the size cap delays other
 * work by at most about that much at a time.
 */
async function decodeWriteRequest(
  raw: Uint8Array,
  limits: DecodeLimits,
  yieldAfterMs: number,
): Promise<ValidatedRequest> {
  const { TimestampRangeError, WireFormatError, WriteRequestReader } = await loadWireCodec();
  const reader = new WriteRequestReader(raw);
  const assembler = new RequestAssembler(limits);
  const pacer = new Pacer(yieldAfterMs);
  for (;;) {
    let event;
    try {
      event = reader.next();
    } catch (err) {
      if (err instanceof TimestampRangeError) throw REMOTE_WRITE_ERRORS.RW_BAD_TIMESTAMP(err.message);
      if (err instanceof WireFormatError) {
        throw REMOTE_WRITE_ERRORS.RW_BAD_PROTOBUF(
          `body is not a valid prometheus.WriteRequest protobuf: ${err.message}`,
        );
      }
      throw err;
    }
    switch (event) {
      case 'end':
        return assembler.result();
      case 'series':
        assembler.startSeries();
        break;
      case 'label':
        assembler.addLabel(reader.labelName, reader.labelValue);
        break;
      case 'sample':
        assembler.addSample(reader.timestamp, reader.value);
        break;
      case 'seriesEnd':
        assembler.endSeries();
        break;
      case 'exemplar':
        assembler.exemplars++;
        break;
      case 'histogram':
        assembler.histograms++;
        break;
      case 'skipped':
        break;
    }
    if (pacer.due()) await pacer.pause();
  }
}

/**
 * decodeRemoteWriteBody turns a raw request body into a validated request: snappy block format, then
 * protobuf, then validation, each bounded by `limits`; the protobuf stage pauses for the event loop after
 * every `yieldAfterMs` of work. Rejects with a catalogue error with the code of the first failing stage.
 */
export async function decodeRemoteWriteBody(
  body: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  yieldAfterMs = YIELD_AFTER_MS,
): Promise<ValidatedRequest> {
  if (body.length === 0)
    throw REMOTE_WRITE_ERRORS.RW_EMPTY_BODY('empty body: expected a snappy-compressed WriteRequest');
  const raw = await uncompressBody(body, limits.maxDecodedBytes);
  return decodeWriteRequest(raw, limits, yieldAfterMs);
}

/** RemoteWriteOptions configures the receiver. */
export interface RemoteWriteOptions {
  /** storage receives the samples (only its appender is used). */
  readonly storage: Pick<Storage, 'appender'>;
  readonly logger: Logger;
  /**
   * token, when set, must come with every request as `Authorization: Bearer <token>` or as the password of
   * HTTP basic auth (any user name), as Prometheus's remote_write `authorization` / `basic_auth` send it.
   * Unset: no authentication.
   */
  readonly token?: string | undefined;
  /** maxBodyBytes bounds the compressed body (default DEFAULT_MAX_BODY_BYTES); larger gets 413. */
  readonly maxBodyBytes?: number;
  /** maxDecodedBytes bounds the uncompressed protobuf (default DEFAULT_MAX_DECODED_BYTES). */
  readonly maxDecodedBytes?: number;
  /** maxSamplesPerRequest caps a request's samples (default DEFAULT_MAX_SAMPLES_PER_REQUEST). */
  readonly maxSamplesPerRequest?: number;
  /** maxLabelsPerRequest caps a request's labels (default DEFAULT_MAX_LABELS_PER_REQUEST). */
  readonly maxLabelsPerRequest?: number;
  /** maxInFlightBytes bounds body + decoded bytes of all requests at once (default DEFAULT_MAX_IN_FLIGHT_BYTES). */
  readonly maxInFlightBytes?: number;
  /** registry gets the receiver's self-metrics; none are registered when absent. */
  readonly registry?: Registry;
  /** path overrides the route (default REMOTE_WRITE_PATH). */
  readonly path?: string;
}

/**
 * InFlightBudget counts the bytes requests hold while they are read and decoded; a reservation that would
 * exceed the limit fails, and the request is answered 503 instead of growing the heap.
 */
class InFlightBudget {
  private used = 0;
  constructor(
    readonly limit: number,
    private readonly gauge: Gauge,
  ) {}

  /** reserve takes `bytes` from the budget and returns true, or returns false and takes nothing. */
  reserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    this.gauge.set(this.used);
    return true;
  }

  /** release returns what a request reserved. */
  release(bytes: number): void {
    this.used -= bytes;
    this.gauge.set(this.used);
  }
}

/** busy is the rejection of a request the in-flight budget has no room for. */
function busy(limit: number): ExporterError {
  return REMOTE_WRITE_ERRORS.RW_BUSY(
    `remote-write requests in flight already hold ${limit} bytes; retry later (Prometheus retries 5xx)`,
  );
}

/** RequestAborted is a request whose client went away before its body was complete: nobody to answer. */
class RequestAborted extends Error {
  constructor() {
    super('client closed the connection before the body was complete');
    this.name = 'RequestAborted';
  }
}

/** readBody reads the raw body up to `limit` bytes, reserving each chunk in `budget` (added to `held`). */
function readBody(
  req: IncomingMessage,
  limit: number,
  budget: InFlightBudget,
  held: { bytes: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(
        REMOTE_WRITE_ERRORS.RW_BODY_TOO_LARGE(`body of ${declared} bytes exceeds the limit of ${limit}`),
      );
      req.resume();
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: Error): void => {
      settled = true;
      parts.length = 0;
      reject(err);
      // Drain the rest unread so the connection can answer; nothing more is buffered.
      req.resume();
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        fail(REMOTE_WRITE_ERRORS.RW_BODY_TOO_LARGE(`body exceeds the limit of ${limit} bytes`));
        return;
      }
      if (!budget.reserve(chunk.length)) {
        fail(busy(budget.limit));
        return;
      }
      held.bytes += chunk.length;
      parts.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(parts, size));
    });
    // A client that goes away mid-body ends in 'error' or just 'close'; either way the promise settles, so
    // the bytes reserved for the body return to the budget.
    req.on('error', () => {
      if (settled) return;
      settled = true;
      reject(new RequestAborted());
    });
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(new RequestAborted());
    });
  });
}

function checkHeaders(req: Request): void {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'snappy') {
    throw REMOTE_WRITE_ERRORS.RW_UNSUPPORTED_ENCODING(
      `Content-Encoding ${echo(encoding)} not supported: remote write 1.0 bodies are snappy`,
    );
  }
  // Remote write 2.0 announces itself in the content type's proto parameter; the spec says answer 415.
  const type = req.headers['content-type'] ?? '';
  const proto = /;\s*proto=([^;\s]+)/.exec(type)?.[1];
  if (proto !== undefined && proto !== 'prometheus.WriteRequest') {
    throw REMOTE_WRITE_ERRORS.RW_UNSUPPORTED_PROTOCOL(
      `protobuf message ${echo(proto)} not supported: this receiver speaks remote write 1.0 (prometheus.WriteRequest)`,
    );
  }
}

/** AUTH_CHALLENGES are the WWW-Authenticate challenges of a 401: both schemes Prometheus can send. */
const AUTH_CHALLENGES = ['Bearer realm="openmanager"', 'Basic realm="openmanager", charset="UTF-8"'];

/**
 * presentedToken extracts the credential a request presents: the token of `Authorization: Bearer <token>`, or
 * the password of `Authorization: Basic base64(user:password)` (RFC 7617: the user name ends at the first
 * colon, the password may contain more). Undefined when there is none or the header cannot be parsed.
 */
function presentedToken(header: string | undefined): string | undefined {
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header ?? '');
  const scheme = m?.[1]?.toLowerCase();
  const credentials = m?.[2];
  if (scheme === undefined || credentials === undefined) return undefined;
  if (scheme === 'bearer') return credentials;
  const pair = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  return colon < 0 ? undefined : pair.slice(colon + 1);
}

/**
 * checkAuth throws RW_UNAUTHORIZED (no usable credentials) or RW_FORBIDDEN (wrong ones) unless the request
 * presents the token whose digest is `want`. Neither the header nor the token ever reaches a message or the log.
 */
function checkAuth(req: Request, res: Response, want: Buffer): void {
  const token = presentedToken(req.headers.authorization);
  if (token === undefined) {
    res.setHeader('WWW-Authenticate', AUTH_CHALLENGES);
    throw REMOTE_WRITE_ERRORS.RW_UNAUTHORIZED(
      'this receiver needs the remote-write token: send "Authorization: Bearer <REMOTE_WRITE_TOKEN>" ' +
        '(Prometheus: remote_write.authorization.credentials) or basic auth with it as the password',
    );
  }
  if (!tokenMatches(token, want)) {
    throw REMOTE_WRITE_ERRORS.RW_FORBIDDEN('the credentials do not match the configured REMOTE_WRITE_TOKEN');
  }
}

/** ReceiverMetrics are the receiver's self-metrics. */
interface ReceiverMetrics {
  readonly requests: Counter<'code'>;
  readonly samples: Counter<'result'>;
  readonly ignored: Counter<'kind'>;
  readonly inFlight: Gauge;
}

function receiverMetrics(registry: Registry | undefined): ReceiverMetrics {
  const registers = registry === undefined ? [] : [registry];
  return {
    requests: new Counter({
      name: 'openmanager_exporter_remote_write_requests_total',
      help: 'Remote-write requests received, by HTTP status code.',
      labelNames: ['code'] as const,
      registers,
    }),
    samples: new Counter({
      name: 'openmanager_exporter_remote_write_samples_total',
      help: 'Remote-write samples by outcome: appended, or out_of_order / duplicate (rejected by the store).',
      labelNames: ['result'] as const,
      registers,
    }),
    ignored: new Counter({
      name: 'openmanager_exporter_remote_write_ignored_total',
      help: 'Remote-write exemplars and native histograms received but not stored (float samples only).',
      labelNames: ['kind'] as const,
      registers,
    }),
    inFlight: new Gauge({
      name: 'openmanager_exporter_remote_write_in_flight_bytes',
      help: 'Bytes held by remote-write requests being read, decoded or stored (body + declared uncompressed size).',
      registers,
    }),
  };
}

/**
 * RemoteWriteReceiver serves each POST in two stages, receive (authenticate, check the headers, read and
 * decode the body) and store (append, commit, answer 204); any rejection is answered by `fail`. A request's
 * bytes stay reserved in the in-flight budget until it is answered.
 */
class RemoteWriteReceiver {
  private readonly storage: Pick<Storage, 'appender'>;
  private readonly logger: Logger;
  private readonly maxBody: number;
  private readonly limits: DecodeLimits;
  private readonly tokenWant: Buffer | undefined;
  private readonly metrics: ReceiverMetrics;
  private readonly budget: InFlightBudget;

  constructor(options: RemoteWriteOptions) {
    this.storage = options.storage;
    this.logger = options.logger;
    this.maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.limits = {
      maxDecodedBytes: options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES,
      maxSamples: options.maxSamplesPerRequest ?? DEFAULT_MAX_SAMPLES_PER_REQUEST,
      maxLabels: options.maxLabelsPerRequest ?? DEFAULT_MAX_LABELS_PER_REQUEST,
    };
    this.tokenWant = options.token === undefined ? undefined : tokenDigest(options.token);
    this.metrics = receiverMetrics(options.registry);
    // A budget below one request at both caps would answer such a request 503 forever; it always fits alone.
    this.budget = new InFlightBudget(
      Math.max(
        options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
        this.maxBody + this.limits.maxDecodedBytes,
      ),
      this.metrics.inFlight,
    );
  }

  /** handle serves one request; the promise rejects only on a failure that is not the client's. */
  async handle(req: Request, res: Response): Promise<void> {
    const held = { bytes: 0 };
    try {
      let request: ValidatedRequest;
      try {
        request = await this.receive(req, res, held);
      } catch (err) {
        if (err instanceof RequestAborted) {
          this.logger.debug({ remote: req.socket.remoteAddress }, `remote write: ${err.message}`);
          return;
        }
        if (!isRemoteWriteError(err)) throw err;
        this.logger.warn(
          { code: err.code, remote: req.socket.remoteAddress },
          `remote write rejected: ${err.message}`,
        );
        this.fail(res, err);
        return;
      }
      // The reservation lasts until the samples are stored: the validated series are of the decoded size's order.
      await this.store(request, res);
    } finally {
      this.budget.release(held.bytes);
    }
  }

  /** fail answers a rejected request in the Prometheus error envelope and counts it. */
  fail(res: Response, err: ExporterError): void {
    this.metrics.requests.inc({ code: String(err.status) });
    respondErrorWithStatus(res, err.status, errorTypeOf(err.status), `${err.code}: ${err.message}`);
  }

  /** receive authenticates, reads, decodes and validates a request, reserving its bytes in `held`. */
  private async receive(req: Request, res: Response, held: { bytes: number }): Promise<ValidatedRequest> {
    if (this.tokenWant !== undefined) checkAuth(req, res, this.tokenWant);
    checkHeaders(req);
    const body = await readBody(req, this.maxBody, this.budget, held);
    if (body.length === 0) return decodeRemoteWriteBody(body, this.limits);
    // Reserve the decoded size the header declares before decompressing; checkSnappyBlock refuses an
    // oversize or implausible header first, so the reservation is at most maxDecodedBytes.
    const { declared } = checkBodyHeader(body, this.limits.maxDecodedBytes);
    if (!this.budget.reserve(declared)) throw busy(this.budget.limit);
    held.bytes += declared;
    return decodeRemoteWriteBody(body, this.limits);
  }

  /** store appends a validated request, commits it and answers 204 (or RW_STORAGE_FAILED). */
  private async store(request: ValidatedRequest, res: Response): Promise<void> {
    const { ignored, samples, requests } = this.metrics;
    if (request.exemplars > 0) ignored.inc({ kind: 'exemplar' }, request.exemplars);
    if (request.histograms > 0) ignored.inc({ kind: 'histogram' }, request.histograms);
    const app = this.storage.appender();
    const pacer = new Pacer(YIELD_AFTER_MS);
    try {
      // Appends are buffered in this appender until commit (new series are created at append), so pausing
      // between them lets other work run without exposing half a request.
      for (const s of request.series) {
        let ref = 0;
        const { ts, vs, n } = s.samples;
        for (let i = 0; i < n; i++) {
          ref = app.append(ref, s.labels, ts[i] ?? 0, vs[i] ?? 0);
          if (pacer.due()) await pacer.pause();
        }
      }
    } catch (err) {
      app.rollback();
      this.logger.error({ err }, 'remote write: append failed');
      this.fail(res, REMOTE_WRITE_ERRORS.RW_STORAGE_FAILED(STORAGE_FAILED_MESSAGE));
      return;
    }
    let result;
    try {
      result = await app.commit();
    } catch (err) {
      // 5xx makes Prometheus retry the batch, which is what we want when the store itself failed.
      this.logger.error({ err }, 'remote write: commit failed');
      this.fail(res, REMOTE_WRITE_ERRORS.RW_STORAGE_FAILED(STORAGE_FAILED_MESSAGE));
      return;
    }
    samples.inc({ result: 'appended' }, result.appended);
    if (result.outOfOrder > 0) samples.inc({ result: 'out_of_order' }, result.outOfOrder);
    if (result.duplicate > 0) samples.inc({ result: 'duplicate' }, result.duplicate);
    if (result.outOfOrder > 0 || result.duplicate > 0) {
      // A retried batch (after a timeout) lands here as duplicates; answering 204 keeps the sender moving.
      this.logger.info(
        { outOfOrder: result.outOfOrder, duplicate: result.duplicate, appended: result.appended },
        'remote write: store rejected some samples as out of order or duplicate',
      );
    }
    requests.inc({ code: '204' });
    res.status(204).end();
  }
}

/**
 * createRemoteWriteRouter returns an express router serving `POST <path>` (default REMOTE_WRITE_PATH). Mount it
 * with `app.use(router)` before any JSON body parser (the body is read raw here).
 */
export function createRemoteWriteRouter(options: RemoteWriteOptions): Router {
  const receiver = new RemoteWriteReceiver(options);
  const router = express.Router();
  router.post(options.path ?? REMOTE_WRITE_PATH, (req, res, next) => {
    receiver.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        options.logger.error({ err }, 'remote write: unexpected failure');
        receiver.fail(res, REMOTE_WRITE_ERRORS.RW_INTERNAL('internal error; see the exporter log'));
        return;
      }
      next(err);
    });
  });
  return router;
}
