/**
 * Runs every panel query (and the template-variable and annotation queries) of every shipped dashboard against
 * a running exporter's Prometheus API, the way Grafana's data source would, and asserts each returns data.
 */
import fs from 'fs';
import path from 'path';

import { startExporter, type RunningExporter } from './exporter';

const DASHBOARDS = path.resolve(__dirname, '../src/dashboards');
/** SERVER is the value the `server` template variable takes (a server of the default fleet). */
const SERVER = 'web-01';
/** RANGE_S and STEP_S are the dashboards' default range (1 h) at Grafana's usual resolution. */
const RANGE_S = 3600;
const STEP_S = 60;

interface Target {
  expr?: string;
}
interface Panel {
  title: string;
  targets?: Target[];
  panels?: Panel[];
}

/** interpolate replaces the variables Grafana would before sending the query. */
function interpolate(expr: string): string {
  return expr
    .replace(/\$\{server\}|\$server\b/g, SERVER)
    .replace(/\$__rate_interval\b|\$\{__rate_interval\}/g, '1m')
    .replace(/\$__interval\b|\$\{__interval\}/g, `${STEP_S}s`)
    .replace(/\$__range\b/g, `${RANGE_S}s`);
}

function queriesOf(file: string): Array<[string, string]> {
  const dash = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8'));
  const out: Array<[string, string]> = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (t.expr) {
          out.push([`${file} / ${p.title}`, t.expr]);
        }
      }
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels ?? []);
  for (const a of dash.annotations?.list ?? []) {
    if (a.expr) {
      out.push([`${file} / annotation ${a.name}`, a.expr]);
    }
  }
  return out;
}

const FILES = fs.readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
const QUERIES = FILES.flatMap(queriesOf);

describe('shipped dashboards against a running exporter', () => {
  let exporter: RunningExporter;

  beforeAll(async () => {
    exporter = await startExporter(['--backfill', '1h', '--scenario-rate', '0']);
    // A scenario on SERVER so the scenario panels and the annotation query have something to show.
    const res = await fetch(`${exporter.url}/api/scenarios`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${exporter.token}` },
      body: JSON.stringify({ kind: 'cpu_spike', server: SERVER, durationSeconds: 600, intensity: 0.8 }),
    });
    expect(res.status).toBe(201);
  });

  afterAll(async () => {
    await exporter?.stop();
  });

  test('ships both dashboards with queries', () => {
    expect(FILES.sort()).toEqual(['fleet-overview.json', 'server-detail.json']);
    expect(QUERIES.length).toBeGreaterThan(20);
  });

  test.each(QUERIES)('%s: %s returns data', async (_where, expr) => {
    // Poll briefly: the scenario-dependent queries need the tick after the injection.
    const deadline = Date.now() + 40_000;
    let last = '';
    for (;;) {
      const end = Math.floor(Date.now() / 1000);
      const params = new URLSearchParams({
        query: interpolate(expr),
        start: String(end - RANGE_S),
        end: String(end),
        step: String(STEP_S),
      });
      const res = await fetch(`${exporter.url}/api/prometheus/api/v1/query_range`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: params,
      });
      const body = await res.json();
      last = JSON.stringify(body).slice(0, 300);
      expect(res.status).toBe(200);
      expect(body.status).toBe('success');
      const series: Array<{ values: unknown[] }> = body.data.result;
      if (series.length > 0 && series.some((s) => s.values.length > 0)) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`no data for ${expr}: ${last}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  });

  test('the server variable query lists the fleet', async () => {
    const res = await fetch(
      `${exporter.url}/api/prometheus/api/v1/label/server/values?match[]=${encodeURIComponent('openmanager_cpu_usage_percent')}`
    );
    const body = await res.json();
    expect(body.status).toBe('success');
    expect(body.data).toEqual(expect.arrayContaining([SERVER]));
    expect(body.data).toHaveLength(20);
  });
});
