/**
 * A drill on a separate clock over HTTP: `POST /api/drills` with `clock: "separate"` runs the drill on a
 * worker thread, on a fleet, store and rule manager of its own (coverage/drill-sandbox.ts) whose clock runs
 * 500 times as fast as the wall clock; the run is followed with `GET /api/drills/:id` to its report, whose
 * alert delays are in that clock's time (the rule's `for: 2m` is not compressed), and the live fleet never
 * sees the drill's scenario.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exporter } from '../src/compose.js';
import { drillRunSchema } from '../src/contract/drills.js';
import { postJson, startInProcess, testOptions } from './in-process.js';
import { pollUntil } from './poll.js';

const TOKEN = 'test-token';
const DRILL = `
title: Web server down
description: web-01 goes down for three minutes.
settle: 2m
steps:
  - { after: 30s, kind: server_down, server: web-01, duration: 3m }
`;
/** RULES: one alert whose lead-in (its window, `for` and an hour) the sandbox simulates in a blink. */
const RULES = `groups:
  - name: down
    rules:
      - alert: ServerIsDown
        expr: openmanager_server_up == 0
        for: 2m
        labels: { severity: critical }
`;

let ex: Exporter;
let base: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'om-drills-separate-'));
  mkdirSync(join(dir, 'drills'));
  writeFileSync(join(dir, 'drills', 'web-down.yml'), DRILL);
  writeFileSync(join(dir, 'down.yml'), RULES);
  ex = await startInProcess(
    testOptions(dir, TOKEN, { drillsDir: join(dir, 'drills'), ruleFiles: [join(dir, 'down.yml')] }),
  );
  base = ex.app.url;
}, 60_000);

afterAll(async () => {
  await ex?.app.stop();
});

describe('a drill on a separate clock over HTTP', () => {
  it('runs on its own fleet at 500× and reports the alert at its uncompressed delay', async () => {
    const res = await postJson(
      `${base}/api/drills`,
      { name: 'web-down', speed: 500, clock: 'separate' },
      TOKEN,
    );
    expect(res.status).toBe(201);
    const run = drillRunSchema.parse(await res.json());
    expect(run).toMatchObject({ clock: 'separate', phase: 'lead-in', speed: 500, status: 'running' });
    // 5.5 simulated minutes at 500× take under a second, after the lead-in.
    const done = await pollUntil(
      'the separate-clock drill to end',
      async () => {
        const r = drillRunSchema.parse(await (await fetch(`${base}/api/drills/${run.id}`)).json());
        return r.status !== 'running' ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(done).toMatchObject({ status: 'finished', error: null, phase: 'drill' });
    const step = done.report?.steps[0];
    expect(step).toMatchObject({
      kind: 'server_down',
      server: 'web-01',
      detected: true,
      firstAlert: 'ServerIsDown',
    });
    expect(step?.secondsToFirstAlert).toBeGreaterThanOrEqual(120);
    expect(step?.secondsToFirstAlert).toBeLessThanOrEqual(150);
    expect(done.report).toMatchObject({ notifications: [], receivers: [] });
    // The live fleet never had the drill's scenario.
    const history = (await (await fetch(`${base}/api/scenarios`)).json()) as unknown;
    expect(JSON.stringify(history)).not.toContain('server_down');
    expect(ex.app.fleet.active(Date.now())).toEqual([]);
  });

  it('refuses an unknown clock', async () => {
    const bad = await postJson(`${base}/api/drills`, { name: 'web-down', clock: 'fast' }, TOKEN);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'OM_BAD_FIELD', message: /clock/ } });
  });
});
