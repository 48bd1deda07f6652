/**
 * SlackReceiver posts to a Slack incoming webhook through `@slack/webhook`: the seed's message (channel
 * #monitoring, the bot's name, one attachment per alert coloured by severity — warning amber, critical red,
 * resolved green — with the fields "server" and "current value"), plus Block Kit sections with each alert's
 * summary, description, runbook and a link to the server's page in Grafana.
 *
 * Slack allows one message per second per webhook (minIntervalMs) and answers 429 with Retry-After when
 * pushed harder; the deliverer honours both. Label and annotation values are text, never markup: `&`, `<` and
 * `>` are escaped as Slack requires (so a value cannot @-mention a channel or forge a link), and values are
 * shown in plain_text objects and attachments without mrkdwn, so `*`, `_`, `~` and backticks stay characters.
 */
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import type { SlackReceiverConfig } from './config.js';
import { classify, fetchBounded, DeliveryError, networkError, type HttpReply } from './http-client.js';
import type { Notification, NotifyAlert } from './notification.js';
import { IDEMPOTENCY_HEADER, type Receiver, type SendContext } from './receiver.js';

/** SLACK_MIN_INTERVAL_MS is Slack's incoming-webhook rate limit: one message per second. */
export const SLACK_MIN_INTERVAL_MS = 1_000;

/** COLORS are the attachment colours: the seed's severity colours (amber, red) and green for resolved. */
export const COLORS = {
  critical: '#D00000',
  warning: '#FFBF00',
  resolved: '#2EB67D',
  other: '#439FE0',
} as const;

/** MAX_ALERTS_SHOWN bounds the alerts one message details (Slack: 50 blocks, 100 attachments per message). */
export const MAX_ALERTS_SHOWN = 10;

/** MAX_TEXT is Slack's limit for one section's text (3,000 characters). */
const MAX_TEXT = 3_000;

/** PLUGIN_ID is the Grafana app plugin's id (plugin/src/plugin.json); its server page is /a/<id>/server/<id>. */
export const PLUGIN_ID = 'openmanager-fleet-app';

/** escapeSlack escapes the three characters Slack parses as control sequences (`&`, `<`, `>`). */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max = MAX_TEXT): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** colorOf is an alert's attachment colour. */
export function colorOf(a: NotifyAlert): string {
  if (a.status === 'resolved') return COLORS.resolved;
  const sev = a.labels.severity;
  return sev === 'critical' ? COLORS.critical : sev === 'warning' ? COLORS.warning : COLORS.other;
}

/** formatValue shows an alert's value as the seed's "current value" (two decimals, or "n/a"). */
export function formatValue(v: number | null): string {
  if (v === null) return 'n/a';
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** serverPageUrl is the Grafana URL of a server's page in the app plugin, or undefined without a base URL. */
export function serverPageUrl(
  grafanaUrl: string | undefined,
  server: string | undefined,
): string | undefined {
  if (grafanaUrl === undefined || server === undefined || server === '') return undefined;
  return `${grafanaUrl.replace(/\/+$/, '')}/a/${PLUGIN_ID}/server/${encodeURIComponent(server)}`;
}

/** httpUrl returns `s` when it is an http(s) URL Slack accepts in a button, else undefined. */
function httpUrl(s: string | undefined): string | undefined {
  if (s === undefined || s.length > MAX_TEXT) return undefined;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

const plain = (text: string): { type: 'plain_text'; text: string; emoji: false } => ({
  type: 'plain_text',
  text: clip(escapeSlack(text)),
  emoji: false,
});

/** slackMessage renders a notification as the seed's Slack message plus Block Kit sections. */
export function slackMessage(
  n: Notification,
  c: Pick<SlackReceiverConfig, 'channel' | 'username' | 'iconEmoji'>,
  grafanaUrl?: string,
): IncomingWebhookSendArguments {
  const firing = n.alerts.filter((a) => a.status === 'firing').length;
  const name = n.commonLabels.alertname ?? n.groupLabels.alertname ?? 'alerts';
  const where = n.commonLabels.server ?? n.groupLabels.server;
  const title = `[${n.status.toUpperCase()}${n.status === 'firing' ? `:${firing}` : ''}] ${name}${where ? ` on ${where}` : ''}`;
  const shown = n.alerts.slice(0, MAX_ALERTS_SHOWN);
  const more = n.alerts.length - shown.length + n.truncatedAlerts;
  const blocks: NonNullable<IncomingWebhookSendArguments['blocks']> = [
    { type: 'header', text: plain(clip(title, 150)) },
  ];
  for (const a of shown) {
    const lines = [a.annotations.summary, a.annotations.description].filter((x): x is string => !!x);
    blocks.push({
      type: 'section',
      text: plain(lines.length > 0 ? lines.join('\n') : (a.labels.alertname ?? 'alert')),
      fields: [plain(`server: ${a.labels.server ?? 'n/a'}`), plain(`current value: ${formatValue(a.value)}`)],
    });
    const buttons = [
      ['Runbook', httpUrl(a.annotations.runbook_url ?? a.annotations.runbook)],
      ['Server in Grafana', httpUrl(serverPageUrl(grafanaUrl, a.labels.server))],
    ].flatMap(([label, url]) => (url ? [{ type: 'button' as const, text: plain(label ?? ''), url }] : []));
    if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  }
  if (more > 0) blocks.push({ type: 'context', elements: [plain(`and ${more} more`)] });
  return {
    channel: c.channel,
    username: c.username,
    ...(c.iconEmoji ? { icon_emoji: c.iconEmoji } : {}),
    text: escapeSlack(title),
    blocks,
    attachments: shown.map((a) => ({
      color: colorOf(a),
      title: escapeSlack(
        clip(
          `${a.status === 'resolved' ? 'RESOLVED: ' : ''}${a.annotations.summary ?? a.labels.alertname ?? 'alert'}`,
          250,
        ),
      ),
      fields: [
        { title: 'server', value: escapeSlack(a.labels.server ?? 'n/a'), short: true },
        { title: 'current value', value: formatValue(a.value), short: true },
      ],
      footer: escapeSlack(c.username),
      ts: String(Math.floor(Date.parse(a.startsAt) / 1000)),
      mrkdwn_in: [],
    })),
  };
}

/** SlackReceiver delivers to a Slack incoming webhook. */
export class SlackReceiver implements Receiver {
  readonly type = 'slack';
  readonly concurrency = 1;
  readonly minIntervalMs = SLACK_MIN_INTERVAL_MS;

  constructor(
    private readonly config: SlackReceiverConfig,
    private readonly grafanaUrl?: string,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async send(n: Notification, ctx: SendContext): Promise<void> {
    const { config } = this;
    const secrets = [config.url];
    // Loaded on first use: exporters without a Slack receiver never pay for the library (~1.2 MB RSS).
    const { IncomingWebhook, IncomingWebhookHTTPError } = await import('@slack/webhook');
    let reply: HttpReply | undefined;
    // The library's fetch is ours: bounded reads, the deadline, the idempotency header, and the reply kept so
    // a 429's Retry-After (which the library's error does not carry) reaches the deliverer.
    const webhook = new IncomingWebhook(config.url.reveal(), {
      timeout: config.timeoutMs,
      fetch: async (url, init) => {
        reply = await fetchBounded(
          String(url),
          {
            method: init?.method ?? 'POST',
            headers: { ...init?.headers, [IDEMPOTENCY_HEADER]: ctx.idempotencyKey },
            body: typeof init?.body === 'string' ? init.body : '',
            ...(init?.signal ? { signal: init.signal } : {}),
          },
          { timeoutMs: config.timeoutMs, secrets },
        );
        const body = reply.status === 204 || reply.status === 304 ? null : new Uint8Array(reply.body);
        return new Response(body, {
          status: reply.status,
          statusText: reply.statusText,
          headers: reply.headers,
        });
      },
    });
    try {
      await webhook.send(slackMessage(n, config, this.grafanaUrl));
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      const original = (err as { original?: unknown }).original;
      if (original instanceof DeliveryError) throw original;
      if (err instanceof IncomingWebhookHTTPError && reply)
        throw (
          classify(reply, secrets) ?? new DeliveryError('retryable', `HTTP ${reply.status}`, reply.status)
        );
      throw networkError(original ?? err, config.timeoutMs, secrets);
    }
  }
}
