/**
 * Notifications survive a kill -9 of the real exporter process: with the webhook down, the exporter's firing
 * alerts wait in its outbox; the process is SIGKILLed; the webhook comes back; a new process sends every
 * unacknowledged notification — the same notifications (same idempotency keys), each group once — and does
 * not notify again the alerts its rules fire anew after the restart. With the embedded store the new process
 * runs on the same data dir; with a Redis store on a fresh data dir, since the outbox then lives in Redis (a
 * private redis-server with an fsync'ed AOF, as a production Redis would keep it). Also: an invalid
 * notification configuration stops the exporter at start with exit code 2 and a message saying what to fix.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationsResponseSchema } from '../src/contract/notifications.js';
import { RedisServerProcess } from '../src/tsdb/redis/redis-server-process.js';
import { ExporterProcess, sampleValue } from './exporter-process.js';
import { pollUntil } from './poll.js';
import { OK, StandInReceiver, type Received } from './stand-in-receiver.js';

const RULES = `
groups:
  - name: crash-test
    interval: 1s
    rules:
      - alert: MemoryPresent
        expr: openmanager_memory_total_bytes{server=~"web-0[12]"} > 0
        labels: { severity: critical }
`;
const NOTIFY = `
route: { group_wait: 1s, group_interval: 1m, repeat_interval: 4h }
receivers:
  - { name: hook, type: webhook }
outbox: { initial_backoff: 200ms, max_backoff: 1s }
`;

let dir: string;
let hook: StandInReceiver;
let redis: RedisServerProcess;
const procs: ExporterProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'om-notify-crash-'));
  writeFileSync(join(dir, 'rules.yml'), RULES);
  writeFileSync(join(dir, 'notify.yml'), NOTIFY);
  hook = await StandInReceiver.start();
  redis = await RedisServerProcess.start();
});

afterAll(async () => {
  for (const p of procs) await p.kill();
  await hook.close();
  await redis.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * start runs an exporter on the shared data dir whose webhook posts to `path`: each process gets its own path,
 * so a request the killed process had on the wire, which the stand-in may read only after the kill, is never
 * counted as one the new process sent.
 */
function start(path: string, store: Store): Promise<ExporterProcess> {
  return ExporterProcess.start({
    dataDir: join(dir, store === 'embedded' ? 'data' : `data${path.replace('/', '-')}`),
    args: ['--rule-files', join(dir, 'rules.yml'), '--notify-config', join(dir, 'notify.yml')],
    env: { WEBHOOK_URL: `${hook.url}${path}`, ...(store === 'redis' ? { REDIS_URL: redis.url } : {}) },
  }).then((p) => {
    procs.push(p);
    return p;
  });
}

const server = (r: Received): string =>
  (r.body as { groupLabels?: Record<string, string> } | undefined)?.groupLabels?.server ?? '';

async function notifications(p: ExporterProcess) {
  return notificationsResponseSchema.parse(await (await fetch(`${p.url}/api/notifications`)).json());
}

type Store = 'embedded' | 'redis';

describe('notifications across a kill -9', () => {
  it.each<Store>(['embedded', 'redis'])(
    'with the %s store: sends every unacknowledged notification after a restart, once, with the same idempotency keys',
    async (store) => {
      hook.received.length = 0;
      hook.answer = () => ({ kind: 'status', status: 503, body: 'down for maintenance' });
      const first = await start(`/${store}-first`, store);
      // Both groups were attempted (and refused) at least once: they are in the outbox.
      await pollUntil('both groups attempted', () => new Set(hook.received.map(server)).size === 2, {
        timeoutMs: 60_000,
        giveUp: () => (first.alive() ? undefined : first.describe()),
      });
      const before = await notifications(first);
      expect(before.receivers[0]).toMatchObject({
        name: 'hook',
        queued: 2,
        lastError: 'HTTP 503: down for maintenance',
      });
      const keysBefore = new Set(hook.received.map((r) => String(r.headers['idempotency-key'])));
      expect(keysBefore.size).toBe(2);

      expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' });
      hook.answer = () => OK;
      const second = await start(`/${store}-second`, store);
      const delivered = (): Received[] => hook.received.filter((r) => r.path === `/${store}-second`);
      await pollUntil(
        'both groups delivered after the restart',
        () => new Set(delivered().map(server)).size === 2,
        {
          timeoutMs: 60_000,
          giveUp: () => (second.alive() ? undefined : second.describe()),
        },
      );
      // The very notifications queued before the crash: same keys.
      expect(new Set(delivered().map((r) => String(r.headers['idempotency-key'])))).toEqual(keysBefore);
      // The rules fire the same alerts again after the restart; let them evaluate a few times past group_wait.
      const evaluations = async (): Promise<number> =>
        sampleValue(
          await second.metrics(),
          'prometheus_rule_evaluations_total',
          'prometheus_rule_evaluations_total',
          {
            rule_group: `${join(dir, 'rules.yml')};crash-test`,
          },
        ) ?? 0;
      const at = await evaluations();
      await pollUntil('three more rule evaluations', async () => (await evaluations()) >= at + 3, {
        timeoutMs: 30_000,
      });
      const after = await notifications(second);
      expect(after.receivers[0]).toMatchObject({ queued: 0, lastError: null });
      expect(delivered().map(server).sort()).toEqual(['web-01', 'web-02']);
      await second.stop();
    },
    300_000,
  );

  it('after a restart, notifies as resolved an alert that stopped while the exporter was down', async () => {
    hook.answer = () => OK;
    // The alert follows the scenario ground truth, so it stops exactly when the injected scenario ends.
    writeFileSync(
      join(dir, 'spike.yml'),
      `groups:\n  - name: spike\n    interval: 1s\n    rules:\n      - alert: Spike\n        expr: openmanager_scenario_active{scenario="cpu_spike",server="web-03"} > 0\n`,
    );
    const run = (): Promise<ExporterProcess> =>
      ExporterProcess.start({
        dataDir: join(dir, 'data-gone'),
        backfill: '5m',
        args: ['--rule-files', join(dir, 'spike.yml'), '--notify-config', join(dir, 'notify.yml')],
        env: { WEBHOOK_URL: `${hook.url}/gone` },
      }).then((p) => {
        procs.push(p);
        return p;
      });
    const sent = (status: string): Received[] =>
      hook.received.filter((r) => r.path === '/gone' && (r.body as { status?: string }).status === status);
    const first = await run();
    const res = await fetch(`${first.url}/api/scenarios`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.token ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'cpu_spike', server: 'web-03', durationSeconds: 8 }),
    });
    expect(res.status).toBe(201);
    const { scenario } = (await res.json()) as { scenario: { end: number } };
    await pollUntil('the firing notification', () => sent('firing').length > 0, { timeoutMs: 60_000 });
    // Acknowledged before the kill, so the restart has nothing to resend (see the key check below).
    await pollUntil(
      'the acknowledgement',
      async () => (await notifications(first)).receivers[0]?.queued === 0,
    );
    await first.kill();
    // The scenario ends while no exporter runs.
    await pollUntil('the scenario to end', () => Date.now() > scenario.end + 1_000, { timeoutMs: 30_000 });
    const second = await run();
    const resolved = await pollUntil('the resolved notification', () => sent('resolved')[0], {
      timeoutMs: 60_000,
      giveUp: () => (second.alive() ? undefined : second.describe()),
    });
    const alerts = (resolved.body as { alerts: { labels: Record<string, string>; status: string }[] }).alerts;
    expect(alerts.map((a) => [a.labels.alertname, a.labels.server, a.status])).toEqual([
      ['Spike', 'web-03', 'resolved'],
    ]);
    // No new firing notification after the restart: at most a resend of the one sent before (same idempotency
    // key), which at-least-once allows if the kill beat the acknowledgement's write to the outbox log.
    expect(new Set(sent('firing').map((r) => String(r.headers['idempotency-key']))).size).toBe(1);
    await second.stop();
  }, 180_000);

  it('refuses to start with an invalid notification configuration (exit 2, what to fix)', async () => {
    writeFileSync(join(dir, 'bad.yml'), 'receivers:\n  - { name: s, type: slack, group_wait: soon }\n');
    await expect(
      ExporterProcess.start({
        args: ['--notify-config', join(dir, 'bad.yml')],
        env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.test/services/X/Y/Z' },
      }),
    ).rejects.toThrow(
      /exited before listening[\s\S]*invalid notify config .*bad\.yml:2 \(receivers\.0\.group_wait\): expected a duration/,
    );
    await expect(
      ExporterProcess.start({ args: ['--notify-config', join(dir, 'bad.yml')], env: {} }),
    ).rejects.toThrow(/code 2/);
  }, 120_000);
});
