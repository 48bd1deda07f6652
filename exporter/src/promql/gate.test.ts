import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { QueryGate, createGateMetrics } from './gate.js';

describe('QueryGate', () => {
  it('runs at most maxConcurrent at once and hands slots over in arrival order', async () => {
    const registry = new Registry();
    const gate = new QueryGate(2, 10, createGateMetrics(registry));
    const far = performance.now() + 60_000;
    const a = await gate.acquire(far);
    const b = await gate.acquire(far);
    const order: string[] = [];
    const c = gate.acquire(far).then((release) => (order.push('c'), release));
    const d = gate.acquire(far).then((release) => (order.push('d'), release));
    expect(gate.stats()).toEqual({ running: 2, queued: 2 });
    b();
    b(); // releasing twice frees one slot only
    (await c)();
    a();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    expect(gate.stats()).toEqual({ running: 0, queued: 0 });
    const text = await registry.metrics();
    expect(text).toMatch(/^openmanager_exporter_query_queued_total 2$/m);
    expect(text).toMatch(/^openmanager_exporter_query_queue_wait_seconds_count 4$/m);
  });

  it('refuses at once with unavailable when the queue is full', async () => {
    const registry = new Registry();
    const gate = new QueryGate(1, 1, createGateMetrics(registry));
    const far = performance.now() + 60_000;
    const release = await gate.acquire(far);
    const waiting = gate.acquire(far);
    await expect(gate.acquire(far)).rejects.toMatchObject({ errorType: 'unavailable' });
    release();
    (await waiting)();
    expect(await registry.metrics()).toMatch(
      /^openmanager_exporter_query_rejected_total\{reason="queue_full"\} 1$/m,
    );
  });

  it('fails a waiting query with timeout at its deadline and drops it from the queue', async () => {
    const gate = new QueryGate(1, 10);
    const release = await gate.acquire(performance.now() + 60_000);
    await expect(gate.acquire(performance.now() + 5)).rejects.toMatchObject({ errorType: 'timeout' });
    expect(gate.stats()).toEqual({ running: 1, queued: 0 });
    release();
    expect(gate.stats()).toEqual({ running: 0, queued: 0 });
  });
});
