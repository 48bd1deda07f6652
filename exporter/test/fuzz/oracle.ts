/**
 * The fuzzer's oracle: what every answer of the exporter must satisfy, whatever the request. No 5xx but the
 * 503s Prometheus itself answers (query timeout, not ready); no answer slower than the query timeout plus
 * slack; on Prometheus API routes always the Prometheus envelope with errorType and HTTP status agreeing; on
 * the remote-write route 204 or the envelope with a `RW_…` code leading the error; on the JSON API the catalogue's `{"error":{code,message}}`
 * with the catalogue's status; on the hub's HTTP refusals its `{"type":"error"}`; every WebSocket and SSE
 * message valid against the hub protocol's schema; expositions that parse strictly; and no stack trace or
 * source path in any body.
 */
import * as catalogue from '../../src/errors.js';
import { CLOSE_CODES, HUB_ERROR_CODE_LIST, serverMessageSchema } from '../../src/contract/hub-protocol.js';
import { ERROR_STATUS } from '../../src/api/prometheus/envelope.js';
import { SIMULATOR_ERROR_STATUS } from '../../src/simulator/index.js';
import { parseExposition } from '../exposition-parser.js';
import type { FuzzRequest, FuzzResponse } from './model.js';

/** ViolationKind names what went wrong; a report groups failures by it. */
export type ViolationKind =
  | 'server-error'
  | 'slow'
  | 'timeout'
  | 'no-response'
  | 'bad-envelope'
  | 'bad-error-shape'
  | 'bad-status'
  | 'stack-trace'
  | 'bad-exposition'
  | 'bad-hub-message'
  | 'bad-close-code';

/** Violation is one broken rule for one response. */
export interface Violation {
  readonly kind: ViolationKind;
  readonly detail: string;
}

/** OracleOptions are the bounds the oracle checks against. */
export interface OracleOptions {
  /** answerWithinMs is the query timeout plus slack: any slower answer is a violation. */
  readonly answerWithinMs: number;
}

/** RouteFamily is which answer shape a request's route promises. */
export type RouteFamily = 'prom' | 'remote-write' | 'hub' | 'exposition' | 'catalogue';

/**
 * routeFamily classifies a request the way express routes it: paths match case-insensitively, with one
 * optional trailing slash, undecoded (so `%71uery` is not `query`).
 */
export function routeFamily(method: string, target: string): RouteFamily {
  let path = (target.split('?')[0] ?? '').toLowerCase();
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const m = method.toUpperCase();
  if (m === 'POST' && path === '/api/prometheus/api/v1/write') return 'remote-write';
  if (path === '/api/prometheus/api/v1' || path.startsWith('/api/prometheus/api/v1/')) return 'prom';
  if (path === '/api/stream' && (m === 'GET' || m === 'HEAD')) return 'hub';
  if (['/metrics', '/api/prometheus/metrics', '/probe'].includes(path) && (m === 'GET' || m === 'HEAD'))
    return 'exposition';
  return 'catalogue';
}

/** CATALOGUE_STATUS maps every catalogue code (the app's and the simulator's) to its HTTP status. */
const CATALOGUE_STATUS: ReadonlyMap<string, number> = new Map([
  ...Object.values(catalogue).flatMap((x): [string, number][] =>
    typeof x === 'function' &&
    'code' in x &&
    'status' in x &&
    typeof x.code === 'string' &&
    typeof x.status === 'number'
      ? [[x.code, x.status]]
      : [],
  ),
  ...Object.entries(SIMULATOR_ERROR_STATUS).map(([code, status]): [string, number] => [`OM_${code}`, status]),
]);

/** ALLOWED_503 lists, per route family, the error codes a 503 may carry (Prometheus's and ours). */
const ALLOWED_503: Readonly<Record<RouteFamily, readonly string[]>> = {
  prom: ['timeout', 'unavailable'],
  'remote-write': [],
  hub: ['connection_limit'],
  exposition: ['OM_NOT_READY', 'OM_SERVER_DOWN'],
  catalogue: ['OM_NOT_READY', 'OM_SERVER_DOWN'],
};

/** HTTP_LAYER_STATUSES are the statuses node's HTTP server answers malformed or oversized requests with. */
const HTTP_LAYER_STATUSES: ReadonlySet<number> = new Set([400, 413, 414, 417, 431, 505]);

/** MAX_HEAD_BYTES is node's default limit on a request's head (request line and headers). */
const MAX_HEAD_BYTES = 16 * 1024;

/** headBytes estimates the size of an HTTP request's head, to know when node refuses it unseen. */
function headBytes(r: FuzzRequest): number {
  if (r.kind === 'raw') return r.latin1.length;
  const headers = Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  return r.path.length + headers + 64;
}

/** HUB_CLOSE_CODES are the close codes the hub (or ws for it) sends, plus a normal close and "no status". */
const HUB_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1005, ...Object.values(CLOSE_CODES)]);

/**
 * STACK_PATTERNS find stack frames and source paths: `    at fn (/x/y.ts:1:2)`, `file:///…`, `/…/src/x.ts`,
 * `node_modules/`, `node:internal`.
 */
const STACK_PATTERNS: readonly RegExp[] = [
  /\n\s*at (?:async )?[^\n]*[(\s](?:file:\/\/|node:|\/)[^\n]*:\d+:\d+\)?/,
  /(?:\/[\w.@-]+)+\/[\w.-]+\.(?:ts|js|mjs|cjs)(?::\d+)?\b/,
  /node_modules\//,
  /node:internal/,
];

/** requestText is everything a request carried, so text the exporter merely echoes is not held against it. */
function requestText(r: FuzzRequest): string {
  switch (r.kind) {
    case 'http': {
      const body = r.body !== undefined && 'text' in r.body ? r.body.text : '';
      let decoded = r.path;
      try {
        decoded = decodeURIComponent(r.path.replace(/\+/g, ' '));
      } catch {
        // an invalid escape: keep the raw path
      }
      let form = body;
      try {
        form = decodeURIComponent(body.replace(/\+/g, ' '));
      } catch {
        // not form-encoded
      }
      return `${r.path}\n${decoded}\n${body}\n${form}\n${JSON.stringify(r.headers)}`;
    }
    case 'raw':
      return r.latin1;
    case 'ws':
      return `${r.path}\n${JSON.stringify(r.frames)}`;
    case 'sse':
      return r.path;
  }
}

function findStackTrace(text: string, echoed: string): string | undefined {
  for (const p of STACK_PATTERNS) {
    const m = p.exec(text);
    if (m && !echoed.includes(m[0].trim())) return m[0].trim().slice(0, 200);
  }
  return undefined;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** errorCodeOf reads the code of any of the three error shapes, for the 503 rule. */
function errorCodeOf(json: unknown): string | undefined {
  if (!isRecord(json)) return undefined;
  if (typeof json.errorType === 'string') return json.errorType;
  if (isRecord(json.error) && typeof json.error.code === 'string') return json.error.code;
  if (json.type === 'error' && typeof json.code === 'string') return json.code;
  return undefined;
}

function checkPromEnvelope(res: FuzzResponse, json: unknown, out: Violation[]): void {
  if (!isRecord(json)) {
    if (res.truncated && res.status === 200 && res.body.startsWith('{"status":"success"')) return;
    out.push({
      kind: 'bad-envelope',
      detail: `not a JSON envelope (${res.headers['content-type'] ?? 'no content-type'})`,
    });
    return;
  }
  if (json.status === 'success') {
    if (res.status !== 200)
      out.push({ kind: 'bad-status', detail: `success envelope with HTTP ${res.status}` });
    if (!('data' in json)) out.push({ kind: 'bad-envelope', detail: 'success envelope without data' });
    return;
  }
  if (json.status !== 'error' || typeof json.errorType !== 'string' || typeof json.error !== 'string') {
    out.push({
      kind: 'bad-envelope',
      detail: `not {status:"error",errorType,error}: ${JSON.stringify(json).slice(0, 200)}`,
    });
    return;
  }
  const want = (ERROR_STATUS as Readonly<Record<string, number>>)[json.errorType];
  if (want === undefined) out.push({ kind: 'bad-envelope', detail: `unknown errorType ${json.errorType}` });
  else if (want !== res.status && !(HTTP_LAYER_STATUS[json.errorType] ?? []).includes(res.status))
    out.push({
      kind: 'bad-status',
      detail: `errorType ${json.errorType} with HTTP ${res.status} (Prometheus: ${want})`,
    });
}

/**
 * HTTP_LAYER_STATUS are the statuses the HTTP layer in front of the API answers in the envelope besides
 * Prometheus's errorType table: a client's request refused as a whole (401/403 credentials, 413 too large,
 * 415 unsupported encoding, 431 headers too large) is bad_data; a rate limit (429) is unavailable.
 */
const HTTP_LAYER_STATUS: Readonly<Record<string, readonly number[]>> = {
  bad_data: [401, 403, 413, 415, 431],
  unavailable: [429],
};

function checkCatalogueError(res: FuzzResponse, json: unknown, out: Violation[]): void {
  if (
    !isRecord(json) ||
    !isRecord(json.error) ||
    typeof json.error.code !== 'string' ||
    typeof json.error.message !== 'string'
  ) {
    out.push({
      kind: 'bad-error-shape',
      detail: `HTTP ${res.status} without {"error":{"code","message"}} (${res.headers['content-type'] ?? 'no content-type'}): ${res.body.slice(0, 120)}`,
    });
    return;
  }
  const want = CATALOGUE_STATUS.get(json.error.code);
  if (want === undefined)
    out.push({ kind: 'bad-error-shape', detail: `code ${json.error.code} is not in the catalogue` });
  else if (want !== res.status)
    out.push({
      kind: 'bad-status',
      detail: `code ${json.error.code} with HTTP ${res.status} (catalogue: ${want})`,
    });
}

function checkHubError(res: FuzzResponse, json: unknown, out: Violation[]): void {
  const parsed = serverMessageSchema.safeParse(json);
  if (!parsed.success || parsed.data.type !== 'error')
    out.push({
      kind: 'bad-error-shape',
      detail: `hub refusal HTTP ${res.status} is not a protocol error: ${res.body.slice(0, 120)}`,
    });
}

function checkHubMessages(messages: readonly string[], out: Violation[]): void {
  for (const text of messages) {
    const json = parseJson(text);
    const parsed = serverMessageSchema.safeParse(json);
    if (!parsed.success) {
      // Messages are kept truncated in reports; a cut message is not the exporter's fault.
      if (text.endsWith('…')) continue;
      out.push({ kind: 'bad-hub-message', detail: `invalid hub message: ${text.slice(0, 160)}` });
      return;
    }
    if (
      parsed.data.type === 'error' &&
      !(HUB_ERROR_CODE_LIST as readonly string[]).includes(parsed.data.code)
    )
      out.push({ kind: 'bad-hub-message', detail: `unknown hub error code ${parsed.data.code}` });
  }
}

/** isOversized tells whether a request body is big enough that the exporter may cut the connection. */
function isOversized(r: FuzzRequest): boolean {
  if (r.kind !== 'http' || r.body === undefined) return false;
  return 'fill' in r.body || 'rwBig' in r.body || ('text' in r.body && r.body.text.length > 1_000_000);
}

/** check returns every rule a response breaks (empty: the exporter behaved). */
export function check(req: FuzzRequest, res: FuzzResponse, o: OracleOptions): Violation[] {
  const out: Violation[] = [];
  if (res.error?.startsWith('client-refused')) return out;
  if (res.error === 'timeout') {
    out.push({ kind: 'timeout', detail: `no complete answer within ${Math.round(res.ms)} ms` });
    return out;
  }
  if (res.ms > o.answerWithinMs)
    out.push({ kind: 'slow', detail: `answered in ${Math.round(res.ms)} ms (limit ${o.answerWithinMs} ms)` });
  const echoed = requestText(req);
  const trace = findStackTrace(`${res.body}\n${(res.messages ?? []).join('\n')}`, echoed);
  if (trace !== undefined) out.push({ kind: 'stack-trace', detail: trace });

  if (req.kind === 'raw') {
    // Malformed HTTP may be refused by node's parser (400 and close) or cut off; only 5xx are the exporter's.
    if (res.status >= 500 && res.status !== 503)
      out.push({ kind: 'server-error', detail: `HTTP ${res.status}` });
    return out;
  }
  if (res.status === 0) {
    // node answers an oversized head with 431 and closes; a client still sending its body sees a reset.
    if (!isOversized(req) && headBytes(req) < MAX_HEAD_BYTES)
      out.push({ kind: 'no-response', detail: res.error ?? 'connection closed without an answer' });
    return out;
  }
  if (req.kind === 'ws' && res.status === 101) {
    checkHubMessages(res.messages ?? [], out);
    if (res.closeCode !== undefined && !HUB_CLOSE_CODES.has(res.closeCode))
      out.push({ kind: 'bad-close-code', detail: `closed with ${res.closeCode}` });
    return out;
  }
  // node's HTTP parser refuses some requests before any route sees them (unknown method, head over 16 KiB):
  // an empty answer without a content type, as Go's net/http gives Prometheus's clients.
  if (HTTP_LAYER_STATUSES.has(res.status) && res.bodyBytes === 0 && res.headers['content-type'] === undefined)
    return out;
  const method = req.kind === 'http' ? req.method : 'GET';
  const family: RouteFamily = req.kind === 'ws' ? 'hub' : routeFamily(method, req.path);
  const json = parseJson(res.body);
  if (res.status >= 500) {
    const code = errorCodeOf(json);
    if (!(res.status === 503 && code !== undefined && ALLOWED_503[family].includes(code)))
      out.push({ kind: 'server-error', detail: `HTTP ${res.status} ${code ?? res.body.slice(0, 120)}` });
  }
  // HEAD has no body to check; OPTIONS is answered by express with the allowed methods (as HTTP intends).
  if (method === 'HEAD' || (method === 'OPTIONS' && res.status < 300)) return out;
  switch (family) {
    case 'prom':
      checkPromEnvelope(res, json, out);
      break;
    case 'remote-write':
      // The receiver answers in the Prometheus envelope, its stable RW_ code leading the message; the
      // Prometheus API router answers other methods on the same path (also in the envelope).
      if (res.status === 204) break;
      checkPromEnvelope(res, json, out);
      if (
        isRecord(json) &&
        typeof json.error === 'string' &&
        method === 'POST' &&
        ![404, 405, 413, 415, 429].includes(res.status) &&
        !/^RW_[A-Z_]+: /.test(json.error)
      )
        out.push({
          kind: 'bad-error-shape',
          detail: `remote write HTTP ${res.status} without an RW_ code: ${res.body.slice(0, 120)}`,
        });
      break;
    case 'hub':
      if (res.status === 200) {
        if (!/^text\/event-stream/.test(res.headers['content-type'] ?? ''))
          out.push({
            kind: 'bad-error-shape',
            detail: `SSE 200 with content-type ${res.headers['content-type'] ?? 'none'}`,
          });
        checkHubMessages(res.messages ?? [], out);
      } else if (res.status >= 400) checkHubError(res, json, out);
      break;
    case 'exposition':
      if (res.status === 200 && !res.truncated) {
        const format = /openmetrics/.test(res.headers['content-type'] ?? '') ? 'openmetrics' : 'text';
        try {
          parseExposition(res.body, format);
        } catch (err) {
          out.push({ kind: 'bad-exposition', detail: (err as Error).message.slice(0, 200) });
        }
      } else if (res.status >= 400) checkCatalogueError(res, json, out);
      break;
    case 'catalogue':
      if (res.status >= 400) checkCatalogueError(res, json, out);
      break;
  }
  return out;
}
