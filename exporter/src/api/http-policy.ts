/**
 * The HTTP policies every route shares, built on the libraries made for them:
 *
 * - security headers (helmet): `X-Content-Type-Options: nosniff` on every answer (landing page, JSON APIs,
 *   expositions), a content security policy for the landing page, no framing. HSTS is off: the exporter
 *   speaks plain HTTP and a TLS terminator in front of it sets its own.
 * - CORS (cors): headers only for origins on ALLOWED_ORIGINS. With the list empty (the default) no CORS
 *   headers are sent at all, so no other web page can read the API through a visitor's browser; Grafana's
 *   plugin proxy and Prometheus are servers and need none.
 * - rate limits per client (express-rate-limit) for mutating endpoints: scenario injection, reloads and
 *   remote write, so one client cannot flood the simulator or the store. Refusals are 429 with
 *   `Retry-After`, in the envelope of the route they guard.
 */
import cors from 'cors';
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { Counter, type Registry } from 'prom-client';
import { ERR_RATE_LIMITED } from '../errors.js';
import { ApiError, respondError } from './prometheus/envelope.js';

/** securityHeaders sets helmet's headers (nosniff, CSP, frame and referrer policies) on every response. */
export function securityHeaders(): RequestHandler {
  return helmet({ strictTransportSecurity: false });
}

/** corsFor answers CORS (and preflights) only for the listed origins; an empty list sends no CORS headers. */
export function corsFor(allowedOrigins: readonly string[]): RequestHandler {
  const allowAny = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins.map((o) => o.trim().toLowerCase().replace(/\/+$/, '')));
  return cors({
    origin: (origin, done) => {
      done(null, origin !== undefined && (allowAny || allowed.has(origin.toLowerCase())) ? origin : false);
    },
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });
}

/** RateLimitedRoute names a limited route in the metric, and says which envelope its refusals use. */
export interface RateLimitedRoute {
  readonly name: string;
  readonly envelope: 'prometheus' | 'catalogue';
}

/** RATE_WINDOW_MS is the limiter's window: limits are configured per minute. */
const RATE_WINDOW_MS = 60_000;

/** RateLimitMetrics counts refusals by route (built once, passed to every limiter). */
export type RateLimitMetrics = Counter<'route'>;

/** createRateLimitMetrics registers the limiter's counter. */
export function createRateLimitMetrics(registry: Registry): RateLimitMetrics {
  return new Counter({
    name: 'openmanager_exporter_rate_limited_total',
    help: 'Requests refused with 429 because their client exceeded the per-minute limit, by route.',
    labelNames: ['route'],
    registers: [registry],
  });
}

/**
 * perClientRateLimit allows each client (by IP address; IPv6 by /56 subnet, as express-rate-limit does)
 * `perMinute` requests per minute on the routes it guards; beyond that, 429 with `Retry-After`.
 */
export function perClientRateLimit(
  route: RateLimitedRoute,
  perMinute: number,
  metrics?: RateLimitMetrics,
): RequestHandler {
  metrics?.inc({ route: route.name }, 0);
  return rateLimit({
    windowMs: RATE_WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, res, next) => {
      metrics?.inc({ route: route.name });
      const retry = Number(res.getHeader('Retry-After') ?? 60);
      if (route.envelope === 'prometheus') {
        respondError(
          res,
          new ApiError(
            'unavailable',
            `rate limit of ${perMinute} requests per minute exceeded; retry in ${retry} s`,
            429,
          ),
        );
        return;
      }
      next(ERR_RATE_LIMITED(perMinute, retry));
    },
  });
}
