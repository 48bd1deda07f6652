/** Tests of the spawn helper itself: what tests and tools built on it rely on. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExporterProcess, sampleValue } from './exporter-process.js';

describe('ExporterProcess', () => {
  it('starts on a free port, is ready, parses /metrics, and stops with exit code 0, removing its data dir', async () => {
    const p = await ExporterProcess.start({ apiToken: 'secret', tickSeconds: 15 });
    try {
      expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(p.alive()).toBe(true);
      expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
      const m = await p.metrics();
      expect(sampleValue(m, 'openmanager_exporter_event_loop_lag_max_seconds')).toBeGreaterThanOrEqual(0);
      const inject = await fetch(`${p.url}/api/scenarios`, {
        method: 'POST',
        headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'cpu_spike', server: 'web-01' }),
      });
      expect(inject.status).toBe(201);
      expect(p.stdoutTail()).toMatch(/listening on/);
    } finally {
      expect(await p.stop()).toEqual({ code: 0, signal: null });
    }
    expect(p.alive()).toBe(false);
    expect(p.exitCode).toBe(0);
    expect(existsSync(p.dataDir)).toBe(false);
  }, 60_000);

  it('kills a child whose resident memory exceeds rssLimitMb, and says so', async () => {
    // Any exporter under tsx is well over 40 MB resident.
    await expect(ExporterProcess.start({ rssLimitMb: 40 })).rejects.toThrow(
      /signal SIGKILL\); killed by the test harness: resident memory \d+ MB over the limit of 40 MB/,
    );
  }, 60_000);

  it('rejects with the child output when the exporter exits while starting', async () => {
    await expect(ExporterProcess.start({ args: ['--tick-seconds=-3'] })).rejects.toThrow(
      /exited before listening[\s\S]*TICK_SECONDS \/ --tick-seconds = "-3"/,
    );
  }, 60_000);
});
