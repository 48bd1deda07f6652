/**
 * The anomaly analysis as the Analysis page and the Fleet tiles read it, and its pure transitions: the state from
 * `GET /api/analysis`, a hub `ai-analysis` run applied on top, findings in reading order, disk-full and
 * memory-exhaustion ETAs as rows, and the servers anomalous now.
 */
import type { AiAnalysis, AnalysisFinding, AnalysisState, EtaEstimate, ServerScore } from '../api/types';
import { ANOMALY_THRESHOLD } from '../constants';

/** EMPTY_ANALYSIS is the state before the first answer (and what the exporter says before its first run). */
export const EMPTY_ANALYSIS: AnalysisState = {
  generatedAt: null,
  intervalMs: 30_000,
  runs: 0,
  lastRunMs: null,
  fleetAnomalyRate: 0,
  scores: [],
  findings: [],
  rootCauses: [],
  forecasts: [],
};

/** SEVERITY_RANK orders finding severities worst first. */
const SEVERITY_RANK: Record<AnalysisFinding['severity'], number> = { critical: 0, warning: 1, info: 2 };

/** isOpen says whether a finding is still in progress (a finding without a state is a current one). */
export function isOpen(f: AnalysisFinding): boolean {
  return f.state !== 'resolved';
}

/** orderFindings sorts findings for reading: open before resolved, then worst severity, then newest onset. */
export function orderFindings(findings: readonly AnalysisFinding[]): AnalysisFinding[] {
  return [...findings].sort(
    (a, b) =>
      Number(!isOpen(a)) - Number(!isOpen(b)) ||
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      b.window.start - a.window.start
  );
}

/**
 * applyAiAnalysis applies one run from the hub's `ai-analysis` channel. The run carries the open findings and
 * those resolved in the last few minutes: they replace the same ids, and older resolved findings the page already
 * had stay. Scores, the fleet anomaly rate and the root causes are the run's; forecasts are not in the message
 * and stay until the next `GET /api/analysis`. A run older than the state is ignored.
 */
export function applyAiAnalysis(state: AnalysisState, run: AiAnalysis): AnalysisState {
  if (state.generatedAt !== null && run.generatedAt < state.generatedAt) {
    return state;
  }
  const ids = new Set(run.findings.map((f) => f.id));
  const kept = state.findings.filter((f) => !ids.has(f.id));
  return {
    ...state,
    generatedAt: run.generatedAt,
    findings: orderFindings([...run.findings, ...kept]),
    scores: run.scores ?? state.scores,
    fleetAnomalyRate: run.fleetAnomalyRate ?? state.fleetAnomalyRate,
    rootCauses: run.rootCauses ?? state.rootCauses,
  };
}

/** newer picks the more recent of two states (an API answer may be older than a run the hub already sent). */
export function newer(current: AnalysisState, answer: AnalysisState): AnalysisState {
  if (current.generatedAt !== null && (answer.generatedAt === null || answer.generatedAt < current.generatedAt)) {
    return current;
  }
  return { ...answer, findings: orderFindings(answer.findings) };
}

/** EtaResource is what runs out: a filesystem or the memory. */
export type EtaResource = 'disk' | 'memory';

/** EtaRow is one server's estimate of when a resource runs out, as the forecast tables show it. */
export interface EtaRow extends EtaEstimate {
  server: string;
  /** mount is the filesystem that fills first (disk only). */
  mount?: string;
}

/** etaRows lists the servers whose `resource` is growing, the soonest to run out first. */
export function etaRows(state: AnalysisState, resource: EtaResource): EtaRow[] {
  const rows: EtaRow[] = [];
  for (const f of state.forecasts) {
    const eta = f[resource];
    if (eta) {
      rows.push({ server: f.server, ...eta });
    }
  }
  return rows.sort((a, b) => a.seconds - b.seconds || a.server.localeCompare(b.server));
}

/** ServerAnomaly is a server's strongest anomalous signal. */
export interface ServerAnomaly {
  score: number;
  signal: string;
}

/**
 * anomaliesByServer maps each server with a signal at or above ANOMALY_THRESHOLD to its strongest one. Entries
 * whose content did not change keep their identity from `previous`, so memoised Fleet tiles skip re-rendering.
 */
export function anomaliesByServer(
  scores: readonly ServerScore[],
  previous: ReadonlyMap<string, ServerAnomaly> = new Map()
): Map<string, ServerAnomaly> {
  const out = new Map<string, ServerAnomaly>();
  for (const s of scores) {
    if (s.score < ANOMALY_THRESHOLD) {
      continue;
    }
    let signal = '';
    let best = -1;
    for (const [name, v] of Object.entries(s.signals)) {
      if (v > best) {
        best = v;
        signal = name;
      }
    }
    // Two decimals are what the tile shows; finer changes are not worth a re-render.
    const score = Math.round(s.score * 100) / 100;
    const old = previous.get(s.server);
    out.set(s.server, old && old.score === score && old.signal === signal ? old : { score, signal });
  }
  return out;
}
