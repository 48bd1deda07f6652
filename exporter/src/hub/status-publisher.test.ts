import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../util/clock.js';
import { createHub, type Hub } from './hub.js';
import type { SystemStatus } from '../contract/hub-protocol.js';
import { StatusPublisher } from './status-publisher.js';

const hubs: Hub[] = [];
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.close();
});

function status(overrides: {
  uptime: number;
  ws?: number;
  failures?: number;
  lastRunAt?: number;
}): SystemStatus {
  return {
    exporter: { version: '0.1.0', startedAt: 1000, uptimeSeconds: overrides.uptime, nodeVersion: 'v20' },
    storage: { backend: 'embedded', ok: true, series: 10 },
    scheduler: {
      jobs: [
        {
          name: 'generation',
          intervalMs: 15_000,
          running: false,
          runs: overrides.uptime,
          failures: overrides.failures ?? 0,
          lastRunAt: overrides.lastRunAt ?? null,
          lastDurationMs: 3,
          lastError: null,
        },
      ],
    },
    connections: { ws: overrides.ws ?? 0, sse: 0, total: overrides.ws ?? 0, limit: 1000 },
  };
}

describe('StatusPublisher', () => {
  it('publishes on the first tick, on a meaningful change, and every refresh interval — not on uptime alone', () => {
    const hub = createHub({ logger: pino({ level: 'silent' }), registry: new Registry() });
    hubs.push(hub);
    const clock = new ManualClock(0);
    let current = status({ uptime: 0 });
    const pub = new StatusPublisher(hub, { collect: () => current, clock, refreshMs: 30_000 });
    const steps: [number, SystemStatus, boolean][] = [
      [0, status({ uptime: 0 }), true],
      [5_000, status({ uptime: 5, lastRunAt: 4000 }), false], // only volatile fields moved
      [10_000, status({ uptime: 10, ws: 1 }), true], // a client connected
      [15_000, status({ uptime: 15, ws: 1, failures: 1 }), true], // a job failed
      [40_000, status({ uptime: 40, ws: 1, failures: 1 }), false],
      [45_000, status({ uptime: 45, ws: 1, failures: 1 }), true], // 30 s since the last publication
    ];
    for (const [t, s, expected] of steps) {
      clock.set(t);
      current = s;
      expect(pub.tick(), `tick at ${t}`).toBe(expected);
    }
    expect(hub.lastMessage('system-status')).toMatchObject({
      timestamp: 45_000,
      data: { exporter: { uptimeSeconds: 45 } },
    });
  });
});
