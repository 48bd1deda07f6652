/**
 * The exposition endpoints: `/api/prometheus/metrics` (every server that is up, the seed's path), `/metrics`
 * (the same plus the exporter's own metrics), `/probe?target=<server>` (one server; 503 while it is down, so
 * Prometheus records `up == 0` for that target) and `/api/sd` (HTTP service discovery of the probe targets).
 * Fleet bodies come from the per-frame cache; only the small self-metrics part is rendered per scrape.
 */
import { gzipSync } from 'node:zlib';
import { Router, type Request, type Response } from 'express';
import { Counter, type Registry } from 'prom-client';
import { ERR_BAD_PARAM, ERR_NOT_READY, ERR_SERVER_DOWN, ERR_UNKNOWN_SERVER } from '../errors.js';
import { ALL_SERVERS, type FleetExposition } from './fleet-exposition.js';
import { renderRegistry } from './self-metrics.js';
import {
  CONTENT_TYPES,
  OPENMETRICS_EOF,
  acceptsGzip,
  negotiateFormat,
  type ExpositionFormat,
} from './text-format.js';

/** SERVER_ID matches the server ids a fleet file may use; anything else is a 400, not a lookup. */
const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const GZIPPED_EOF = gzipSync(OPENMETRICS_EOF);

/** MetricsRoutesDeps are what the exposition endpoints read. */
export interface MetricsRoutesDeps {
  readonly exposition: FleetExposition;
  readonly registry: Registry;
  /** pending names what startup is still doing (e.g. "backfill"), shown when no frame exists yet. */
  readonly pending: () => string;
}

/** metricsRouter serves the exposition and service-discovery endpoints. */
export function metricsRouter(deps: MetricsRoutesDeps): Router {
  const { exposition, registry } = deps;
  const scrapes = new Counter({
    name: 'openmanager_exporter_scrapes_total',
    help: 'Exposition requests served, by endpoint and format.',
    labelNames: ['endpoint', 'format'],
    registers: [registry],
  });
  const r = Router();

  /** send writes the cached fleet body (+ an uncached tail) in the negotiated format and encoding. */
  const send = async (req: Request, res: Response, server: number, endpoint: string, withSelf: boolean) => {
    // Before the first frame (a backfill running) /metrics still answers with the exporter's own metrics —
    // openmanager_exporter_ready 0 among them — so an operator can watch the start; fleet paths wait.
    if (!exposition.frame && !withSelf) throw ERR_NOT_READY(deps.pending());
    const format: ExpositionFormat = negotiateFormat(req.headers.accept);
    scrapes.inc({ endpoint, format });
    const self = withSelf ? await renderRegistry(registry, format) : '';
    const tail = self + (format === 'openmetrics' ? OPENMETRICS_EOF : '');
    const gzip = acceptsGzip(req.headers['accept-encoding']);
    let parts: Buffer[];
    if (!exposition.frame) {
      const body = Buffer.from(tail);
      parts = [gzip ? gzipSync(body) : body];
      if (gzip) res.setHeader('Content-Encoding', 'gzip');
    } else if (gzip) {
      // A gzip stream may hold several members; decoders (Go's, zlib's) concatenate them. So the fleet part
      // is compressed once per frame and only the small tail per request.
      const head = await exposition.gzipBody(server, format);
      const gzTail = tail === OPENMETRICS_EOF ? GZIPPED_EOF : tail === '' ? undefined : gzipSync(tail);
      parts = gzTail ? [head, gzTail] : [head];
      res.setHeader('Content-Encoding', 'gzip');
    } else {
      const head = exposition.body(server, format).bytes;
      parts = tail === '' ? [head] : [head, Buffer.from(tail)];
    }
    res.setHeader('Content-Type', CONTENT_TYPES[format]);
    res.setHeader('Vary', 'Accept, Accept-Encoding');
    res.setHeader(
      'Content-Length',
      parts.reduce((n, p) => n + p.length, 0),
    );
    for (const p of parts) res.write(p);
    res.end();
  };

  r.get('/api/prometheus/metrics', (req, res) => send(req, res, ALL_SERVERS, 'combined', false));
  r.get('/metrics', (req, res) => send(req, res, ALL_SERVERS, 'metrics', true));

  r.get('/probe', async (req, res) => {
    const target = req.query.target;
    if (typeof target !== 'string' || target === '') {
      throw ERR_BAD_PARAM('target', 'give exactly one server id, e.g. /probe?target=web-01');
    }
    if (!SERVER_ID.test(target)) throw ERR_BAD_PARAM('target', `"${target}" is not a valid server id`);
    const i = exposition.indexOf(target);
    if (i < 0) throw ERR_UNKNOWN_SERVER(target);
    if (exposition.frame && !exposition.isUp(i)) throw ERR_SERVER_DOWN(target);
    await send(req, res, i, 'probe', false);
  });

  // HTTP SD (https://prometheus.io/docs/prometheus/latest/http_sd/): one group per server, scraped through
  // /probe on the host Prometheus reached us at. The group labels make `up{server=…}` name the server;
  // the scraped series carry `server` too, so the job should set `honor_labels: true` (else Prometheus adds
  // an `exported_server` copy).
  r.get('/api/sd', (req, res) => {
    const host =
      req.headers.host ?? `${req.socket.localAddress ?? '127.0.0.1'}:${req.socket.localPort ?? ''}`;
    res.json(
      exposition.layout.servers.map((s) => ({
        targets: [host],
        labels: {
          __metrics_path__: '/probe',
          __param_target: s.id,
          // Every target would otherwise share the exporter's address as `instance`.
          instance: s.id,
          server: s.id,
          role: s.role,
          zone: s.zone,
        },
      })),
    );
  });

  return r;
}
