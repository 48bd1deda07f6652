import { Counter, Gauge, type Registry } from 'prom-client';
import type { FleetExposition } from '../metrics/fleet-exposition.js';
import type { Fleet } from '../simulator/index.js';
import type { FleetFrame, Scenario } from '../simulator/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** FrameListener receives each tick's frame; the tick waits for it (bounded by the job never overlapping). */
export type FrameListener = (frame: FleetFrame) => Promise<void> | void;

/** ScenarioEvent tells that a scenario started or stopped (by schedule, by API, or by running out). */
export interface ScenarioEvent {
  readonly type: 'started' | 'stopped';
  readonly scenario: Scenario;
  /** at is the simulated time (ms) the change was seen. */
  readonly at: number;
}

/** ScenarioListener receives scenario events; it must not throw (errors are logged and dropped). */
export type ScenarioListener = (event: ScenarioEvent) => void;

/**
 * MAX_CATCH_UP_FRAMES bounds how many missed tick slots one generation run replays (a stalled process or a
 * sleeping laptop): 40 slots = 10 min at 15 s; beyond that the gap stays a gap (logged).
 */
const MAX_CATCH_UP_FRAMES = 40;

/** GenerationLoopParts are what the loop renders from and where it reports. */
export interface GenerationLoopParts {
  readonly fleet: Fleet;
  readonly exposition: FleetExposition;
  /** clock is simulated time: the loop renders every tick slot up to its now(). */
  readonly clock: Clock;
  readonly tickMs: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

/**
 * GenerationLoop owns the frame and scenario state of the generation pipeline: it renders each tick slot the
 * simulated clock has reached (catching up after a stall, at most MAX_CATCH_UP_FRAMES), updates the exposition,
 * hands the frame to the listeners in registration order (a failing one is logged and counted, never stops the
 * others) and turns scenarios that began or ended since the last frame into events.
 */
export class GenerationLoop {
  private readonly frameListeners: { name: string; fn: FrameListener }[] = [];
  private readonly scenarioListeners: ScenarioListener[] = [];
  private knownActive = new Map<string, Scenario>();
  private last: number | undefined;
  private readonly listenerFailures: Counter<'listener'>;
  private readonly lastTick: Gauge;

  constructor(private readonly parts: GenerationLoopParts) {
    this.listenerFailures = new Counter({
      name: 'openmanager_exporter_frame_listener_failures_total',
      help: 'Frame listeners (store ingest, hub…) that threw or rejected, by listener.',
      labelNames: ['listener'],
      registers: [parts.registry],
    });
    this.lastTick = new Gauge({
      name: 'openmanager_exporter_last_frame_timestamp_seconds',
      help: 'Simulated time of the newest frame rendered.',
      registers: [parts.registry],
    });
  }

  /** lastFrameT is the simulated time of the newest frame rendered, or undefined before the first. */
  get lastFrameT(): number | undefined {
    return this.last;
  }

  /** onFrame adds a frame listener; the returned function removes it. */
  onFrame(name: string, fn: FrameListener): () => void {
    const entry = { name, fn };
    this.frameListeners.push(entry);
    this.listenerFailures.inc({ listener: name }, 0);
    return () => remove(this.frameListeners, entry);
  }

  /** onScenario adds a scenario listener; the returned function removes it. */
  onScenario(listener: ScenarioListener): () => void {
    this.scenarioListeners.push(listener);
    return () => remove(this.scenarioListeners, listener);
  }

  /**
   * scenarioChanged records a scenario started or stopped through the API (not by time) so the next frame does
   * not report it again, and emits its event now.
   */
  scenarioChanged(type: ScenarioEvent['type'], scenario: Scenario, at: number): void {
    if (type === 'started') this.knownActive.set(scenario.id, scenario);
    else this.knownActive.delete(scenario.id);
    this.emit({ type, scenario, at });
  }

  /** generate renders every tick slot since the last frame (normally one) and hands each to the listeners. */
  async generate(): Promise<void> {
    const { clock, tickMs, fleet, exposition, logger } = this.parts;
    const slot = Math.floor(clock.now() / tickMs) * tickMs;
    let from = this.last === undefined ? slot : this.last + tickMs;
    if (from > slot) return; // still within the slot already rendered (wall timer ahead of the sim clock)
    if ((slot - from) / tickMs >= MAX_CATCH_UP_FRAMES) {
      logger.warn({ from, to: slot }, 'generation fell behind; skipping the gap');
      from = slot;
    }
    for (let t = from; t <= slot; t += tickMs) {
      const frame = fleet.frameAt(t);
      exposition.update(frame);
      this.last = t;
      this.lastTick.set(t / 1000);
      this.diffScenarios(t);
      await this.publish(frame);
    }
  }

  private emit(event: ScenarioEvent): void {
    for (const l of this.scenarioListeners) {
      try {
        l(event);
      } catch (err) {
        this.parts.logger.error({ err }, 'scenario listener failed');
      }
    }
  }

  /** diffScenarios emits start/stop events for scenarios that began or ended by time since the last frame. */
  private diffScenarios(t: number): void {
    const now = new Map(this.parts.fleet.active(t).map((s) => [s.id, s]));
    for (const [id, s] of now)
      if (!this.knownActive.has(id)) this.emit({ type: 'started', scenario: s, at: t });
    for (const [id, s] of this.knownActive)
      if (!now.has(id)) this.emit({ type: 'stopped', scenario: s, at: t });
    this.knownActive = now;
  }

  private async publish(frame: FleetFrame): Promise<void> {
    for (const { name, fn } of this.frameListeners) {
      try {
        await fn(frame);
      } catch (err) {
        this.listenerFailures.inc({ listener: name });
        this.parts.logger.error({ err, listener: name, t: frame.t }, 'frame listener failed');
      }
    }
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
