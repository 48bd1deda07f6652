/**
 * The coverage report as one self-contained HTML page (inline CSS and SVG, no script, no external asset):
 * the summary, a scenario kind × rule matrix (how often each rule fired for each kind), one timeline per kind
 * (every scenario as a bar from its start, the alerts that fired on its servers drawn on it), and the tables;
 * each missed scenario with a small chart of its key signal over its window (the series that should have fired).
 */
import type { CoverageReport, CoverageScenario } from '../contract/coverage.js';

/** alertColour gives the i-th alert name a hue 137.5° (the golden angle) from the previous one: distinct for dozens. */
function alertColour(i: number): string {
  return `hsl(${Math.round((i * 137.508) % 360)} 70% 42%)`;
}

/** esc escapes text for HTML element content and attribute values. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const pct = (v: number): string => `${Math.round(v * 100)} %`;
const secs = (v: number | null): string => (v === null ? '–' : `${Math.round(v)} s`);

/** signalSvg draws a missed scenario's key signal: one line per series, the scenario's window shaded. */
function signalSvg(x: CoverageScenario, graceMs: number): string {
  const sig = x.signal;
  if (!sig || sig.series.length === 0) return '–';
  const w = 260;
  const h = 46;
  const pad = 3;
  const steps = Math.max(...sig.series.map((r) => r.values.length));
  const span = Math.max(1, (steps - 1) * sig.stepMs);
  const all = sig.series.flatMap((r) => r.values.filter((v): v is number => v !== null));
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const xAt = (t: number): number =>
    pad + (Math.min(Math.max(t - sig.start, 0), span) / span) * (w - 2 * pad);
  const yAt = (v: number): number =>
    h - pad - (hi > lo ? ((v - lo) / (hi - lo)) * (h - 2 * pad) : (h - 2 * pad) / 2);
  const parts = [
    `<rect x="${xAt(x.start)}" y="0" width="${xAt(x.end) - xAt(x.start)}" height="${h}" fill="#f6d5cc"><title>scenario</title></rect>`,
    `<rect x="${xAt(x.end)}" y="0" width="${xAt(x.end + graceMs) - xAt(x.end)}" height="${h}" fill="#fbeee9"><title>grace</title></rect>`,
  ];
  sig.series.forEach((r, i) => {
    let d = '';
    let pen = 'M';
    r.values.forEach((v, k) => {
      if (v === null) {
        pen = 'M';
        return;
      }
      d += `${pen}${xAt(sig.start + k * sig.stepMs).toFixed(1)} ${yAt(v).toFixed(1)}`;
      pen = 'L';
    });
    parts.push(
      `<path d="${d}" fill="none" stroke="${alertColour(i)}" stroke-width="1.5"><title>${esc(r.name)}</title></path>`,
    );
  });
  const range = `${esc(sig.legend)} ${+lo.toPrecision(3)}–${+hi.toPrecision(3)}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${esc(sig.expr)}"><title>${esc(sig.expr)}</title>${parts.join('')}</svg><br><small>${range}</small>`;
}

/** matrixSvg draws kinds (rows) × rules that fired at least once (columns), shaded by share of scenarios. */
function matrixSvg(report: CoverageReport): string {
  const rules = report.rules.filter((r) => Object.values(r.caught).some((n) => n > 0));
  const kinds = report.kinds.filter((k) => k.scenarios > 0);
  const cell = 34;
  const left = 170;
  const top = 150;
  const width = left + (rules.length + 1) * cell + 20;
  const height = top + kinds.length * cell + 20;
  const parts: string[] = [];
  rules.forEach((r, j) => {
    const x = left + j * cell + cell / 2;
    parts.push(
      `<text x="${x}" y="${top - 8}" transform="rotate(-55 ${x} ${top - 8})" class="lbl">${esc(r.alertname)}</text>`,
    );
  });
  const dx = left + rules.length * cell + cell / 2;
  parts.push(
    `<text x="${dx}" y="${top - 8}" transform="rotate(-55 ${dx} ${top - 8})" class="lbl b">detected</text>`,
  );
  kinds.forEach((k, i) => {
    const y = top + i * cell;
    parts.push(
      `<text x="${left - 8}" y="${y + cell / 2 + 4}" text-anchor="end" class="lbl">${esc(k.kind)}</text>`,
    );
    const cells = [...rules.map((r) => (r.caught[k.kind] ?? 0) / k.scenarios), k.detectionRate];
    cells.forEach((share, j) => {
      const x = left + j * cell;
      const isTotal = j === rules.length;
      const fill =
        share === 0
          ? '#f4f4f4'
          : isTotal
            ? `rgba(0,114,178,${0.15 + 0.85 * share})`
            : `rgba(0,158,115,${0.15 + 0.85 * share})`;
      const name = isTotal ? 'detected' : (rules[j]?.alertname ?? '');
      parts.push(
        `<rect x="${x + 1}" y="${y + 1}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"><title>${esc(`${k.kind} × ${name}: ${pct(share)} of ${k.scenarios} scenarios`)}</title></rect>`,
      );
      if (share > 0)
        parts.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" class="v${share > 0.6 ? ' w' : ''}">${Math.round(share * 100)}</text>`,
        );
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="scenario kind by rule matrix">${parts.join('')}</svg>`;
}

/** timelineSvg draws one kind's scenarios as bars from their start, with the firings on their servers. */
function timelineSvg(report: CoverageReport, kind: string, colour: ReadonlyMap<string, string>): string {
  const scenarios = report.scenarios
    .filter((s) => s.kind === kind)
    .sort(
      (a, b) =>
        a.intensity - b.intensity || (a.role < b.role ? -1 : a.role > b.role ? 1 : 0) || a.start - b.start,
    );
  if (scenarios.length === 0) return '';
  const grace = report.settings.graceMs;
  const spanMs = Math.max(...scenarios.map((s) => s.end - s.start)) + grace;
  const left = 150;
  const plotW = 640;
  const row = 12;
  const top = 18;
  const height = top + scenarios.length * row + 30;
  const x = (ms: number): number => left + (Math.min(Math.max(ms, 0), spanMs) / spanMs) * plotW;
  const parts: string[] = [];
  const affectedBy = (s: CoverageScenario): Set<string> => new Set([s.server, ...s.dependents]);
  scenarios.forEach((s, i) => {
    const y = top + i * row;
    parts.push(
      `<text x="${left - 6}" y="${y + row - 3}" text-anchor="end" class="sm">${esc(`${s.role} ${s.intensity} ${s.server}`)}</text>`,
    );
    parts.push(
      `<rect x="${left}" y="${y + 2}" width="${x(s.end - s.start) - left}" height="${row - 4}" fill="${s.detected ? '#dfe8f0' : '#f6d5cc'}"><title>${esc(`${s.id} ${s.server} ${new Date(s.start).toISOString()} – ${new Date(s.end).toISOString()}${s.detected ? `, first alert after ${secs(s.timeToFireS)}` : ', missed'}`)}</title></rect>`,
    );
    const servers = affectedBy(s);
    for (const f of report.firings) {
      if (!servers.has(f.server) || f.start < s.start || f.start > s.end + grace) continue;
      const x0 = x(f.start - s.start);
      const x1 = Math.max(x0 + 2, x(f.end - s.start));
      parts.push(
        `<rect x="${x0}" y="${y + 4}" width="${x1 - x0}" height="${row - 8}" fill="${colour.get(f.alertname) ?? '#888'}" opacity="${f.server === s.server ? 0.9 : 0.45}"><title>${esc(`${f.alertname} on ${f.server}: ${Math.round((f.start - s.start) / 1000)} s after the start`)}</title></rect>`,
      );
    }
  });
  const axisY = top + scenarios.length * row + 4;
  const tickMin = Math.max(1, Math.ceil(spanMs / 60_000 / 8));
  for (let m = 0; m * 60_000 <= spanMs; m += tickMin) {
    const tx = x(m * 60_000);
    parts.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${axisY}" class="grid"/>`);
    parts.push(`<text x="${tx}" y="${axisY + 12}" text-anchor="middle" class="sm">${m} min</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + plotW + 20}" height="${height + 6}" role="img" aria-label="${esc(kind)} timeline">${parts.join('')}</svg>`;
}

/** renderCoverageHtml renders the whole report page. */
export function renderCoverageHtml(report: CoverageReport): string {
  const s = report.summary;
  const names = [...new Set(report.firings.map((f) => f.alertname))].sort();
  const colour = new Map(names.map((n, i) => [n, alertColour(i)]));
  const legend = names
    .map((n) => `<span class="key"><i style="background:${colour.get(n) ?? '#888'}"></i>${esc(n)}</span>`)
    .join(' ');
  const kindRows = report.kinds
    .map(
      (k) =>
        `<tr><td>${esc(k.kind)}</td><td>${k.scenarios}</td><td>${k.detected}</td><td>${k.misses}</td><td>${pct(k.detectionRate)}</td><td>${secs(k.timeToFireS.median)}</td><td>${secs(k.timeToFireS.p90)}</td><td>${secs(k.timeToFireS.max)}</td><td class="l">${esc(
          Object.entries(k.alerts)
            .map(([n, c]) => `${n}×${c}`)
            .join(', '),
        )}${
          Object.keys(k.dependentAlerts).length > 0
            ? `<br><small>dependents: ${esc(
                Object.entries(k.dependentAlerts)
                  .map(([n, c]) => `${n}×${c}`)
                  .join(', '),
              )}</small>`
            : ''
        }</td></tr>`,
    )
    .join('');
  const ruleRows = report.rules
    .map(
      (r) =>
        `<tr><td>${esc(r.alertname)}</td><td>${r.trueFires}</td><td>${r.falseAlarms}</td><td>${r.flaps}</td><td class="l">${esc(r.neverCaught.length === report.settings.kinds.length ? 'every kind' : r.neverCaught.join(', ') || '–')}</td></tr>`,
    )
    .join('');
  const misses = report.scenarios
    .filter((x) => !x.detected)
    .map(
      (x) =>
        `<tr><td>${esc(x.kind)}</td><td>${esc(x.server)}</td><td>${esc(x.role)}</td><td>${x.intensity}</td><td>${esc(new Date(x.start).toISOString())}</td><td>${Math.round((x.end - x.start) / 1000)} s</td><td class="l">${signalSvg(x, report.settings.graceMs)}</td></tr>`,
    )
    .join('');
  const timelines = report.kinds
    .filter((k) => k.scenarios > 0)
    .map(
      (k) =>
        `<h3>${esc(k.kind)} <small>${k.detected}/${k.scenarios} detected</small></h3>${timelineSvg(report, k.kind, colour)}`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Alert coverage report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}td.l{white-space:normal}
td.l,th.l,td:first-child,th:first-child{text-align:left}.lbl{font-size:12px}.b{font-weight:bold}
.v{font-size:11px;fill:#222}.w{fill:#fff}.sm{font-size:10px;fill:#444}.grid{stroke:#ccc;stroke-width:.5}
.key{display:inline-block;margin-right:12px;font-size:12px}.key i{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>Alert coverage report</h1>
<p><b>Detection ${pct(s.detectionRate)}</b> (${s.detected} of ${s.scenarios} scenarios)${s.kindsMissed.length > 0 ? `; kinds never detected: <b>${esc(s.kindsMissed.join(', '))}</b>` : ''}; <b>${s.falseAlarmsPerDay}</b> false alarms per day (${s.falseAlarms} over ${s.scoredDays} scored days).</p>
<p><small>${report.settings.servers} servers, seed ${report.settings.seed}, ${report.settings.repetitions} repetitions of every kind × intensity (${report.settings.intensities.join(', ')}) × role; ${s.simulatedDays} simulated days from ${esc(new Date(report.settings.start).toISOString())}; rules: ${esc(report.settings.rules.join(', '))}.</small></p>
<h2>Scenario kind × rule</h2>
<p><small>Share of each kind's scenarios (in %) for which the rule fired on an affected server within the scenario and ${Math.round(report.settings.graceMs / 60_000)} min after it.</small></p>
${matrixSvg(report)}
<h2>Per kind</h2>
<table><tr><th>kind</th><th>runs</th><th>detected</th><th>missed</th><th>rate</th><th>time to fire p50</th><th>p90</th><th>max</th><th class="l">alerts fired (scenarios)</th></tr>${kindRows}</table>
<h2>Per rule</h2>
<table><tr><th>rule</th><th>true fires</th><th>false alarms</th><th>flaps</th><th class="l">kinds never caught</th></tr>${ruleRows}</table>
<h2>Timelines</h2>
<p><small>One bar per scenario from its start (blue: detected, red: missed), sorted by intensity and role; coloured marks are alerts firing on its server (faint: on a dependent).</small></p>
<p>${legend}</p>
${timelines}
<h2>Misses</h2>
${misses ? `<table><tr><th>kind</th><th>server</th><th>role</th><th>intensity</th><th>start</th><th>duration</th><th class="l">key signal (scenario shaded)</th></tr>${misses}</table>` : '<p>None.</p>'}
</body></html>
`;
}
