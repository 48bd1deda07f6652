import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../options.js';
import { exporterRoot } from '../util/package-root.js';
import { DEFAULT_ROUTE, describeConfig, loadNotifyConfig, parseNotifyConfig } from './config.js';
import { parseMatchers } from './matchers.js';
import { REDACTED, Secret, scrub } from './secret.js';

const ENV = {
  SLACK_WEBHOOK_URL: 'https://hooks.slack.test/services/T000/B000/SECRETPART',
  WEBHOOK_URL: 'http://127.0.0.1:9/hook',
  ALERTMANAGER_URL: 'http://127.0.0.1:9093',
  DATADOG_API_KEY: 'dd-key-123456',
};

describe('loadNotifyConfig without a file', () => {
  it('runs one receiver per credential env var set, with the defaults', () => {
    const c = loadNotifyConfig(undefined, ENV);
    expect(c.receivers.map((r) => [r.name, r.type])).toEqual([
      ['slack', 'slack'],
      ['webhook', 'webhook'],
      ['alertmanager', 'alertmanager'],
    ]);
    const slack = c.receivers[0];
    expect(slack).toMatchObject({ channel: '#monitoring', username: 'OpenManager', ...DEFAULT_ROUTE });
    expect(c.datadog).toMatchObject({ intervalMs: 15_000, batchSize: 500 });
    expect(c.datadog?.url.reveal()).toBe('https://api.datadoghq.com');
  });

  it('runs nothing when no env var is set', () => {
    const c = loadNotifyConfig(undefined, {});
    expect(c.receivers).toEqual([]);
    expect(c.datadog).toBeUndefined();
  });

  it('takes DATADOG_SITE, and DATADOG_URL over it', () => {
    expect(loadNotifyConfig(undefined, { ...ENV, DATADOG_SITE: 'datadoghq.eu' }).datadog?.url.reveal()).toBe(
      'https://api.datadoghq.eu',
    );
    expect(
      loadNotifyConfig(undefined, {
        ...ENV,
        DATADOG_SITE: 'x',
        DATADOG_URL: 'http://127.0.0.1:1/',
      }).datadog?.url.reveal(),
    ).toBe('http://127.0.0.1:1/');
  });
});

describe('parseNotifyConfig', () => {
  const yaml = `
route:
  group_by: [alertname]
  group_wait: 10s
receivers:
  - name: oncall
    type: slack
    matchers: ['severity="critical"', 'server=~"web-.*"']
    group_interval: 1m
  - name: am
    type: alertmanager
    resend_delay: 30s
  - name: audit
    type: webhook
    url_env: AUDIT_URL
    max_alerts: 10
outbox:
  max_age: 1h
datadog:
  interval: 30s
  tags: [env:demo]
`;

  it('reads receivers, route defaults, per-receiver overrides and the outbox', () => {
    const c = parseNotifyConfig(yaml, 'n.yml', { ...ENV, AUDIT_URL: 'http://127.0.0.1:9/audit' });
    const [oncall, am, audit] = c.receivers;
    expect(oncall).toMatchObject({
      type: 'slack',
      groupBy: ['alertname'],
      groupWaitMs: 10_000,
      groupIntervalMs: 60_000,
      repeatIntervalMs: DEFAULT_ROUTE.repeatIntervalMs,
    });
    expect(oncall?.matchers.map((m) => m.matches({ severity: 'critical', server: 'web-01' }))).toEqual([
      true,
      true,
    ]);
    expect(oncall?.matchers[0]?.matches({ severity: 'warning' })).toBe(false);
    expect(am).toMatchObject({ type: 'alertmanager', resendDelayMs: 30_000 });
    expect(audit).toMatchObject({ type: 'webhook', maxAlerts: 10, groupWaitMs: 10_000 });
    expect(audit?.url.reveal()).toBe('http://127.0.0.1:9/audit');
    expect(c.outbox).toMatchObject({ maxAgeMs: 3_600_000, initialBackoffMs: 1_000 });
    expect(c.datadog).toMatchObject({ intervalMs: 30_000, tags: ['env:demo'] });
  });

  it.each<[string, string, Record<string, string>, RegExp]>([
    ['YAML syntax', 'receivers: [\n  - name: x', ENV, /n\.yml:\d+:\d+: not valid YAML/],
    ['unknown key', 'route:\n  group_wiat: 10s\n', ENV, /n\.yml:\d+ \(route\): .*group_wiat/],
    [
      'bad duration',
      'route:\n  group_wait: soon\n',
      ENV,
      /n\.yml:2 \(route\.group_wait\): expected a duration/,
    ],
    ['unknown type', 'receivers:\n  - name: x\n    type: pager\n', ENV, /receivers\.0\.type/],
    ['bad label', 'route:\n  group_by: [a-b]\n', ENV, /group_by\.0\): expected a label name/],
    [
      'missing env var',
      'receivers:\n  - name: s\n    type: slack\n',
      {},
      /receivers\[0\] "s"\): needs the env var SLACK_WEBHOOK_URL/,
    ],
    [
      'invalid URL',
      'receivers:\n  - name: w\n    type: webhook\n',
      { WEBHOOK_URL: 'not a url' },
      /WEBHOOK_URL is not a valid URL/,
    ],
    [
      'non-http URL',
      'receivers:\n  - name: w\n    type: webhook\n',
      { WEBHOOK_URL: 'ftp://x/y' },
      /must be an http:\/\/ or https:\/\/ URL, not ftp:/,
    ],
    [
      'duplicate name',
      'receivers:\n  - {name: w, type: webhook}\n  - {name: w, type: webhook}\n',
      ENV,
      /used twice/,
    ],
    [
      'bad matcher',
      'receivers:\n  - {name: w, type: webhook, matchers: ["severity=~\\"(\\""]}\n',
      ENV,
      /matchers\): .*missing closing \)/,
    ],
    ['datadog without key', 'datadog: {}\n', {}, /needs the env var DATADOG_API_KEY/],
    ['backoffs reversed', 'outbox: {initial_backoff: 1m, max_backoff: 1s}\n', ENV, /max_backoff/],
  ])('rejects %s with a clear message', (_name, text, env, message) => {
    let err: unknown;
    try {
      parseNotifyConfig(text, 'n.yml', env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    // A rejected URL is named by its variable, never quoted.
    expect((err as Error).message).not.toContain('not a url');
  });

  it('never shows a credential in logs, JSON or inspect output', () => {
    const c = loadNotifyConfig(undefined, ENV);
    const shown = [
      JSON.stringify(c),
      inspect(c, { depth: 10 }),
      JSON.stringify(describeConfig(c)),
      String(c.datadog?.apiKey),
    ];
    for (const s of shown) {
      expect(s).not.toContain('SECRETPART');
      expect(s).not.toContain('dd-key-123456');
    }
    expect(JSON.stringify(c)).toContain(REDACTED);
  });

  it('loads the shipped example file', () => {
    const root = exporterRoot();
    if (!root) throw new Error('no exporter root');
    const path = join(root, 'config', 'notify.example.yml');
    const c = loadNotifyConfig(path, ENV);
    expect(c.receivers.length).toBeGreaterThan(0);
    expect(readFileSync(path, 'utf8')).not.toMatch(/https?:\/\/hooks\.slack/);
  });

  it('says which file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-notify-config-'));
    try {
      writeFileSync(join(dir, 'ok.yml'), '');
      expect(loadNotifyConfig(join(dir, 'ok.yml'), {}).receivers).toEqual([]);
      expect(() => loadNotifyConfig(join(dir, 'missing.yml'), {})).toThrow(
        /cannot read .*missing\.yml: ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseMatchers', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['severity="critical"', { severity: 'critical' }, true],
    ['severity=critical', { severity: 'critical' }, true],
    ['severity = "critical"', { severity: 'warning' }, false],
    ['severity!="critical"', {}, true],
    ['server=~"web-.*"', { server: 'web-01' }, true],
    ['server=~"web"', { server: 'web-01' }, false],
    ['server!~"db-.*"', { server: 'db-1' }, false],
    ['{severity="critical", team="db"}', { severity: 'critical', team: 'db' }, true],
    ['{severity="critical", team="db"}', { severity: 'critical' }, false],
    ['msg="a \\"quoted\\" value"', { msg: 'a "quoted" value' }, true],
    // An unquoted value is taken literally, never as more query text.
    ['a="b"} or vector(1) {', { a: '"b"} or vector(1) {' }, true],
  ])('%s on %j → %s', (text, labels, want) => {
    expect(parseMatchers(text).every((m) => m.matches(labels))).toBe(want);
  });

  it.each(['severity', '="x"', '{a="b"} or vector(1) {', '1a="b"', 'a=~"("'])('rejects %s', (text) => {
    expect(() => parseMatchers(text)).toThrow(/cannot parse matcher|missing/);
  });
});

describe('scrub', () => {
  it('removes a secret URL, its path and query from a message', () => {
    const s = new Secret('https://hooks.slack.test/services/T0/B0/XYZW?token=abcd', 'SLACK_WEBHOOK_URL');
    const msg = scrub(
      'POST /services/T0/B0/XYZW failed; url=https://hooks.slack.test/services/T0/B0/XYZW?token=abcd',
      [s],
    );
    expect(msg).not.toContain('XYZW');
    expect(msg).not.toContain('abcd');
  });
});
