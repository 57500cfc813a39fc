/**
 * Admin endpoints are guarded by one bearer token read from a secret file. The comparison is
 * constant-time over SHA-256 digests (equal lengths whatever the guess), and the token is never
 * logged: the logger redacts `authorization` headers and this module never prints it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DsmError } from '@dsm/protocol';
import type { RequestHandler } from 'express';
import { readSecretFile } from './config.js';

export type AdminAuthOptions = ({ tokenFile: string } | { token: string }) & {
  /** What the token guards, for messages and the challenge realm; default the admin API. */
  name?: string;
};

export function adminAuth(options: AdminAuthOptions): RequestHandler {
  const token =
    'tokenFile' in options ? readSecretFile(options.tokenFile, 'admin token file') : options.token;
  if (token === '') throw new Error('adminAuth: the admin token is empty');
  const expected = digest(token);
  const name = options.name ?? 'admin';
  const realm = `Bearer realm="dsm-${name}"`;

  return (req, res, next) => {
    const presented = bearerToken(req.headers.authorization);
    if (presented === undefined) {
      res.setHeader('www-authenticate', realm);
      next(new DsmError('E_UNAUTHORIZED', `${name} endpoint: send "Authorization: Bearer <${name} token>"`));
      return;
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      res.setHeader('www-authenticate', `${realm}, error="invalid_token"`);
      next(new DsmError('E_UNAUTHORIZED', `${name} endpoint: the bearer token is not the ${name} token`));
      return;
    }
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}
