/**
 * Who may change a running node's peer list (`POST /v1/admin/peers`, `DELETE /v1/admin/peers/:peer`): the
 * admin token, or the cluster's storage peer token. The peer token is what the operator can compute for a
 * cluster without reading any Secret (operator/README.md), so scaling storage needs no admin token; every
 * other admin route still takes the admin token only. Both comparisons run on every request, each
 * constant-time over SHA-256 digests, so the answer's timing tells neither token nor which one matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DsmError } from '@dsm/protocol';
import type { RequestHandler } from 'express';

export interface TopologyTokens {
  /** The admin token; undefined when the admin API is disabled (no DSM_ADMIN_TOKEN_FILE). */
  admin?: string;
  /** The storage peer token; undefined when none is configured (development). */
  peer?: string;
}

const REALM = 'Bearer realm="dsm-admin"';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1];
}

/** Whether `presented` is one of `tokens` (every one compared, never short-circuited). */
export function matchesAny(presented: string, tokens: readonly string[]): boolean {
  const seen = digest(presented);
  let match = false;
  for (const token of tokens) match = timingSafeEqual(seen, digest(token)) || match;
  return match;
}

/** The guard of the peer-list routes: the admin token or the peer token, else E_UNAUTHORIZED. */
export function topologyAuth(tokens: TopologyTokens): RequestHandler {
  const accepted = [tokens.admin, tokens.peer].filter((t): t is string => t !== undefined && t !== '');
  return (req, res, next) => {
    if (accepted.length === 0) {
      next(
        new DsmError(
          'E_UNAUTHORIZED',
          'peer changes are disabled: neither an admin token file nor a peer token file is configured',
        ),
      );
      return;
    }
    const presented = bearerToken(req.headers.authorization);
    if (presented === undefined) {
      res.setHeader('www-authenticate', REALM);
      next(
        new DsmError('E_UNAUTHORIZED', 'peer changes: send "Authorization: Bearer <admin or peer token>"'),
      );
      return;
    }
    if (!matchesAny(presented, accepted)) {
      res.setHeader('www-authenticate', `${REALM}, error="invalid_token"`);
      next(
        new DsmError(
          'E_UNAUTHORIZED',
          'peer changes: the bearer token is neither the admin nor the peer token',
        ),
      );
      return;
    }
    next();
  };
}
