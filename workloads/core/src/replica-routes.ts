/**
 * The HTTP side of several core nodes behind one Service: on the client API, the middleware that sends a
 * request for an identity hosted elsewhere to its owner (and refuses, as the owner check, a relayed one
 * for an identity not hosted here), and the one that sends a keyed creation to the node its key names; on
 * the P2P port, the answers to "who are you" and "do you host X". The decisions are Forwarder's.
 */
import { coreP2pRoutes as P } from '@dsm/api';
import { DsmError, parseId, type CID } from '@dsm/protocol';
import { jsonBody } from '@dsm/runtime';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { CoreNodeInfo } from './core-peers.js';
import type { Forwarder, Outgoing, Relayed } from './forwarding.js';
import type { HostedIdentity } from './hosted.js';
import { FORWARDED_HEADER, NOT_HOSTED_HEADER } from './peers.js';
import { requestKeyOf } from './request-keys.js';

/** What the routes ask of this node's own identities. */
export interface LocalIdentities {
  isHosted(identity: CID): Promise<boolean>;
  hosted(): Promise<HostedIdentity[]>;
}

/** Request headers relayed: who calls (the API token), the retry key, the body's type, the answer wanted. */
const RELAYED_HEADERS = ['authorization', 'idempotency-key', 'content-type', 'accept'];

function outgoing(req: Request, res: Response): Outgoing {
  // The request id the log lines carry (set by the HTTP app), so both nodes' lines tie together.
  const id = res.getHeader('x-request-id');
  const headers: Record<string, string> = typeof id === 'string' ? { 'x-request-id': id } : {};
  for (const name of RELAYED_HEADERS) {
    const value = req.get(name);
    if (value !== undefined) headers[name] = value;
  }
  // The JSON value as parsed (express.json has read the bytes): the same request, which is what the
  // owner's Idempotency-Key fingerprint compares (canonical JSON).
  const body = jsonBody(req);
  return {
    method: req.method,
    path: req.originalUrl,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  };
}

function send(res: Response, relayed: Relayed): void {
  res.status(relayed.status);
  for (const [name, value] of Object.entries(relayed.headers)) res.setHeader(name, value);
  res.end(relayed.body);
}

export interface ForwardingHandlers {
  /** Routes that act as one identity (`:id`), or read what only its node knows (`pending`, `hosted`). */
  identity: RequestHandler;
  /** POST /v1/identities. */
  creation: RequestHandler;
}

export function forwardingHandlers(forwarder: Forwarder, local: LocalIdentities): ForwardingHandlers {
  return {
    async identity(req, res, next) {
      const forwarded = req.get(FORWARDED_HEADER) !== undefined;
      if (!forwarder.enabled && !forwarded) return next();
      const identity = parseId(String(req.params.id), 'id');
      if (await local.isHosted(identity)) return next();
      if (forwarded) {
        // The owner check: a peer said this node hosts it, and it does not. Never relayed further.
        res.setHeader(NOT_HOSTED_HEADER, identity.toString());
        throw new DsmError('E_NOT_FOUND', `identity ${identity.toString()} is not hosted by this node`, {
          identity: identity.toString(),
        });
      }
      const relayed = await forwarder.forIdentity(identity.toString(), outgoing(req, res));
      if (relayed === undefined) return next();
      send(res, relayed);
    },
    async creation(req, res, next) {
      const header = req.get('idempotency-key');
      if (!forwarder.enabled || header === undefined || req.get(FORWARDED_HEADER) !== undefined)
        return next();
      const request = requestKeyOf(header, req.method, req.path, jsonBody(req))!;
      const relayed = await forwarder.forCreation(request.key, outgoing(req, res));
      if (relayed === undefined) return next();
      send(res, relayed);
    },
  };
}

/** The P2P port's answers to other core nodes. */
export function peerRoutes(router: Router, self: CoreNodeInfo, local: LocalIdentities): void {
  router.get(P.node.path, (_req, res) => {
    res.json(self);
  });
  router.get(P.hostedHere.path, async (_req, res) => {
    res.json({ ...self, identities: await local.hosted() });
  });
  router.get(P.hosts.path, async (req, res) => {
    const identity = parseId(String(req.params.id), 'id');
    res.json({ ...self, identity: identity.toString(), hosted: await local.isHosted(identity) });
  });
}
