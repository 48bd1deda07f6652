/**
 * NotificationSink stands in for the receivers the Docker-free stack was not given (WEBHOOK_URL or
 * SLACK_WEBHOOK_URL unset): Alertmanager delivers there, and each notification is printed as one line, so
 * `npm run stack` shows its alerts arriving without a Slack workspace or a webhook server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** MAX_BODY_BYTES bounds one notification (Alertmanager's are a few kB). */
const MAX_BODY_BYTES = 1 << 20;

interface WebhookAlert {
  status?: string;
  labels?: Record<string, string>;
}

/** summarize turns one Alertmanager webhook (`/webhook`) or Slack (`/slack`) payload into a line. */
export function summarize(path: string, body: unknown): string {
  if (path.startsWith('/slack')) {
    const b = body as { attachments?: Array<{ title?: string }> };
    return `slack: ${(b.attachments ?? []).map((a) => a.title ?? '').join('; ')}`;
  }
  const b = body as { status?: string; alerts?: WebhookAlert[] };
  const alerts = (b.alerts ?? []).map(
    (a) =>
      `${a.labels?.alertname ?? '?'}${a.labels?.server ? ` ${a.labels.server}` : ''} (${a.status ?? '?'})`,
  );
  return `webhook: ${b.status ?? '?'}: ${alerts.join(', ')}`;
}

/** NotificationSink is the running stand-in. */
export class NotificationSink {
  private constructor(private readonly server: Server) {}

  /** start listens on 127.0.0.1:`port` (0 = any free port) and calls `print` for each notification. */
  static async start(port: number, print: (line: string) => void): Promise<NotificationSink> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      req.on('end', () => {
        try {
          print(summarize(req.url ?? '/', JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        } catch {
          print(`notification on ${req.url ?? '/'} that is not JSON (${size} bytes)`);
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new NotificationSink(server);
  }

  /** url is the sink's base URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** close stops listening and ends open connections. */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
