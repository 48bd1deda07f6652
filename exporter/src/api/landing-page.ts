/**
 * The HTML landing page at `/`: what this exporter is and a link to every endpoint, so a person who opens
 * http://localhost:3001 finds their way without reading the README.
 */
import { Router } from 'express';

/** EndpointLink is one row of the landing page. */
export interface EndpointLink {
  readonly method: string;
  readonly path: string;
  readonly description: string;
}

/** CORE_ENDPOINTS are the endpoints the foundation serves (other modules add theirs through the app). */
export const CORE_ENDPOINTS: readonly EndpointLink[] = [
  {
    method: 'GET',
    path: '/metrics',
    description: 'all servers + the exporter’s own metrics (Prometheus / OpenMetrics)',
  },
  { method: 'GET', path: '/api/prometheus/metrics', description: 'all servers, the seed’s scrape path' },
  { method: 'GET', path: '/probe?target=<server>', description: 'one server (503 while it is down)' },
  {
    method: 'GET',
    path: '/api/sd',
    description: 'Prometheus HTTP service discovery of the per-server targets',
  },
  { method: 'GET', path: '/api/unified-metrics', description: 'the seed’s server-metrics JSON' },
  { method: 'GET', path: '/api/servers', description: 'inventory and current state of every server' },
  { method: 'GET', path: '/api/servers/<id>', description: 'one server' },
  { method: 'GET', path: '/api/scenarios', description: 'active scenarios and history (ground truth)' },
  {
    method: 'POST',
    path: '/api/scenarios',
    description: 'inject {kind, server, durationSeconds, intensity} (bearer token)',
  },
  { method: 'DELETE', path: '/api/scenarios/<id>', description: 'stop a scenario (bearer token)' },
  { method: 'GET', path: '/healthz', description: 'liveness' },
  { method: 'GET', path: '/readyz', description: 'readiness (backfill done, first tick, storage)' },
];

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** landingPage renders the page; GET links are clickable unless they need a parameter. */
export function landingPage(links: readonly EndpointLink[]): string {
  const rows = links
    .map((l) => {
      const path = escapeHtml(l.path);
      const cell = l.method === 'GET' && !l.path.includes('<') ? `<a href="${path}">${path}</a>` : path;
      return `<tr><td>${l.method}</td><td><code>${cell}</code></td><td>${escapeHtml(l.description)}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenManager exporter</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}td{padding:.2rem .8rem}code{font-size:14px}</style>
</head><body>
<h1>OpenManager exporter</h1>
<p>A simulated server fleet exposed as Prometheus metrics, with a PromQL API and live updates.</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** landingRouter serves `/`; `links` is read at each request so endpoints added later are listed. */
export function landingRouter(links: () => readonly EndpointLink[]): Router {
  const r = Router();
  r.get('/', (_req, res) => {
    res.type('html').send(landingPage(links()));
  });
  return r;
}
