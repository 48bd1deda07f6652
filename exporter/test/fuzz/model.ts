/**
 * The fuzzer's request model: every hostile request is plain JSON (bodies as text, base64, or a recipe for a
 * large body built at send time), so a failing request can be printed, saved to a file and replayed as is.
 */

/** Endpoint names a family of requests in reports (the table's rows). */
export type Endpoint =
  | 'query'
  | 'query_range'
  | 'series'
  | 'labels'
  | 'label_values'
  | 'prom_other'
  | 'remote_write'
  | 'unified_metrics'
  | 'servers'
  | 'scenarios_get'
  | 'scenarios_post'
  | 'scenarios_delete'
  | 'drills'
  | 'coverage'
  | 'probe'
  | 'sd'
  | 'metrics'
  | 'ws'
  | 'sse'
  | 'random'
  | 'raw';

/**
 * BodySpec is a request body: text (UTF-8), bytes (base64), `fill` (length bytes of one value: oversized
 * bodies without storing them), or `rw-big` (a valid remote-write request of `series` × `samples`, snappy
 * compressed, built and cached at send time).
 */
export type BodySpec =
  | { readonly text: string }
  | { readonly base64: string }
  | { readonly fill: { readonly byte: number; readonly length: number } }
  | { readonly rwBig: { readonly series: number; readonly samples: number } };

/** HttpRequest is one request sent with node's HTTP client (valid method token, path and headers). */
export interface HttpRequest {
  readonly kind: 'http';
  readonly endpoint: Endpoint;
  readonly method: string;
  /** path is the request target: path and query string, already encoded. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: BodySpec;
}

/** RawRequest is bytes written to a fresh TCP connection as they are (malformed HTTP included). */
export interface RawRequest {
  readonly kind: 'raw';
  readonly endpoint: 'raw';
  /** latin1 is the request's bytes, one character per byte. */
  readonly latin1: string;
}

/** WsFrame is one client frame: text, binary (base64) or a large frame of one byte value. */
export type WsFrame =
  | { readonly text: string }
  | { readonly binary: string }
  | { readonly fill: { readonly byte: number; readonly length: number; readonly binary: boolean } };

/** WsRequest is one WebSocket session: an upgrade to `path` with `headers`, then `frames` sent in order. */
export interface WsRequest {
  readonly kind: 'ws';
  readonly endpoint: 'ws';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly frames: readonly WsFrame[];
}

/** SseRequest opens `/api/stream` with `path`'s parameters and reads the stream's first messages. */
export interface SseRequest {
  readonly kind: 'sse';
  readonly endpoint: 'sse';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** FuzzRequest is any request the fuzzer sends. */
export type FuzzRequest = HttpRequest | RawRequest | WsRequest | SseRequest;

/** FuzzResponse is what came back, reduced to what the oracle and a report need. */
export interface FuzzResponse {
  /**
   * status is the HTTP status; for WebSocket sessions that upgraded it is 101. 0 when no response came:
   * then `error` says why (`timeout`, `ECONNRESET`, …).
   */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** body is the response body as text (truncated to `bodyLimit` characters); gunzipped when gzip. */
  readonly body: string;
  /** bodyBytes is the full body's size on the wire. */
  readonly bodyBytes: number;
  readonly truncated: boolean;
  /** ms is the time from sending to the end of the answer. */
  readonly ms: number;
  readonly error?: string;
  /** messages are the WebSocket or SSE messages received (text), in order. */
  readonly messages?: readonly string[];
  /** closeCode is the WebSocket close code, when the server closed the session. */
  readonly closeCode?: number;
}

/** summarizeRequest renders a request for a report: long strings shortened, bodies described. */
export function summarizeRequest(r: FuzzRequest, max = 600): string {
  const cut = (s: string): string => (s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s);
  switch (r.kind) {
    case 'http': {
      const body = r.body === undefined ? '' : ` body=${cut(JSON.stringify(r.body))}`;
      const headers = Object.keys(r.headers).length ? ` headers=${cut(JSON.stringify(r.headers))}` : '';
      return `${r.method} ${cut(r.path)}${headers}${body}`;
    }
    case 'raw':
      return `raw ${cut(JSON.stringify(r.latin1))}`;
    case 'ws':
      return `ws ${cut(r.path)} headers=${cut(JSON.stringify(r.headers))} frames=${cut(JSON.stringify(r.frames))}`;
    case 'sse':
      return `sse ${cut(r.path)} headers=${cut(JSON.stringify(r.headers))}`;
  }
}

/** summarizeResponse renders a response for a report. */
export function summarizeResponse(r: FuzzResponse, max = 600): string {
  const body = r.body.length > max ? `${r.body.slice(0, max)}…(${r.bodyBytes} bytes)` : r.body;
  const extra = [
    r.error !== undefined ? `error=${r.error}` : '',
    r.closeCode !== undefined ? `close=${r.closeCode}` : '',
    r.messages !== undefined ? `messages=${JSON.stringify(r.messages.slice(-5)).slice(0, max)}` : '',
    r.headers['content-type'] !== undefined ? `content-type=${r.headers['content-type']}` : '',
  ]
    .filter((s) => s !== '')
    .join(' ');
  return `${r.status} in ${Math.round(r.ms)} ms ${extra}\n${body}`;
}
