import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { Router, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { corsFor, securityHeaders } from '../api/http-policy.js';
import { errorHandler, notFound } from '../api/error-handler.js';
import { fleetRouter, type FleetRoutesDeps } from '../api/fleet-routes.js';
import { healthRouter, type Readiness } from '../api/health-routes.js';
import { CORE_ENDPOINTS, landingRouter, type EndpointLink } from '../api/landing-page.js';
import type { FleetExposition } from '../metrics/fleet-exposition.js';
import { metricsRouter } from '../metrics/metrics-routes.js';
import type { ExporterOptions } from '../options.js';
import type { Logger } from '../util/logger.js';

/** SHUTDOWN_GRACE_MS is how long close() lets in-flight HTTP requests finish before cutting sockets. */
const SHUTDOWN_GRACE_MS = 5_000;

/** KEEP_ALIVE_TIMEOUT_MS keeps idle connections longer than a 15 s scrape interval with margin (as load balancers do). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** HttpServerParts are the routes' data sources; the fleet router's own parts come whole. */
export interface HttpServerParts {
  readonly options: ExporterOptions;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly exposition: FleetExposition;
  readonly readiness: () => Readiness;
  /** pending says on /metrics what the exporter waits for before the fleet's families appear. */
  readonly pending: () => string;
  readonly fleetRoutes: FleetRoutesDeps;
  /** routers are mounted in order before the 404 handler: [path, handler]. */
  readonly routers?: ReadonlyArray<readonly [string, RequestHandler]>;
}

/**
 * HttpServer is the exporter's HTTP side: security headers and CORS first, then health, the landing page,
 * /metrics, the fleet's JSON API, the extension routers (PromQL API, remote-write, SSE, rules…) — mounted in one
 * Router so ones added after construction still come before the 404 — and the error handler last.
 */
export class HttpServer {
  readonly express: express.Express;
  readonly server: Server;
  private readonly extensions = Router();
  private readonly links: EndpointLink[] = [...CORE_ENDPOINTS];
  private baseUrl = '';

  constructor(private readonly parts: HttpServerParts) {
    const { options, logger, registry, exposition } = parts;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use(securityHeaders());
    app.use(corsFor(options.allowedOrigins));
    app.use(healthRouter(parts.readiness));
    app.use(landingRouter(() => this.links));
    app.use(metricsRouter({ exposition, registry, pending: parts.pending }));
    app.use(fleetRouter(parts.fleetRoutes));
    app.use(this.extensions);
    for (const [path, handler] of parts.routers ?? []) this.extensions.use(path, handler);
    app.use(notFound);
    app.use(errorHandler(logger));
    this.express = app;

    this.server = createServer(app);
    // Outlive clients' idle keep-alive (Go's default is 90 s, Prometheus scrapes every 15 s): otherwise a client
    // may reuse a socket the server is just closing and see a reset.
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  }

  /** url is the base URL once listening (e.g. http://127.0.0.1:3001), else ''. */
  get url(): string {
    return this.baseUrl;
  }

  /** use mounts an extension router before the 404 handler; `links` list it on the landing page. */
  use(path: string, handler: RequestHandler, links: readonly EndpointLink[] = []): void {
    this.extensions.use(path, handler);
    this.links.push(...links);
  }

  /** listen binds the configured host and port. */
  listen(): Promise<void> {
    const { options, logger } = this.parts;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(options.port, options.host, () => {
        this.server.off('error', reject);
        const { address, port } = this.server.address() as AddressInfo;
        const host = address.includes(':') ? `[${address}]` : address;
        this.baseUrl = `http://${host}:${port}`;
        logger.info({ url: this.baseUrl }, `listening on ${this.baseUrl}`);
        resolve();
      });
    });
  }

  /** close stops accepting, lets requests in flight finish for SHUTDOWN_GRACE_MS, then cuts the sockets left. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const grace = setTimeout(() => this.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    grace.unref();
    await closed;
    clearTimeout(grace);
  }
}
