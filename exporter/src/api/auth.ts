/**
 * Bearer-token guard for mutating endpoints. With no token configured they are refused (never open), and the
 * refusal says how to configure one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ERR_FORBIDDEN, ERR_MUTATIONS_DISABLED, ERR_UNAUTHORIZED } from '../errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** requireToken returns a middleware that lets a request through only with `Authorization: Bearer <token>`. */
export function requireToken(token: string | undefined): RequestHandler {
  const want = token === undefined ? undefined : digest(token);
  return (req, res, next) => {
    if (want === undefined) return next(ERR_MUTATIONS_DISABLED());
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="openmanager"');
      return next(ERR_UNAUTHORIZED());
    }
    // Comparing fixed-length digests keeps the comparison constant-time whatever the token length.
    if (!timingSafeEqual(digest(m[1]), want)) return next(ERR_FORBIDDEN());
    next();
  };
}
