/**
 * bench:coverage — the coverage run (src/coverage) of the shipped rules (rules/*.yml) over every scenario
 * kind × intensity (0.4, 0.7, 1) × role, 5 repetitions, on the shipped 20 servers, stretched to at least 7
 * simulated days (BENCH_COVERAGE_DAYS) so false alarms are measured over a whole week. Virtual time only:
 * the wall time is the simulator, the store and the rule manager working as fast as they can.
 *
 * The run cuts the week into two segments evaluated side by side on worker threads (src/coverage/run.ts), so
 * on a machine whose two cores are busy with other work the wall time grows towards the CPU time printed.
 *
 * Output: the report's tables, the wall time and speed-up, then as the last line one JSON object:
 * `simulated_days`, `wall_s`, `speedup_vs_realtime`, `detection_rate`, `false_alarms_per_day`.
 * BENCH_COVERAGE_CPU_PROFILE=<file> writes a V8 CPU profile of the run (open it in Chrome DevTools).
 * BENCH_COVERAGE_OUT=<dir> also writes the JSON and HTML reports there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCoverageTable, renderCoverageHtml, runCoverage } from '../src/coverage/index.js';
import { withCpuProfile } from './cpu-profile.js';

/** DAYS is the least simulated time (the plan's quiet periods are stretched to it). */
const DAYS = Number(process.env.BENCH_COVERAGE_DAYS ?? 7);
const REPETITIONS = Number(process.env.BENCH_COVERAGE_REPEAT ?? 5);
const SERVERS = Number(process.env.BENCH_COVERAGE_SERVERS ?? 20);
/** SEGMENTS: 0 = the run's automatic choice (two for a week). */
const SEGMENTS = Number(process.env.BENCH_COVERAGE_SEGMENTS ?? 0);

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const began = performance.now();
  const cpu0 = process.cpuUsage();
  let last = -1;
  const report = await withCpuProfile(process.env.BENCH_COVERAGE_CPU_PROFILE, () =>
    runCoverage({ minDays: DAYS, repetitions: REPETITIONS, servers: SERVERS, segments: SEGMENTS }, (p) => {
      const pct = Math.floor((100 * p.simulatedMs) / p.totalMs);
      if (pct - last < 10 && pct !== 100) return;
      last = pct;
      console.error(
        `[bench:coverage] ${p.phase} ${pct} % (${((performance.now() - began) / 1000).toFixed(1)} s)`,
      );
    }),
  );
  const wallS = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const out = process.env.BENCH_COVERAGE_OUT;
  if (out) {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'coverage-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(out, 'coverage-report.html'), renderCoverageHtml(report));
  }
  const simulatedS = report.summary.simulatedDays * 86_400;
  console.log(
    `coverage of rules/*.yml: ${report.settings.servers} servers, ${report.summary.scenarios} scenarios ` +
      `(${report.settings.repetitions} × every kind × intensity × role), seed ${report.settings.seed}`,
  );
  console.log('');
  console.log(formatCoverageTable(report));
  console.log('');
  console.log(
    `${report.summary.simulatedDays} simulated days in ${wallS.toFixed(1)} s wall = ` +
      `${Math.round(simulatedS / wallS)}× real time; CPU ${cpuS.toFixed(1)} s over all threads ` +
      `(${report.settings.segments} segments, run side by side on worker threads)`,
  );
  console.log(
    JSON.stringify({
      simulated_days: report.summary.simulatedDays,
      wall_s: round3(wallS),
      speedup_vs_realtime: Math.round(simulatedS / wallS),
      detection_rate: report.summary.detectionRate,
      false_alarms_per_day: report.summary.falseAlarmsPerDay,
    }),
  );
}

await main();
