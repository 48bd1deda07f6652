/**
 * Bearer-token guard for mutating endpoints. With no token configured they are refused (never open), and the
 * refusal says how to configure one. The digest/compare pair below is shared with the other token checks
 * (the remote-write receiver), so every token in the exporter is compared the same constant-time way.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ERR_FORBIDDEN, ERR_MUTATIONS_DISABLED, ERR_UNAUTHORIZED } from '../errors.js';

/** tokenDigest is the sha256 digest tokenMatches compares against; compute it once per configured token. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * tokenMatches says whether `candidate` is the token whose digest is `want`. Comparing fixed-length digests
 * with timingSafeEqual keeps the comparison constant-time whatever the candidate's length or content.
 */
export function tokenMatches(candidate: string, want: Buffer): boolean {
  return timingSafeEqual(tokenDigest(candidate), want);
}

/** requireToken returns a middleware that lets a request through only with `Authorization: Bearer <token>`. */
export function requireToken(token: string | undefined): RequestHandler {
  const want = token === undefined ? undefined : tokenDigest(token);
  return (req, res, next) => {
    if (want === undefined) return next(ERR_MUTATIONS_DISABLED());
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="openmanager"');
      return next(ERR_UNAUTHORIZED());
    }
    if (!tokenMatches(m[1], want)) return next(ERR_FORBIDDEN());
    next();
  };
}
