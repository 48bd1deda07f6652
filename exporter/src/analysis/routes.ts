/**
 * The analysis' HTTP surface: `GET /api/analysis` (the current state — scores, open and recent findings, root
 * causes, forecasts — serialised once per run, so a request costs a string write) and
 * `GET /api/analysis/annotations?from=&to=` (findings as annotation events, times in Unix ms, Grafana's
 * annotation shape).
 */
import { Router } from 'express';
import type { Analyzer } from './analyzer.js';

/** ANALYSIS_PATH is the analysis state endpoint; ANNOTATIONS_PATH its findings as annotation events. */
export const ANALYSIS_PATH = '/api/analysis';
export const ANNOTATIONS_PATH = '/api/analysis/annotations';

/** BadParam is a query parameter the analysis routes refuse; `badParam` turns it into the catalogue's error. */
export type BadParam = (name: string, reason: string) => Error;

/** analysisRouter serves the analysis endpoints of `analyzer`; `badParam` builds the 400 for a bad parameter. */
export function analysisRouter(analyzer: Analyzer, badParam: BadParam): Router {
  const r = Router();
  r.get(ANALYSIS_PATH, (_req, res) => {
    res.type('application/json').send(analyzer.currentJson());
  });
  r.get(ANNOTATIONS_PATH, (req, res) => {
    const from = msParam(req.query.from, 'from', -Infinity, badParam);
    const to = msParam(req.query.to, 'to', Infinity, badParam);
    res.json(analyzer.annotations(from, to));
  });
  return r;
}

/** msParam reads an optional Unix-ms query parameter. */
function msParam(v: unknown, name: string, def: number, badParam: BadParam): number {
  if (v === undefined || v === '') return def;
  const n = typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw badParam(name, 'must be a time in Unix milliseconds');
  return n;
}
