/**
 * The receiving side of bench/notify.bench.ts: a child process running the local webhook stand-in (as a real
 * receiver runs in its own process, on its own core). It stamps each request's arrival as
 * `performance.timeOrigin + performance.now()` (wall-clock based, sub-millisecond, comparable with the parent's
 * stamps) for each alert's server. Driven over IPC:
 *   (start)           → {event:'ready', url}
 *   {cmd:'report'}    → {event:'report', receipts: [server, at][], requests}
 */
import { performance } from 'node:perf_hooks';
import { StandInReceiver } from '../test/stand-in-receiver.js';

const hook = await StandInReceiver.start();
const receipts: [string, number][] = [];
hook.onRequest((r) => {
  const at = performance.timeOrigin + r.at;
  const body = r.body as { alerts?: { labels: Record<string, string> }[] } | undefined;
  for (const a of body?.alerts ?? []) receipts.push([a.labels.server ?? '', at]);
  process.send?.({ event: 'progress', alerts: receipts.length });
});
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'report') process.send?.({ event: 'report', receipts, requests: hook.received.length });
  if (m.cmd === 'stop') void hook.close().then(() => process.exit(0));
});
process.send?.({ event: 'ready', url: hook.url });
