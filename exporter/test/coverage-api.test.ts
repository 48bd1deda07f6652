/**
 * The alert coverage API over HTTP, in-process: a team posts its own rule file (a disk rule only) and gets,
 * from a job run in a worker thread, a report that says disk fills are caught and CPU spikes missed; the
 * running job shows in the hub's `system-status`; the HTML report renders; bad requests, a missing token and
 * a second job while one runs are refused with the catalogue's errors.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { Exporter } from '../src/compose.js';
import {
  coverageJobSchema,
  systemStatusSchema,
  type CoverageJob,
  type SystemStatus,
} from '../src/contract/index.js';
import { postJson, startInProcess, subscribeHub, testOptions } from './in-process.js';
import { pollUntil } from './poll.js';

const TOKEN = 'test-token';
const DISK_RULES = `groups:
  - name: disk
    rules:
      - alert: DiskAlmostFull
        expr: max by (server) (openmanager_disk_usage_percent) > 85
        for: 2m
`;
/** REQUEST covers two kinds on two generated servers, once each: a few simulated hours, seconds of work. */
const REQUEST = {
  rules: [{ name: 'team_disk.yml', yaml: DISK_RULES }],
  servers: 2,
  kinds: ['disk_fill', 'cpu_spike'],
  intensities: [1],
  repetitions: 1,
};

let ex: Exporter;
let base: string;
let ws: WebSocket;
const statuses: SystemStatus[] = [];

const post = (body: unknown, token: string | null = TOKEN): Promise<Response> =>
  postJson(`${base}/api/coverage`, body, token);

beforeAll(async () => {
  ex = await startInProcess(testOptions(mkdtempSync(join(tmpdir(), 'om-coverage-api-')), TOKEN));
  base = ex.app.url;
  ws = await subscribeHub(ex, ['system-status'], (_channel, data) =>
    statuses.push(systemStatusSchema.parse(data)),
  );
}, 60_000);

afterAll(async () => {
  ws?.close();
  await ex?.app.stop();
});

describe('POST /api/coverage', () => {
  it('refuses a missing token, an unknown field and a bad rule file name', async () => {
    expect((await post(REQUEST, null)).status).toBe(401);
    const unknown = await post({ ...REQUEST, days: 3 });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: 'OM_BAD_FIELD', message: /days/ } });
    const path = await post({ ...REQUEST, rules: [{ name: '../../etc/x.yml', yaml: '' }] });
    expect(path.status).toBe(400);
    expect(await path.json()).toMatchObject({ error: { message: /rules\.0\.name/ } });
  });

  it('runs the posted rules in a worker, shows progress in system-status, and reports what they miss', async () => {
    const res = await post(REQUEST);
    expect(res.status).toBe(202);
    const job = coverageJobSchema.parse(await res.json());
    expect(res.headers.get('location')).toBe(`/api/coverage/${job.id}`);
    expect(job.status).toBe('running');
    const busy = await post(REQUEST);
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ error: { code: 'OM_COVERAGE_RUNNING' } });
    // The job runs off this thread: the status job can publish meanwhile and names it.
    await ex.app.scheduler.runNow('system-status');
    const shown = await pollUntil('system-status with the job', () =>
      statuses.find((s) => s.coverage?.id === job.id),
    );
    expect(shown.coverage?.phase).toMatch(/simulating|scoring/);

    const done = await pollUntil(
      'the job to finish',
      async () => {
        const j: CoverageJob = coverageJobSchema.parse(
          await (await fetch(`${base}/api/coverage/${job.id}`)).json(),
        );
        return j.status === 'running' ? undefined : j;
      },
      { timeoutMs: 120_000 },
    );
    expect(done.error).toBeNull();
    expect(done.status).toBe('done');
    const report = done.report!;
    expect(report.settings.rules).toEqual(['team_disk.yml']);
    expect(report.settings.servers).toBe(2);
    const kind = (k: string) => report.kinds.find((x) => x.kind === k);
    expect(kind('disk_fill')?.detected).toBeGreaterThan(0);
    expect(kind('cpu_spike')?.detected).toBe(0);
    expect(report.summary.kindsMissed).toEqual(['cpu_spike']);

    const html = await fetch(`${base}/api/coverage/${job.id}/report.html`);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const page = await html.text();
    expect(page).toMatch(/<svg/);
    expect(page).toMatch(/DiskAlmostFull/);
    const list = (await (await fetch(`${base}/api/coverage`)).json()) as { jobs: CoverageJob[] };
    expect(list.jobs.map((j) => [j.id, j.status, j.report])).toEqual([[job.id, 'done', null]]);
    // Once it ended, system-status no longer carries a job.
    const seen = statuses.length;
    await ex.app.scheduler.runNow('system-status');
    const after = await pollUntil('a system-status without the job', () =>
      statuses.slice(seen).find((st) => st.coverage === undefined),
    );
    expect(after.scheduler.jobs.length).toBeGreaterThan(0);
  }, 180_000);

  it('answers 404 for a job it does not know', async () => {
    const res = await fetch(`${base}/api/coverage/cov-nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'OM_UNKNOWN_COVERAGE' } });
  });
});
