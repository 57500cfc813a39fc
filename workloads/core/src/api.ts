/**
 * The client API (port 7545). Handlers parse the request (zod), call Chains or the storage client, answer.
 * Amounts are decimal strings; ids are base32 text; protocol objects are DAG-CBOR or DAG-JSON.
 */
import * as b from '@dsm/api';
import { coreRoutes as R } from '@dsm/api';
import {
  CID,
  DsmError,
  TOKEN_OP_KINDS,
  dagJsonToCbor,
  decodeObject,
  encode,
  conditionsFromJson,
  idOf,
  isDsmError,
  makePolicy,
  parseId,
  validatePolicy,
  type Operation,
} from '@dsm/protocol';
import {
  DAG_CBOR,
  DAG_JSON,
  DEFAULT_RAW_LIMIT,
  KeyedLocks,
  jsonBody,
  parseParams,
  rawBody,
  requestBytes,
  sendObject,
} from '@dsm/runtime';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import type { Answer, Chains, HostedIdentity } from './chains.js';
import { requestKeyOf, type RequestKey } from './request-keys.js';
import { exportSegment } from './export.js';
import type { ForwardingHandlers } from './replica-routes.js';
import type { StorageClient } from './storage-client.js';

/** A request's JSON body, query or params (an absent body reads as `{}`), or 400 naming the field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return parseParams(schema, value ?? {});
}

function id(req: Request, name = 'id'): CID {
  return parseId(String(req.params[name]), name);
}

/** §1 measures an object by its DAG-CBOR bytes; DAG-JSON spells the same object in up to ~4× as many. */
const TRANSPORT_LIMIT = 4 * DEFAULT_RAW_LIMIT;

type KeyedHandler = (req: Request, res: Response, request: RequestKey | undefined) => Promise<void>;

/** Several core nodes (DSM_CORE_PEERS): forwarding to an identity's node, and the hosted list of all. */
export interface Replicas {
  forwarding: ForwardingHandlers;
  hostedIdentities(): Promise<{ identities: HostedIdentity[]; unreachable?: string[] }>;
}

export function coreRoutes(
  router: Router,
  chains: Chains,
  storage: StorageClient,
  custodial: RequestHandler,
  replicas: Replicas,
): void {
  const bytesBody = rawBody({ limit: TRANSPORT_LIMIT });
  const bytesOf = (req: Request) => {
    const body = requestBytes(req);
    return req.is(DAG_JSON)
      ? dagJsonToCbor(body, DEFAULT_RAW_LIMIT)
      : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  };

  // Custodial POSTs honour Idempotency-Key: requests with one key run one at a time, and a retry is
  // answered with what the first one did (see request-keys.ts).
  const keyLocks = new KeyedLocks();
  const keyed =
    (handler: KeyedHandler) =>
    async (req: Request, res: Response): Promise<void> => {
      const path = req.originalUrl.split('?')[0]!;
      const request = requestKeyOf(req.get('idempotency-key'), req.method, path, jsonBody(req));
      if (request === undefined) return handler(req, res, undefined);
      await keyLocks.run(request.key, async () => {
        const replayed = await chains.replay(request);
        if (replayed === undefined) return handler(req, res, request);
        res.setHeader('idempotent-replayed', 'true');
        res.status(replayed.status).json(replayed.body);
      });
    };
  /** Answers that are not one new state are remembered under the key as they were sent. */
  const reply = async (res: Response, request: RequestKey | undefined, status: number, body: unknown) => {
    if (request) await chains.requests.saveResponse(request, { status, body });
    res.status(status).json(body);
  };

  // Acting for a hosted identity spends its tokens: only holders of the API token may.
  for (const route of Object.values(R)) if (route.auth === 'api') router[route.method](route.path, custodial);
  // Then, on a node that does not host the identity, the request goes to the one that does (its keys are
  // only there); identity details too, as `hosted` and `pending` are that node's to tell.
  for (const route of [
    ...Object.values(R).filter((r) => r.auth === 'api' && r.path.includes(':id')),
    R.identity,
  ])
    router[route.method](route.path, replicas.forwarding.identity);
  router.post(R.createIdentity.path, replicas.forwarding.creation);

  // ---- identities
  router.post(
    R.createIdentity.path,
    keyed(async (req, res, request) => {
      const { suite, label } = parse(b.CreateIdentity, jsonBody(req));
      const created: Answer = await chains.createIdentity({ suite, ...(label ? { label } : {}) }, request);
      res.status(201).json(created);
    }),
  );

  router.get(R.identities.path, async (_req, res) => {
    res.json(await replicas.hostedIdentities());
  });

  router.get(R.identity.path, async (req, res) => {
    const identity = id(req);
    const genesis = await chains.world.genesis(identity);
    if (genesis === undefined)
      throw new DsmError('E_NOT_FOUND', `identity ${identity.toString()} not found`, {
        identity: identity.toString(),
      });
    const head = await chains.head(identity);
    const forks = await storage.forks(identity);
    res.json({
      identity: identity.toString(),
      suite: genesis.suite,
      ...(genesis.label ? { label: genesis.label } : {}),
      hosted: await chains.isHosted(identity),
      n: head?.state.n ?? null,
      stateId: head?.stateId.toString() ?? null,
      balances: head?.state.balances ?? {},
      forked: forks.forked,
      pending: (await chains.pendingState(identity)) ?? null,
    });
  });

  router.get(R.balances.path, async (req, res) => {
    const identity = id(req);
    const head = await chains.head(identity);
    if (!head)
      throw new DsmError('E_NOT_FOUND', `no chain for ${identity.toString()}`, {
        identity: identity.toString(),
      });
    res.json({ identity: identity.toString(), n: head.state.n, balances: head.state.balances });
  });

  /** 404 for an identity nobody has heard of, like GET /v1/identities/:id. */
  const known = async (req: Request): Promise<CID> => {
    const identity = id(req);
    if ((await chains.world.genesis(identity)) === undefined) {
      throw new DsmError('E_NOT_FOUND', `identity ${identity.toString()} not found`, {
        identity: identity.toString(),
      });
    }
    return identity;
  };

  router.get(R.chain.path, async (req, res) => {
    const identity = await known(req);
    const q = parse(b.params.chain, req.query);
    res.json({ identity: identity.toString(), states: await storage.chain(identity, q.from, q.limit) });
  });

  router.get(R.state.path, async (req, res) => {
    const identity = id(req);
    const { n } = parse(b.params.height, req.params);
    const bytes = await storage.stateAt(identity, n);
    if (!bytes)
      throw new DsmError('E_NOT_FOUND', `state ${n} of ${identity.toString()} not found`, {
        identity: identity.toString(),
      });
    sendObject(req, res, bytes);
  });

  router.get(R.inbox.path, async (req, res) => {
    const identity = await known(req);
    res.json({
      identity: identity.toString(),
      entries: await storage.inbox(identity, parse(b.params.coreInbox, req.query).pending),
    });
  });

  router.get(R.forks.path, async (req, res) => {
    const identity = await known(req);
    res.json({ identity: identity.toString(), ...(await storage.forks(identity)) });
  });

  router.get(R.export.path, async (req, res) => {
    const identity = id(req);
    const q = parse(b.params.export, req.query);
    res.type(DAG_CBOR).send(Buffer.from(await exportSegment(storage, chains.world, identity, q.from)));
  });

  // ---- operations of hosted identities
  router.post(
    R.createToken.path,
    keyed(async (req, res, request) => {
      const identity = id(req);
      const body = parse(b.CreateToken, jsonBody(req));
      const result = await chains.createToken(
        identity,
        {
          symbol: body.symbol,
          name: body.name,
          decimals: body.decimals,
          initialSupply: BigInt(body.initialSupply),
          conditions: conditionsFromJson(body.policy.conditions),
          ...(body.policy.description !== undefined ? { description: body.policy.description } : {}),
          ...(body.nonce !== undefined ? { nonce: new Uint8Array(Buffer.from(body.nonce, 'hex')) } : {}),
        },
        request,
      );
      res.status(result.resumed ? 200 : 201).json(result);
    }),
  );

  const simple = (kind: 'token.mint' | 'token.burn') =>
    keyed(async (req, res, request) => {
      const identity = id(req);
      const body = parse(b.AmountOp, jsonBody(req));
      const token = parseId(body.token, 'token');
      res
        .status(201)
        .json(
          await chains.act(identity, async () => ({ op: { kind, token, amount: body.amount } }), request),
        );
    });
  router.post(R.mint.path, simple('token.mint'));
  router.post(R.burn.path, simple('token.burn'));

  router.post(
    R.transfer.path,
    keyed(async (req, res, request) => {
      const identity = id(req);
      const body = parse(b.Transfer, jsonBody(req));
      const op: Operation = {
        kind: 'token.transfer',
        token: parseId(body.token, 'token'),
        amount: body.amount,
        to: parseId(body.to, 'to'),
        ...(body.memo !== undefined ? { memo: body.memo } : {}),
      };
      res.status(201).json(await chains.act(identity, async () => ({ op }), request));
    }),
  );

  const locking = (kind: 'token.lock' | 'token.unlock') =>
    keyed(async (req, res, request) => {
      const identity = id(req);
      const body = parse(b.Lock, jsonBody(req));
      const op: Operation = {
        kind,
        token: parseId(body.token, 'token'),
        amount: body.amount,
        purpose: body.purpose,
      };
      res.status(201).json(await chains.act(identity, async () => ({ op }), request));
    });
  router.post(R.lock.path, locking('token.lock'));
  router.post(R.unlock.path, locking('token.unlock'));

  router.post(
    R.receive.path,
    keyed(async (req, res, request) => {
      const identity = id(req);
      const { transfer } = parse(b.Receive, jsonBody(req));
      if (transfer !== undefined) {
        const result = await chains.receive(identity, parseId(transfer, 'transfer'), request);
        if (result.alreadyReceived) await reply(res, request, 200, result);
        else res.status(201).json(result);
        return;
      }
      // No transfer named: receive everything pending for this identity; a refused one is reported, not fatal.
      const pending = await storage.inbox(identity, true);
      const received = [];
      const failed = [];
      for (const entry of pending) {
        try {
          received.push(await chains.receive(identity, CID.parse(entry.transfer)));
        } catch (e) {
          if (!isDsmError(e) || e.code === 'E_UNAVAILABLE') throw e;
          failed.push({ transfer: entry.transfer, error: e.toJSON() });
        }
      }
      await reply(res, request, 200, { identity: identity.toString(), received, failed });
    }),
  );

  // ---- client-signed states and their objects
  router.post(R.submitState.path, bytesBody, async (req, res) => {
    // 200 when nothing new was accepted (the state was already there), as storage answers.
    const result = await chains.submit(bytesOf(req));
    res.status(result.resumed ? 200 : 201).json(result);
  });

  router.post(R.putObject.path, bytesBody, async (req, res) => {
    const bytes = bytesOf(req);
    const object = decodeObject(bytes);
    if (object.type === 'dsm/signed-state@1')
      throw new DsmError('E_BAD_REQUEST', 'signed states go to POST /v1/states', { field: 'type' });
    // Policies are content like any other: an invalid one is stored too, so that a token bound to it is
    // refused with E_POLICY where §4 places that check (§10), the same answer storage gives.
    const ack = await storage.put(encode(object));
    res.status(ack.stored ? 201 : 200).json(ack);
  });

  // ---- tokens and policies
  router.get(R.token.path, async (req, res) => {
    const token = id(req);
    const definition = await chains.world.tokenDefinition(token);
    if (!definition)
      throw new DsmError('E_NOT_FOUND', `token ${token.toString()} not found`, { token: token.toString() });
    const record = await storage.token(token);
    res.json({
      token: token.toString(),
      issuer: definition.issuer.toString(),
      symbol: definition.symbol,
      name: definition.name,
      decimals: definition.decimals,
      initialSupply: definition.initialSupply,
      policy: definition.policy.toString(),
      created: record?.created ?? false,
      supply: record?.supply ?? null,
    });
  });

  router.get(R.policy.path, async (req, res) => {
    const anchor = id(req);
    const policy = await chains.world.policy(anchor);
    if (!policy)
      throw new DsmError('E_NOT_FOUND', `policy ${anchor.toString()} not found`, {
        policy: anchor.toString(),
      });
    sendObject(req, res, encode(policy));
  });

  router.post(R.validatePolicy.path, async (req, res) => {
    const body = parse(b.ValidatePolicy, jsonBody(req));
    const author = body.author ? parseId(body.author, 'author') : idOf({ anonymous: true });
    const policy = makePolicy(author, conditionsFromJson(body.conditions), body.description);
    const valid = validatePolicy(policy);
    res.json({
      valid: true,
      anchor: idOf(policy).toString(),
      conditions: valid.conditions.map((c) => c.kind),
    });
  });

  router.get(R.operations.path, (_req, res) => {
    res.json({ operations: TOKEN_OP_KINDS });
  });
}
