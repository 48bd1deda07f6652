/**
 * The harness's HTTP server: serves the harness bundle and @grafana/ui's icons, and emulates the parts of Grafana's
 * server the app uses: the plugin proxy from src/plugin.json's `routes` (first route whose path prefixes the
 * request and whose method matches; `{{ .JsonData.x }}` / `{{ .SecureJsonData.y }}` substituted in the URL and
 * headers), the data source proxy (`api/datasources/proxy/uid/<uid>/…` to the source's URL) and the app's
 * settings (`api/plugins/<id>/settings`). Listens on 127.0.0.1 only.
 */
import fs from 'fs';
import http from 'http';
import path from 'path';
import type { AddressInfo } from 'net';

import pluginJson from '../src/plugin.json';

/** HarnessSettings are the app settings the emulated Grafana holds. */
export interface HarnessSettings {
  jsonData: Record<string, string>;
  secureJsonData: Record<string, string>;
  /** datasources are the Prometheus-type sources; default: "OpenManager" (uid openmanager) at the exporter. */
  datasources?: HarnessDataSource[];
}

/** HarnessDataSource is one data source: its uid, name and the URL its proxy forwards to. */
export interface HarnessDataSource {
  uid: string;
  name: string;
  url: string;
  isDefault?: boolean;
}

function dataSourcesOf(settings: HarnessSettings): HarnessDataSource[] {
  return (
    settings.datasources ?? [
      {
        uid: 'openmanager',
        name: 'OpenManager',
        url: `${settings.jsonData.exporterUrl}/api/prometheus`,
        isDefault: true,
      },
    ]
  );
}

/** HarnessServer is a running harness server. */
export interface HarnessServer {
  url: string;
  close: () => Promise<void>;
}

const BUILD_DIR = path.resolve(__dirname, 'build');
const ICONS_DIR = path.dirname(require.resolve('@grafana/ui/package.json')) + '/dist/public/img/icons';
const PROXY_PREFIX = `/api/plugin-proxy/${pluginJson.id}/`;
const DS_PROXY_PREFIX = '/api/datasources/proxy/uid/';
const SETTINGS_PATH = `/api/plugins/${pluginJson.id}/settings`;
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.svg': 'image/svg+xml',
  '.html': 'text/html',
  '.css': 'text/css',
};

function substitute(template: string, settings: HarnessSettings): string {
  return template.replace(/\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g, (_m, kind: string, key: string) =>
    kind === 'JsonData' ? (settings.jsonData[key] ?? '') : (settings.secureJsonData[key] ?? '')
  );
}

/** BLANK_ICON stands in for icons Grafana serves but @grafana/ui does not ship (e.g. unicons/spinner). */
const BLANK_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"></svg>';

function sendFile(res: http.ServerResponse, file: string, fallback?: string): void {
  fs.readFile(file, (err, data) => {
    if (err) {
      if (fallback !== undefined) {
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'text/plain' }).end(fallback);
      } else {
        res.writeHead(404).end();
      }
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(data);
  });
}

/**
 * BOOT_DATA is the part of Grafana's boot data @grafana/runtime's config reads at load: a signed-in admin of
 * org 1, default settings (Grafana fonts are not on npm: system fonts are used).
 */
const BOOT_DATA = JSON.stringify({
  settings: { appSubUrl: '', buildInfo: { version: '12.4.10' } },
  user: { id: 1, login: 'admin', orgId: 1, orgRole: 'Admin', isSignedIn: true, timezone: 'browser', theme: 'dark' },
  navTree: [],
});

function indexHtml(settings: HarnessSettings): string {
  const datasources = dataSourcesOf(settings).map(({ uid, name, isDefault }) => ({ uid, name, isDefault }));
  const config = JSON.stringify({ jsonData: settings.jsonData, datasources }).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>OpenManager Fleet harness</title>
<script>window.__grafana_public_path__ = '/public/'; window.__OM_HARNESS__ = ${config};
window.grafanaBootData = ${BOOT_DATA};</script></head>
<body><div id="root"></div><script src="/harness.js"></script></body></html>`;
}

/** forward sends the request to `target` with `headers` and relays the answer (502 when unreachable, as Grafana). */
async function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: string,
  headers: Record<string, string>
): Promise<void> {
  if (req.headers['content-type']) {
    headers['Content-Type'] = req.headers['content-type'];
  }
  const chunks: Buffer[] = [];
  for await (const c of req) {
    chunks.push(c as Buffer);
  }
  try {
    const upstream = await fetch(target, {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    res
      .writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/json' })
      .end(body);
  } catch (err) {
    // Grafana answers 502 with a message when the upstream is unreachable.
    res
      .writeHead(502, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ message: `Bad Gateway: ${String(err)}` }));
  }
}

async function proxy(req: http.IncomingMessage, res: http.ServerResponse, settings: HarnessSettings): Promise<void> {
  const rest = (req.url ?? '').slice(PROXY_PREFIX.length);
  const [routePath = '', query = ''] = rest.split(/\?(.*)/s);
  const route = pluginJson.routes.find(
    (r) => (routePath === r.path || routePath.startsWith(`${r.path}/`)) && (!('method' in r) || r.method === req.method)
  );
  if (!route) {
    res
      .writeHead(404, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ message: 'Plugin route not found' }));
    return;
  }
  const target = substitute(route.url, settings) + routePath.slice(route.path.length) + (query ? `?${query}` : '');
  const headers: Record<string, string> = {};
  for (const h of ('headers' in route ? route.headers : undefined) ?? []) {
    headers[h.name] = substitute(h.content, settings);
  }
  await forward(req, res, target, headers);
}

async function dataSourceProxy(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  settings: HarnessSettings
): Promise<void> {
  const rest = (req.url ?? '').slice(DS_PROXY_PREFIX.length);
  const slash = rest.indexOf('/');
  const uid = slash === -1 ? rest : rest.slice(0, slash);
  const source = dataSourcesOf(settings).find((d) => d.uid === uid);
  if (!source) {
    res
      .writeHead(404, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ message: 'Data source not found' }));
    return;
  }
  await forward(req, res, source.url.replace(/\/+$/, '') + (slash === -1 ? '' : rest.slice(slash)), {});
}

/** startHarnessServer serves the built harness on a free 127.0.0.1 port. */
export async function startHarnessServer(settings: HarnessSettings): Promise<HarnessServer> {
  if (!fs.existsSync(path.join(BUILD_DIR, 'harness.js'))) {
    throw new Error(`${BUILD_DIR}/harness.js is missing: run \`npm run build:harness -w plugin\` first`);
  }
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(PROXY_PREFIX)) {
      proxy(req, res, settings).catch(() => res.writeHead(500).end());
    } else if (url.startsWith(DS_PROXY_PREFIX)) {
      dataSourceProxy(req, res, settings).catch(() => res.writeHead(500).end());
    } else if (url.split('?')[0] === SETTINGS_PATH) {
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ id: pluginJson.id, enabled: true, jsonData: settings.jsonData }));
    } else if (url.startsWith('/public/build/img/icons/') || url.startsWith('/public/img/icons/')) {
      const rel = url.replace(/^\/public\/(build\/)?img\/icons\//, '').split('?')[0] ?? '';
      sendFile(res, path.join(ICONS_DIR, path.normalize(rel).replace(/^(\.\.[/\\])+/, '')), BLANK_ICON);
    } else if (url === '/harness.js' || /^\/[\w.-]+\.js$/.test(url)) {
      sendFile(res, path.join(BUILD_DIR, path.basename(url)));
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(indexHtml(settings));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * exporterSettings are the app settings of a plugin pointed at `exporter` (through the proxy, live updates on its
 * /ws) with its API token stored as a secret, as a user configures it.
 */
export function exporterSettings(exporter: { url: string; port: number; token: string }): HarnessSettings {
  return {
    jsonData: { exporterUrl: exporter.url, liveUrl: `ws://127.0.0.1:${exporter.port}/ws` },
    secureJsonData: { apiToken: exporter.token },
  };
}
