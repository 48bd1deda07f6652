/**
 * Retention: how long each tier is kept (raw 7 d, 1m 30 d, 5m 90 d, 1h 1 y by default — the seed's
 * multi-level aggregation) and the cutoffs `applyRetention(now)` enforces. Backends drop whole chunks whose
 * newest sample is older than `now - retention[tier]`, so a tier may keep up to one chunk span more.
 */
import { z } from 'zod';
import type { Retention, Tier } from './storage.js';
import { TsdbError } from './errors.js';

/** DAY_MS is one day in ms. */
const DAY_MS = 86_400_000;

/** DEFAULT_RETENTION is the default: raw 7 d, 1m 30 d, 5m 90 d, 1h 365 d. */
export const DEFAULT_RETENTION: Retention = {
  raw: 7 * DAY_MS,
  '1m': 30 * DAY_MS,
  '5m': 90 * DAY_MS,
  '1h': 365 * DAY_MS,
};

/** TIERS lists every tier, raw first. */
export const TIERS: readonly Tier[] = ['raw', '1m', '5m', '1h'];

/** retentionSchema validates a partial retention override (ms per tier, positive). */
export const retentionSchema = z
  .object({
    raw: z.number().positive(),
    '1m': z.number().positive(),
    '5m': z.number().positive(),
    '1h': z.number().positive(),
  })
  .partial()
  .strict();

/** resolveRetention merges an override into DEFAULT_RETENTION, throwing TSDB_BAD_OPTIONS when invalid. */
export function resolveRetention(override?: Partial<Record<Tier, number>>): Retention {
  const parsed = retentionSchema.safeParse(override ?? {});
  if (!parsed.success) {
    throw new TsdbError(
      'TSDB_BAD_OPTIONS',
      `invalid retention: ${parsed.error.message}; give positive ms per tier`,
    );
  }
  return { ...DEFAULT_RETENTION, ...parsed.data };
}

/** retentionCutoffs returns, per tier, the time before which whole chunks are dropped. */
export function retentionCutoffs(now: number, retention: Retention): Record<Tier, number> {
  return {
    raw: now - retention.raw,
    '1m': now - retention['1m'],
    '5m': now - retention['5m'],
    '1h': now - retention['1h'],
  };
}
