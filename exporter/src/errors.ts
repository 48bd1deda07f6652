/**
 * The exporter's error catalogue (the fleet JSON API and the HTTP plumbing; the Prometheus API keeps its own
 * envelope under api/prometheus/). Each error has a stable code, one HTTP status and a message that says
 * what to change. Responses are `{"error":{"code","message"}}` and never carry a stack trace.
 */
import { SimulatorError } from './simulator/errors.js';

/** ExporterError is an error the API reports to its caller as-is: stable `code`, HTTP `status`. */
export class ExporterError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ExporterError';
  }

  /** toJSON is the response body of this error. */
  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** ErrorFactory builds one catalogue entry's errors; `code` and `status` are readable without an instance. */
export interface ErrorFactory<A extends unknown[]> {
  (...args: A): ExporterError;
  readonly code: string;
  readonly status: number;
}

export function defineError<A extends unknown[]>(
  code: string,
  status: number,
  message: (...args: A) => string,
): ErrorFactory<A> {
  const make = (...args: A): ExporterError => new ExporterError(code, status, message(...args));
  return Object.assign(make, { code, status });
}

/** ERR_NOT_FOUND: no route at this path. */
export const ERR_NOT_FOUND = defineError(
  'OM_NOT_FOUND',
  404,
  (method: string, path: string) => `no endpoint ${method} ${path}; GET / lists the endpoints`,
);

/** ERR_UNKNOWN_SERVER: a server id that is not in the fleet. */
export const ERR_UNKNOWN_SERVER = defineError(
  'OM_UNKNOWN_SERVER',
  404,
  (id: string) => `no server "${id}" in the fleet; GET /api/servers lists the server ids`,
);

/** ERR_UNKNOWN_SCENARIO: a scenario id that was never started. */
export const ERR_UNKNOWN_SCENARIO = defineError(
  'OM_UNKNOWN_SCENARIO',
  404,
  (id: string) => `no scenario "${id}"; GET /api/scenarios lists active and past scenarios`,
);

/** ERR_UNKNOWN_SILENCE: a silence id that does not exist (or was forgotten 120 h after it expired). */
export const ERR_UNKNOWN_SILENCE = defineError(
  'OM_UNKNOWN_SILENCE',
  404,
  (id: string) => `no silence "${id}"; GET /api/silences lists the silences`,
);

/** ERR_UNKNOWN_DRILL: a drill name with no file in `exporter/drills/`, or a run id never started. */
export const ERR_UNKNOWN_DRILL = defineError(
  'OM_UNKNOWN_DRILL',
  404,
  (what: string) => `no drill ${what}; GET /api/drills lists the drills and their runs`,
);

/**
 * ERR_SIMULATION_BUSY: a drill on a separate clock is started while a coverage job runs. Each simulates a
 * fleet of its own on worker threads (0.5–1 GB resident together with the exporter's), so they run one at a
 * time, as coverage jobs do among themselves.
 */
export const ERR_SIMULATION_BUSY = defineError(
  'OM_SIMULATION_BUSY',
  409,
  (what: string) => `${what} is running; drills on a separate clock and coverage jobs run one at a time`,
);

/** ERR_DRILL_RUNNING: a drill is started while another one runs (one game day at a time). */
export const ERR_DRILL_RUNNING = defineError(
  'OM_DRILL_RUNNING',
  409,
  (id: string) => `drill run "${id}" is still running; wait for it or abort it (DELETE /api/drills/${id})`,
);

/** ERR_UNKNOWN_COVERAGE: a coverage job id that was never started (or is no longer kept). */
export const ERR_UNKNOWN_COVERAGE = defineError(
  'OM_UNKNOWN_COVERAGE',
  404,
  (id: string) => `no coverage job "${id}"; GET /api/coverage lists the kept jobs`,
);

/** ERR_COVERAGE_RUNNING: a coverage job is started while another one runs. */
export const ERR_COVERAGE_RUNNING = defineError(
  'OM_COVERAGE_RUNNING',
  409,
  (id: string) => `coverage job "${id}" is still running; one runs at a time (GET /api/coverage/${id})`,
);

/** ERR_BAD_FIELD: a request field with an invalid value; the message names the field. */
export const ERR_BAD_FIELD = defineError(
  'OM_BAD_FIELD',
  400,
  (field: string, problem: string) => `invalid field "${field}": ${problem}`,
);

/** ERR_BAD_PARAM: a query parameter with a missing or invalid value. */
export const ERR_BAD_PARAM = defineError(
  'OM_BAD_PARAM',
  400,
  (param: string, problem: string) => `invalid query parameter "${param}": ${problem}`,
);

/** ERR_BAD_JSON: a request body that is not valid JSON. */
export const ERR_BAD_JSON = defineError(
  'OM_BAD_JSON',
  400,
  (detail: string) => `request body is not valid JSON (${detail}); send Content-Type: application/json`,
);

/** ERR_BAD_REQUEST: a request the HTTP layer could not read (a path with broken %-escapes, a body that does not inflate). */
export const ERR_BAD_REQUEST = defineError(
  'OM_BAD_REQUEST',
  400,
  (detail: string) => `the request could not be read: ${detail}`,
);

/** ERR_UNSUPPORTED_MEDIA: a body in a charset or content encoding the endpoint does not read. */
export const ERR_UNSUPPORTED_MEDIA = defineError(
  'OM_UNSUPPORTED_MEDIA',
  415,
  (detail: string) => `${detail}; send UTF-8 JSON, uncompressed or gzip/deflate`,
);

/** ERR_BODY_TOO_LARGE: a request body over the configured limit. */
export const ERR_BODY_TOO_LARGE = defineError(
  'OM_BODY_TOO_LARGE',
  413,
  (limit: number) => `request body exceeds ${limit} bytes; raise BODY_LIMIT_BYTES / --body-limit-bytes`,
);

/** ERR_RATE_LIMITED: a client sent more mutating requests than its per-minute limit. */
export const ERR_RATE_LIMITED = defineError(
  'OM_RATE_LIMITED',
  429,
  (perMinute: number, retryAfterS: number) =>
    `more than ${perMinute} requests per minute from this client; retry in ${retryAfterS} s ` +
    '(RATE_LIMIT_PER_MINUTE / --rate-limit-per-minute)',
);

/** ERR_RULES_INVALID: a rule-file reload was rejected; the previous rules keep running. */
export const ERR_RULES_INVALID = defineError(
  'OM_RULES_INVALID',
  400,
  (problems: string) => `rule files rejected, the previous rules keep running: ${problems}`,
);

/** ERR_MUTATIONS_DISABLED: a mutating call while no API token is configured (refused, never open). */
export const ERR_MUTATIONS_DISABLED = defineError(
  'OM_MUTATIONS_DISABLED',
  403,
  () =>
    'mutating endpoints are disabled because no API token is configured; start the exporter with ' +
    'API_TOKEN=<secret> (or --api-token <secret>) and send "Authorization: Bearer <secret>"',
);

/** ERR_UNAUTHORIZED: a mutating call without a bearer token. */
export const ERR_UNAUTHORIZED = defineError(
  'OM_UNAUTHORIZED',
  401,
  () => 'this endpoint needs the header "Authorization: Bearer <API_TOKEN>"',
);

/** ERR_FORBIDDEN: a mutating call with the wrong bearer token. */
export const ERR_FORBIDDEN = defineError(
  'OM_FORBIDDEN',
  403,
  () => 'the bearer token does not match the configured API_TOKEN',
);

/** ERR_SERVER_DOWN: a per-server target whose simulated server is down (Prometheus records up = 0). */
export const ERR_SERVER_DOWN = defineError(
  'OM_SERVER_DOWN',
  503,
  (id: string) => `server "${id}" is down (a server_down scenario is active); it answers again when it ends`,
);

/** ERR_NOT_READY: data requested before the first tick (e.g. while backfill runs). */
export const ERR_NOT_READY = defineError(
  'OM_NOT_READY',
  503,
  (pending: string) => `the exporter is starting (${pending}); retry shortly or watch GET /readyz`,
);

/** ERR_INTERNAL: an unexpected failure; details go to the log, never to the client. */
export const ERR_INTERNAL = defineError(
  'OM_INTERNAL',
  500,
  () => 'internal error; the exporter log has the details',
);

/** fromSimulatorError maps a simulator error (stable code + status + field) into the catalogue's shape. */
export function fromSimulatorError(err: { code: string; status: number; message: string }): ExporterError {
  return new ExporterError(`OM_${err.code}`, err.status, err.message);
}

/**
 * clientError recognises an error express or body-parser raised about the request itself (http-errors with a
 * 4xx `status` and `expose`: a bad %-escape in the path, an unsupported charset or content encoding, a body
 * that does not inflate); their messages are written for the client. Anything else is undefined.
 */
export function clientError(err: unknown): { status: number; message: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown };
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499 || e.expose === false) return undefined;
  return { status, message: typeof e.message === 'string' ? e.message.slice(0, 200) : 'bad request' };
}

/** toExporterError maps anything thrown to a catalogue error, so handlers never leak internals. */
export function toExporterError(err: unknown): ExporterError {
  if (err instanceof ExporterError) return err;
  if (err instanceof SimulatorError) return fromSimulatorError(err);
  // body-parser errors carry `type` and `status` (express.json): map them to catalogue entries.
  if (typeof err === 'object' && err !== null && 'type' in err) {
    const e = err as { type?: unknown; message?: unknown; limit?: unknown };
    if (e.type === 'entity.parse.failed') return ERR_BAD_JSON(String(e.message));
    if (e.type === 'entity.too.large') return ERR_BODY_TOO_LARGE(Number(e.limit));
  }
  const client = clientError(err);
  if (client)
    return client.status === 415 ? ERR_UNSUPPORTED_MEDIA(client.message) : ERR_BAD_REQUEST(client.message);
  return ERR_INTERNAL();
}
