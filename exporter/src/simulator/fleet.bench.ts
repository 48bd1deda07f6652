/**
 * Simulator benchmark: live tick cost at 20 / 1,000 / 10,000 servers and a 7-day backfill of the default
 * fleet. Run: `npx tsx src/simulator/fleet.bench.ts`. Prints a table, then one JSON line.
 */
import { benchTick } from '../../bench/bench-tick.js';
import { Fleet } from './fleet.js';

const DAY = 86_400_000;

function backfill7d(): { firstFrameMs: number; backfillMs: number; frames: number } {
  // The default epoch (2025-01-01): the backfill replays from each server's last boot, as in production.
  const now = Date.UTC(2026, 0, 14, 12, 0, 0);
  const fleet = new Fleet();
  let t0 = performance.now();
  fleet.frameAt(now);
  const firstFrameMs = performance.now() - t0;
  t0 = performance.now();
  let frames = 0;
  for (const f of fleet.frames(now - 7 * DAY, now, 15_000, { reuse: true }))
    if (f.values.length > 0) frames++;
  return { firstFrameMs, backfillMs: performance.now() - t0, frames };
}

const t20 = benchTick(20, 200);
const t1k = benchTick(1000, 40);
const t10k = benchTick(10_000, 10);
const bf = backfill7d();

const rows: [string, string][] = [
  ['tick p50, 20 servers', `${t20.p50.toFixed(2)} ms (${t20.series} series)`],
  [
    'tick p50, 1,000 servers',
    `${t1k.p50.toFixed(2)} ms (${t1k.series} series, first frame ${t1k.firstMs.toFixed(0)} ms)`,
  ],
  [
    'tick p50, 10,000 servers',
    `${t10k.p50.toFixed(2)} ms (${t10k.series} series, first frame ${t10k.firstMs.toFixed(0)} ms)`,
  ],
  ['first frame, default fleet', `${bf.firstFrameMs.toFixed(0)} ms (replay since last boot)`],
  ['backfill 20 servers × 7 d @ 15 s', `${(bf.backfillMs / 1000).toFixed(2)} s (${bf.frames} frames)`],
];
const width = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
console.log(
  JSON.stringify({
    tick_ms_20: +t20.p50.toFixed(3),
    tick_ms_1000: +t1k.p50.toFixed(3),
    tick_ms_10000: +t10k.p50.toFixed(3),
    first_frame_ms_20: +bf.firstFrameMs.toFixed(1),
    backfill_7d_20_s: +(bf.backfillMs / 1000).toFixed(3),
  }),
);
