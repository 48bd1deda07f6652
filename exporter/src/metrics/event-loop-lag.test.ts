import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopLag } from './event-loop-lag.js';

/** block holds the event loop for `ms` (what a long synchronous job does). */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
}

/** spin holds the event loop until the process has used `ms` of CPU time (a loaded host may not give it more). */
function spin(ms: number): void {
  const from = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(from);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

/** nextTimers resolves after every timer already overdue has fired (timers run in due order). */
const nextTimers = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('EventLoopLag', () => {
  const lags: EventLoopLag[] = [];
  afterEach(() => {
    for (const l of lags.splice(0)) l.stop();
  });

  it('records a 120 ms block as lag of at least 100 ms, in the histogram and the max gauge', async () => {
    const registry = new Registry();
    const lag = new EventLoopLag(registry);
    lags.push(lag);
    lag.start();
    block(120);
    await nextTimers();
    expect(lag.max()).toBeGreaterThanOrEqual(100);
    const text = await registry.metrics();
    const max = Number(/^openmanager_exporter_event_loop_lag_max_seconds (\S+)$/m.exec(text)?.[1]);
    expect(max).toBeGreaterThanOrEqual(0.1);
    const le = (b: string): number =>
      Number(
        new RegExp(`^openmanager_exporter_event_loop_lag_seconds_bucket\\{le="${b}"\\} (\\S+)$`, 'm').exec(
          text,
        )?.[1],
      );
    // The block is one observation above 100 ms: counted under 0.25 s but not under 0.1 s.
    expect(le('0.25') - le('0.1')).toBe(1);
  });

  it('tells listeners each lag, since when it was building and the CPU time used meanwhile', async () => {
    const lag = new EventLoopLag(new Registry());
    lags.push(lag);
    const samples: [number, number, number][] = [];
    lag.onSample((lagMs, sinceMs, cpuMs) => samples.push([lagMs, sinceMs, cpuMs]));
    lag.start();
    const before = performance.now();
    spin(80);
    await nextTimers();
    const worst = samples.reduce((a, b) => (b[0] > a[0] ? b : a));
    expect(worst[0]).toBeGreaterThanOrEqual(60);
    expect(worst[1]).toBeLessThanOrEqual(before);
    // A busy loop is the process's own work: it shows as CPU time too (a starved process would not).
    expect(worst[2]).toBeGreaterThanOrEqual(60);
  });

  it('stops sampling on stop(): a block afterwards is not recorded', async () => {
    const lag = new EventLoopLag(new Registry());
    lags.push(lag);
    lag.start();
    lag.stop();
    block(60);
    await nextTimers();
    expect(lag.max()).toBe(0);
  });
});
