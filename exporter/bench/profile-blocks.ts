/**
 * Reads a V8 CPU profile (`node --cpu-prof`, the `.cpuprofile` JSON) as a list of event-loop blocks: runs of
 * consecutive samples that are neither `(idle)` nor `(program)` time between tasks, each with the functions
 * that took its time, and the self time per function. bench/loop.bench.ts uses it to say what held the loop,
 * not only for how long.
 */
import { readFileSync } from 'node:fs';

/** CpuProfileNode is one node of the profile's call tree (the fields we read). */
interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

/** CpuProfile is the `.cpuprofile` format: a call tree and, per sample, its leaf node and the time since the last. */
interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  /** startTime is the first sample's time base: µs on the monotonic clock (process.hrtime's). */
  readonly startTime: number;
  readonly samples: readonly number[];
  /** timeDeltas are µs between consecutive samples. */
  readonly timeDeltas: readonly number[];
}

/** FrameShare is one function's share of a block: the time samples had it on their stack. */
export interface FrameShare {
  readonly frame: string;
  readonly ms: number;
}

/** LoopBlock is one stretch the loop was busy, with the functions that were on the stack longest. */
export interface LoopBlock {
  readonly ms: number;
  /** atMs is the block's start, ms since the profile started. */
  readonly atMs: number;
  /** top are the functions with the most inclusive time in the block, most first. */
  readonly top: readonly FrameShare[];
  /** leaves are the functions with the most self time in the block, most first. */
  readonly leaves: readonly FrameShare[];
}

/** IDLE_FRAMES are V8's pseudo-frames for a loop with nothing to run. */
const IDLE_FRAMES = new Set(['(idle)', '(program)']);

/** TOP_FRAMES is how many functions each block lists. */
const TOP_FRAMES = 8;

function frameName(n: CpuProfileNode): string {
  const f = n.callFrame;
  const file = f.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
}

/** ProfileSummary is a profile's busy stretches of at least the asked length and its self time per function. */
export interface ProfileSummary {
  /** blocks are the busy stretches, longest first. */
  readonly blocks: LoopBlock[];
  /** self is every function's self time in [fromMs, toMs], most first. */
  readonly self: readonly FrameShare[];
  /** busyMs is the time in [fromMs, toMs] not idle. */
  readonly busyMs: number;
}

/**
 * readProfile reads a profile file: its busy stretches of at least `minMs` starting in [fromMs, toMs] (ms since
 * the profile started) and the self time per function over that window.
 */
export function readProfile(file: string, minMs: number, fromMs: number, toMs: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (leaf: number): string[] => {
    const out: string[] = [];
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id);
      if (n && n.callFrame.functionName !== '(root)') out.push(frameName(n));
    }
    return out;
  };
  const blocks: LoopBlock[] = [];
  const selfAll = new Map<string, number>();
  let busyUs = 0;
  let t = 0;
  let start = 0;
  let samples: { leaf: number; us: number }[] = [];
  const close = (): void => {
    const us = samples.reduce((s, x) => s + x.us, 0);
    if (us / 1000 >= minMs && start / 1000 >= fromMs && start / 1000 <= toMs) {
      const inclusive = new Map<string, number>();
      const self = new Map<string, number>();
      for (const s of samples) {
        const stack = stackOf(s.leaf);
        for (const f of new Set(stack)) inclusive.set(f, (inclusive.get(f) ?? 0) + s.us);
        const leaf = stack[0];
        if (leaf !== undefined) self.set(leaf, (self.get(leaf) ?? 0) + s.us);
      }
      const top = (m: Map<string, number>): FrameShare[] =>
        [...m]
          .sort((a, b) => b[1] - a[1])
          .slice(0, TOP_FRAMES)
          .map(([frame, v]) => ({ frame, ms: v / 1000 }));
      blocks.push({ ms: us / 1000, atMs: start / 1000, top: top(inclusive), leaves: top(self) });
    }
    samples = [];
  };
  profile.samples.forEach((leaf, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    t += us;
    const node = byId.get(leaf);
    const name = node?.callFrame.functionName ?? '';
    if (IDLE_FRAMES.has(name)) {
      if (samples.length > 0) close();
      return;
    }
    if (node && t / 1000 >= fromMs && t / 1000 <= toMs) {
      busyUs += us;
      const f = frameName(node);
      selfAll.set(f, (selfAll.get(f) ?? 0) + us);
    }
    if (samples.length === 0) start = t;
    samples.push({ leaf, us });
  });
  if (samples.length > 0) close();
  return {
    blocks: blocks.sort((a, b) => b.ms - a.ms),
    self: [...selfAll].sort((a, b) => b[1] - a[1]).map(([frame, us]) => ({ frame, ms: us / 1000 })),
    busyMs: busyUs / 1000,
  };
}

/** TimeWindow is a stretch of the monotonic clock, in µs (process.hrtime's clock, which profiles use). */
export interface TimeWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/**
 * framesIn returns, for each window, the functions that took its time in a profile file: the most inclusive
 * and the most self time, most first (bench/loop.bench.ts --slices --profile: what a job did in its slices).
 */
export function framesIn(
  file: string,
  windows: readonly TimeWindow[],
): { top: FrameShare[]; leaves: FrameShare[] }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const acc = windows.map(() => ({ inclusive: new Map<string, number>(), self: new Map<string, number>() }));
  let t = profile.startTime;
  profile.samples.forEach((leaf, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    t += us;
    windows.forEach((w, k) => {
      const a = acc[k];
      if (a === undefined || t < w.fromUs || t > w.toUs) return;
      const seen = new Set<string>();
      let first = true;
      for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
        const n = byId.get(id);
        if (!n || n.callFrame.functionName === '(root)') continue;
        const f = frameName(n);
        if (first) a.self.set(f, (a.self.get(f) ?? 0) + us);
        first = false;
        if (!seen.has(f)) a.inclusive.set(f, (a.inclusive.get(f) ?? 0) + us);
        seen.add(f);
      }
    });
  });
  const top = (m: Map<string, number>): FrameShare[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_FRAMES)
      .map(([frame, v]) => ({ frame, ms: v / 1000 }));
  return acc.map((a) => ({ top: top(a.inclusive), leaves: top(a.self) }));
}
