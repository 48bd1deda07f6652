/**
 * The receiving side of bench/notify.bench.ts: a child process running the local webhook stand-in (as a real
 * receiver runs in its own process, on its own core). It stamps each request's arrival as
 * `performance.timeOrigin + performance.now()` (wall-clock based, sub-millisecond, comparable with the parent's
 * stamps) for each alert's server. Driven over IPC:
 *   (start, argv[2] = the number of alerts expected) → {event:'ready', url}
 *   (once that many alerts arrived)                  → {event:'done'}
 *   {cmd:'report'}                                   → {event:'report', receipts: [server, at][], requests}
 * One message at the end rather than one per request: IPC would cost the measured process CPU.
 */
import { performance } from 'node:perf_hooks';
import { StandInReceiver } from '../test/stand-in-receiver.js';

const expected = Number(process.argv[2] ?? '0');
const hook = await StandInReceiver.start();
const receipts: [string, number][] = [];
hook.onRequest((r) => {
  const at = performance.timeOrigin + r.at;
  const body = r.body as { alerts?: { labels: Record<string, string> }[] } | undefined;
  for (const a of body?.alerts ?? []) receipts.push([a.labels.server ?? '', at]);
  if (receipts.length === expected) process.send?.({ event: 'done' });
});
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'report') process.send?.({ event: 'report', receipts, requests: hook.received.length });
  if (m.cmd === 'stop') void hook.close().then(() => process.exit(0));
});
process.send?.({ event: 'ready', url: hook.url });
