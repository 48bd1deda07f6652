/**
 * The Prometheus remote_write 1.0 receiver: `POST /api/prometheus/api/v1/write` takes a snappy-compressed
 * protobuf WriteRequest and appends its float samples to a Storage, so real Prometheus servers and agents can
 * write into the same store the simulator fills. A request is validated as a whole before anything is
 * appended: a bad request gets 400 and changes nothing. Success is 204, as in Prometheus's own receiver.
 * Spec: https://prometheus.io/docs/concepts/remote_write_spec/
 */
import type { IncomingMessage } from 'node:http';
import express from 'express';
import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import snappy from 'snappyjs';
import { METRIC_NAME, seriesKey } from '../util/labels.js';
import type { Labels } from '../util/labels.js';
import { SampleBuffer } from '../tsdb/sample-buffer.js';
import type { Storage } from '../tsdb/storage.js';
import type { WireWriteRequest } from './remote-write-proto.js';
import type * as RemoteWriteProto from './remote-write-proto.js';

/** REMOTE_WRITE_PATH is where Prometheus's `remote_write.url` points (the seed's datasource root + API v1). */
export const REMOTE_WRITE_PATH = '/api/prometheus/api/v1/write';

/**
 * DEFAULT_MAX_BODY_BYTES bounds the compressed body. Prometheus sends at most `max_samples_per_send` (2,000 in
 * 2.42) samples per request — well under 1 MiB compressed; 16 MiB leaves room for big agents' batches.
 */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** DEFAULT_MAX_DECODED_BYTES bounds the uncompressed protobuf (snappy's header declares it; checked first). */
export const DEFAULT_MAX_DECODED_BYTES = 64 * 1024 * 1024;

// Prometheus's label-name and metric-name grammars (model.LabelNameRE, model.MetricNameRE, legacy validation).
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** REMOTE_WRITE_ERRORS is the receiver's error catalogue: a stable code → HTTP status. */
export const REMOTE_WRITE_ERRORS = {
  RW_UNSUPPORTED_ENCODING: 400,
  RW_UNSUPPORTED_PROTOCOL: 415,
  RW_BODY_TOO_LARGE: 413,
  RW_EMPTY_BODY: 400,
  RW_BAD_SNAPPY: 400,
  RW_BAD_PROTOBUF: 400,
  RW_MISSING_METRIC_NAME: 400,
  RW_INVALID_METRIC_NAME: 400,
  RW_INVALID_LABEL_NAME: 400,
  RW_DUPLICATE_LABEL_NAME: 400,
  RW_BAD_TIMESTAMP: 400,
  RW_NON_MONOTONIC: 400,
  RW_STORAGE_FAILED: 500,
} as const;

/** RemoteWriteErrorCode is one stable error code of the receiver. */
export type RemoteWriteErrorCode = keyof typeof REMOTE_WRITE_ERRORS;

/** RemoteWriteError is a rejected request: `code` is stable, `status` the HTTP status, the message says what to fix. */
export class RemoteWriteError extends Error {
  readonly status: number;
  constructor(
    readonly code: RemoteWriteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteWriteError';
    this.status = REMOTE_WRITE_ERRORS[code];
  }
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

function describe(labels: Readonly<Record<string, string>>): string {
  const name = labels[METRIC_NAME] ?? '';
  const rest = Object.entries(labels)
    .filter(([k]) => k !== METRIC_NAME)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return `${name}{${rest}}`;
}

/**
 * validateWriteRequest checks a decoded request as Prometheus's receiver would, and returns it normalised.
 * Rules: every series has a valid `__name__`; label names match `[a-zA-Z_][a-zA-Z0-9_]*` and are unique; empty
 * label values are dropped (Prometheus treats them as absent); each series' timestamps strictly increase, also
 * across repeated entries of the same series in one request. The first violation throws a RemoteWriteError.
 */
export function validateWriteRequest(request: WireWriteRequest): ValidatedRequest {
  const byKey = new Map<string, ValidSeries>();
  let samples = 0;
  let exemplars = 0;
  let histograms = 0;
  request.timeseries.forEach((ts, index) => {
    exemplars += ts.exemplars;
    histograms += ts.histograms;
    const labels: Record<string, string> = {};
    const seen = new Set<string>();
    for (const { name, value } of ts.labels) {
      if (!LABEL_NAME_RE.test(name)) {
        throw new RemoteWriteError(
          'RW_INVALID_LABEL_NAME',
          `series #${index}: invalid label name ${JSON.stringify(name)} (must match [a-zA-Z_][a-zA-Z0-9_]*)`,
        );
      }
      if (seen.has(name)) {
        throw new RemoteWriteError(
          'RW_DUPLICATE_LABEL_NAME',
          `series #${index}: label ${name} appears twice`,
        );
      }
      seen.add(name);
      if (value !== '') labels[name] = value;
    }
    const metric = labels[METRIC_NAME];
    if (metric === undefined) {
      throw new RemoteWriteError(
        'RW_MISSING_METRIC_NAME',
        `series #${index} ${describe(labels)}: missing __name__ label (every series needs a metric name)`,
      );
    }
    if (!METRIC_NAME_RE.test(metric)) {
      throw new RemoteWriteError(
        'RW_INVALID_METRIC_NAME',
        `series #${index}: invalid metric name ${JSON.stringify(metric)} (must match [a-zA-Z_:][a-zA-Z0-9_:]*)`,
      );
    }
    if (ts.samples.length === 0) return;
    const key = seriesKey(labels);
    let entry = byKey.get(key);
    if (entry === undefined) {
      entry = { labels, samples: new SampleBuffer(ts.samples.length) };
      byKey.set(key, entry);
    }
    let last = entry.samples.lastT();
    for (const s of ts.samples) {
      if (s.timestamp <= last) {
        throw new RemoteWriteError(
          'RW_NON_MONOTONIC',
          `series #${index} ${describe(labels)}: sample timestamps must strictly increase, got ${s.timestamp} after ${last}`,
        );
      }
      last = s.timestamp;
      entry.samples.push(s.timestamp, s.value);
      samples++;
    }
  });
  return { series: [...byKey.values()], samples, exemplars, histograms };
}

/** WireCodec is the protobuf side of the receiver (remote-write-proto.ts and protobufjs behind it). */
type WireCodec = typeof RemoteWriteProto;

let wireCodec: Promise<WireCodec> | undefined;

/**
 * loadWireCodec loads the protobuf schema on the first request: protobufjs and its parsed schema (~0.7 MB of
 * heap) stay out of exporters nobody writes to. The receiver's self-metrics do not depend on it.
 */
function loadWireCodec(): Promise<WireCodec> {
  wireCodec ??= import('./remote-write-proto.js');
  return wireCodec;
}

/**
 * decodeRemoteWriteBody turns a raw request body into a validated request: snappy block format, then
 * protobuf, then validation. Rejects with a RemoteWriteError with the code of the first failing stage.
 */
export async function decodeRemoteWriteBody(
  body: Uint8Array,
  maxDecodedBytes = DEFAULT_MAX_DECODED_BYTES,
): Promise<ValidatedRequest> {
  if (body.length === 0)
    throw new RemoteWriteError('RW_EMPTY_BODY', 'empty body: expected a snappy-compressed WriteRequest');
  let raw: Uint8Array;
  try {
    raw = snappy.uncompress(body, maxDecodedBytes);
  } catch (err) {
    throw new RemoteWriteError(
      'RW_BAD_SNAPPY',
      `body is not valid snappy block format (remote write 1.0 uses snappy block, not framed): ${(err as Error).message}`,
    );
  }
  const { TimestampRangeError, decodeWriteRequest } = await loadWireCodec();
  let decoded: WireWriteRequest;
  try {
    decoded = decodeWriteRequest(raw);
  } catch (err) {
    if (err instanceof TimestampRangeError) throw new RemoteWriteError('RW_BAD_TIMESTAMP', err.message);
    throw new RemoteWriteError(
      'RW_BAD_PROTOBUF',
      `body is not a valid prometheus.WriteRequest protobuf: ${(err as Error).message}`,
    );
  }
  return validateWriteRequest(decoded);
}

/** RemoteWriteOptions configures the receiver. */
export interface RemoteWriteOptions {
  /** storage receives the samples (only its appender is used). */
  readonly storage: Pick<Storage, 'appender'>;
  readonly logger: Logger;
  /** maxBodyBytes bounds the compressed body (default DEFAULT_MAX_BODY_BYTES); larger gets 413. */
  readonly maxBodyBytes?: number;
  /** maxDecodedBytes bounds the uncompressed protobuf (default DEFAULT_MAX_DECODED_BYTES). */
  readonly maxDecodedBytes?: number;
  /** registry gets the receiver's self-metrics; none are registered when absent. */
  readonly registry?: Registry;
  /** path overrides the route (default REMOTE_WRITE_PATH). */
  readonly path?: string;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(
        new RemoteWriteError('RW_BODY_TOO_LARGE', `body of ${declared} bytes exceeds the limit of ${limit}`),
      );
      req.resume();
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new RemoteWriteError('RW_BODY_TOO_LARGE', `body exceeds the limit of ${limit} bytes`));
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(parts, size));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

function checkHeaders(req: Request): void {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'snappy') {
    throw new RemoteWriteError(
      'RW_UNSUPPORTED_ENCODING',
      `Content-Encoding ${JSON.stringify(encoding)} not supported: remote write 1.0 bodies are snappy`,
    );
  }
  // Remote write 2.0 announces itself in the content type's proto parameter; the spec says answer 415.
  const type = req.headers['content-type'] ?? '';
  const proto = /;\s*proto=([^;\s]+)/.exec(type)?.[1];
  if (proto !== undefined && proto !== 'prometheus.WriteRequest') {
    throw new RemoteWriteError(
      'RW_UNSUPPORTED_PROTOCOL',
      `protobuf message ${proto} not supported: this receiver speaks remote write 1.0 (prometheus.WriteRequest)`,
    );
  }
}

/**
 * createRemoteWriteRouter returns an express router serving `POST <path>` (default REMOTE_WRITE_PATH). Mount it
 * with `app.use(router)` before any JSON body parser (the body is read raw here).
 */
export function createRemoteWriteRouter(options: RemoteWriteOptions): Router {
  const { storage, logger } = options;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxDecoded = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  const registers = options.registry === undefined ? [] : [options.registry];
  const requests = new Counter({
    name: 'openmanager_exporter_remote_write_requests_total',
    help: 'Remote-write requests received, by HTTP status code.',
    labelNames: ['code'] as const,
    registers,
  });
  const samplesTotal = new Counter({
    name: 'openmanager_exporter_remote_write_samples_total',
    help: 'Remote-write samples by outcome: appended, or out_of_order / duplicate (rejected by the store).',
    labelNames: ['result'] as const,
    registers,
  });
  const ignored = new Counter({
    name: 'openmanager_exporter_remote_write_ignored_total',
    help: 'Remote-write exemplars and native histograms received but not stored (float samples only).',
    labelNames: ['kind'] as const,
    registers,
  });

  const fail = (res: Response, err: RemoteWriteError): void => {
    requests.inc({ code: String(err.status) });
    res.status(err.status).type('text/plain').send(`${err.code}: ${err.message}\n`);
  };

  const handle = async (req: Request, res: Response): Promise<void> => {
    let request: ValidatedRequest;
    try {
      checkHeaders(req);
      const body = await readBody(req, maxBody);
      request = await decodeRemoteWriteBody(body, maxDecoded);
    } catch (err) {
      if (!(err instanceof RemoteWriteError)) throw err;
      logger.warn(
        { code: err.code, remote: req.socket.remoteAddress },
        `remote write rejected: ${err.message}`,
      );
      fail(res, err);
      return;
    }
    if (request.exemplars > 0) ignored.inc({ kind: 'exemplar' }, request.exemplars);
    if (request.histograms > 0) ignored.inc({ kind: 'histogram' }, request.histograms);

    const app = storage.appender();
    try {
      for (const s of request.series) {
        let ref = 0;
        const { ts, vs, n } = s.samples;
        for (let i = 0; i < n; i++) ref = app.append(ref, s.labels, ts[i] ?? 0, vs[i] ?? 0);
      }
    } catch (err) {
      app.rollback();
      logger.error({ err }, 'remote write: append failed');
      fail(
        res,
        new RemoteWriteError('RW_STORAGE_FAILED', `storage refused the samples: ${(err as Error).message}`),
      );
      return;
    }
    let result;
    try {
      result = await app.commit();
    } catch (err) {
      // 5xx makes Prometheus retry the batch, which is what we want when the store itself failed.
      logger.error({ err }, 'remote write: commit failed');
      fail(
        res,
        new RemoteWriteError('RW_STORAGE_FAILED', `storage commit failed: ${(err as Error).message}`),
      );
      return;
    }
    samplesTotal.inc({ result: 'appended' }, result.appended);
    if (result.outOfOrder > 0) samplesTotal.inc({ result: 'out_of_order' }, result.outOfOrder);
    if (result.duplicate > 0) samplesTotal.inc({ result: 'duplicate' }, result.duplicate);
    if (result.outOfOrder > 0 || result.duplicate > 0) {
      // A retried batch (after a timeout) lands here as duplicates; answering 204 keeps the sender moving.
      logger.info(
        { outOfOrder: result.outOfOrder, duplicate: result.duplicate, appended: result.appended },
        'remote write: store rejected some samples as out of order or duplicate',
      );
    }
    requests.inc({ code: '204' });
    res.status(204).end();
  };

  const router = express.Router();
  router.post(options.path ?? REMOTE_WRITE_PATH, (req, res, next) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof Error && !res.headersSent) {
        logger.error({ err }, 'remote write: unexpected failure');
        fail(res, new RemoteWriteError('RW_STORAGE_FAILED', err.message));
        return;
      }
      next(err);
    });
  });
  return router;
}
