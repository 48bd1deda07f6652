import { describe, expect, it } from 'vitest';
import {
  CONTRACT_NOTIFICATION,
  CONTRACT_TIMEOUT_MS,
  SECRET_PATH,
  runReceiverContract,
} from '../../test/receiver-contract.js';
import { DEFAULT_ROUTE, SEED_SLACK, type SlackReceiverConfig } from './config.js';
import type { Notification } from './notification.js';
import { Secret } from './secret.js';
import { COLORS, escapeSlack, slackMessage, SlackReceiver } from './slack-receiver.js';

const GRAFANA = 'http://grafana.test:3000/';

function config(url: string): SlackReceiverConfig {
  return {
    type: 'slack',
    name: 'contract',
    url: new Secret(url, 'SLACK_WEBHOOK_URL'),
    matchers: [],
    sendResolved: true,
    timeoutMs: CONTRACT_TIMEOUT_MS,
    maxAlerts: 0,
    ...DEFAULT_ROUTE,
    ...SEED_SLACK,
    iconEmoji: undefined,
  };
}

/** EXPECTED is the whole message for CONTRACT_NOTIFICATION, written out. */
const EXPECTED = {
  channel: '#monitoring',
  username: 'OpenManager',
  text: '[FIRING:1] HighCPUUsage on web-01',
  blocks: [
    { type: 'header', text: { type: 'plain_text', text: '[FIRING:1] HighCPUUsage on web-01', emoji: false } },
    {
      type: 'section',
      text: {
        type: 'plain_text',
        text: 'High CPU usage on web-01\nCPU usage is 91.5% on web-01',
        emoji: false,
      },
      fields: [
        { type: 'plain_text', text: 'server: web-01', emoji: false },
        { type: 'plain_text', text: 'current value: 91.50', emoji: false },
      ],
    },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Runbook', emoji: false },
          url: 'https://runbooks.example/cpu',
        },
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Server in Grafana', emoji: false },
          url: 'http://grafana.test:3000/a/openmanager-fleet-app/server/web-01',
        },
      ],
    },
    {
      type: 'section',
      text: {
        type: 'plain_text',
        text: 'High CPU usage on web-01\nCPU usage is 80.1% on web-01',
        emoji: false,
      },
      fields: [
        { type: 'plain_text', text: 'server: web-01', emoji: false },
        { type: 'plain_text', text: 'current value: 80.10', emoji: false },
      ],
    },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Server in Grafana', emoji: false },
          url: 'http://grafana.test:3000/a/openmanager-fleet-app/server/web-01',
        },
      ],
    },
  ],
  attachments: [
    {
      color: COLORS.warning,
      title: 'High CPU usage on web-01',
      fields: [
        { title: 'server', value: 'web-01', short: true },
        { title: 'current value', value: '91.50', short: true },
      ],
      footer: 'OpenManager',
      ts: String(Date.parse('2026-01-05T12:00:00.000Z') / 1000),
      mrkdwn_in: [],
    },
    {
      color: COLORS.resolved,
      title: 'RESOLVED: High CPU usage on web-01',
      fields: [
        { title: 'server', value: 'web-01', short: true },
        { title: 'current value', value: '80.10', short: true },
      ],
      footer: 'OpenManager',
      ts: String(Date.parse('2026-01-05T11:50:00.000Z') / 1000),
      mrkdwn_in: [],
    },
  ],
};

runReceiverContract({
  name: 'slack',
  create: (url) => new SlackReceiver(config(url), GRAFANA),
  path: SECRET_PATH,
  checkPayload(req) {
    expect(req.body).toEqual(EXPECTED);
  },
});

describe('slackMessage', () => {
  it('colours by severity: critical red, warning amber, resolved green', () => {
    const critical: Notification = {
      ...CONTRACT_NOTIFICATION,
      alerts: CONTRACT_NOTIFICATION.alerts.map((a) => ({
        ...a,
        labels: { ...a.labels, severity: 'critical' },
      })),
    };
    const m = slackMessage(critical, config('http://x'));
    expect(m.attachments?.map((a) => a.color)).toEqual([COLORS.critical, COLORS.resolved]);
  });

  it('escapes Slack control characters and keeps markdown characters literal', () => {
    const evil = '<!channel> *bold* _it_ ~s~ `c` <http://evil.test|click> & more';
    const n: Notification = {
      ...CONTRACT_NOTIFICATION,
      commonLabels: { alertname: evil, server: evil },
      alerts: [
        {
          ...CONTRACT_NOTIFICATION.alerts[0]!,
          labels: { alertname: evil, server: evil },
          annotations: { summary: evil, description: evil, runbook_url: 'javascript:alert(1)' },
        },
      ],
    };
    const m = slackMessage(n, config('http://x'), GRAFANA);
    const json = JSON.stringify(m);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<http://evil');
    expect(json).not.toContain('javascript:');
    expect(m.text).toBe(`[FIRING:1] ${escapeSlack(evil)} on ${escapeSlack(evil)}`);
    expect(escapeSlack(evil)).toBe(
      '&lt;!channel&gt; *bold* _it_ ~s~ `c` &lt;http://evil.test|click&gt; &amp; more',
    );
    // Values are never mrkdwn: plain_text blocks, attachments with mrkdwn_in empty.
    expect(json).not.toContain('"mrkdwn"');
    expect(m.attachments?.[0]?.mrkdwn_in).toEqual([]);
    // The server link encodes the value.
    expect(json).toContain(`/server/${encodeURIComponent(evil)}`);
  });

  it('details at most 10 alerts and says how many more there are', () => {
    const many: Notification = {
      ...CONTRACT_NOTIFICATION,
      alerts: Array.from({ length: 25 }, () => CONTRACT_NOTIFICATION.alerts[0]!),
      truncatedAlerts: 5,
    };
    const m = slackMessage(many, config('http://x'));
    expect(m.attachments).toHaveLength(10);
    expect(JSON.stringify(m.blocks?.at(-1))).toContain('and 20 more');
  });
});
