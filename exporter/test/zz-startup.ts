// scratch: not committed
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExporterProcess } from './exporter-process.js';
import { pollUntil } from './poll.js';
import { framesIn } from '../bench/profile-blocks.js';
rmSync('/tmp/prof-s', { recursive: true, force: true });
const trace = '/tmp/slices-startup.json';
const p = await ExporterProcess.start({
  entry: 'bundle', backfill: process.argv[2] ?? '1h', tickSeconds: 5, args: ['--servers', '20', '--broadcast-seconds', '1'],
  nodeFlags: ['--import=tsx', `--import=${fileURLToPath(new URL('../bench/slice-tracer.ts', import.meta.url))}`, '--cpu-prof', '--cpu-prof-dir=/tmp/prof-s'],
  env: { OPENMANAGER_SLICE_TRACE: trace },
});
const readyAt = Date.now();
await pollUntil('replayed', () => p.stdoutTail().includes('rules replayed over history'), { timeoutMs: 600_000, intervalMs: 200 });
await new Promise((r) => setTimeout(r, 5000));
await p.stop();
const s = JSON.parse(readFileSync(trace, 'utf8')) as Record<string, number[]>;
const all: { job: string; at: number; ms: number; monoUs: number; cpu: number }[] = [];
for (const [job, q] of Object.entries(s)) for (let i = 0; i < q.length; i += 4) all.push({ job, at: q[i]!, ms: q[i + 1]!, monoUs: q[i + 2]!, cpu: q[i + 3]! });
all.sort((a, b) => b.cpu - a.cpu);
console.log('after ready, slices > 50 ms cpu:', all.filter((a) => a.at > readyAt && a.cpu > 50).map((a) => `${a.job} ${a.cpu.toFixed(0)}@${((a.at - readyAt) / 1000).toFixed(1)}s`).join(', '));
const worstAll = all.filter((a) => a.at > readyAt && a.job === '(none)');
const worst = worstAll.slice(0, 5);
console.log((p.stdoutTail().match(/"ms":\d+[^\n]*rules replayed/) ?? [''])[0].slice(0, 30));
const prof = readdirSync('/tmp/prof-s').find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))!;
const frames = framesIn(`/tmp/prof-s/${prof}`, worst.map((w) => ({ fromUs: w.monoUs, toUs: w.monoUs + w.ms * 1000 })));
worst.forEach((w, k) => {
  console.log(`${w.job} ${w.ms.toFixed(1)} ms (cpu ${w.cpu.toFixed(1)})`);
  for (const f of frames[k]?.top.slice(0, 10) ?? []) console.log('   incl', f.ms.toFixed(1), f.frame);
  for (const f of frames[k]?.leaves.slice(0, 4) ?? []) console.log('   self', f.ms.toFixed(1), f.frame);
});
