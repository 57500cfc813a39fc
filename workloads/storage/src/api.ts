/**
 * The storage node's HTTP API (port 8765): client reads and writes, replication between peers, status,
 * and the admin API. Handlers only parse, call the directory or the replicator, and answer.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { adminRoutes, commonRoutes, decodeObjectList, params, storageRoutes as R } from '@dsm/api';
import { performance } from 'node:perf_hooks';
import type { CID } from '@dsm/protocol';
import { DsmError, dagJsonToCbor, isDsmError, parseId } from '@dsm/protocol';
import { DAG_CBOR, DAG_JSON, errorBody, parseParams, rawBody, requestBytes, sendObject } from '@dsm/runtime';
import type { Request, RequestHandler, Router } from 'express';
import type { Directory, ForkEvidence, InboxEntry, IngestResult } from './directory.js';
import { LIMITS } from './limits.js';
import type { StorageMetrics } from './metrics.js';
import { PEER_HEADER } from './peer-client.js';
import type { PeerSet } from './peers.js';
import type { Replicator } from './replicator.js';

export interface ApiContext {
  directory: Directory;
  replicator: Replicator;
  peers: PeerSet;
  metrics: StorageMetrics;
  maxObjectBytes: number;
  status: () => Record<string, unknown>;
  /** Bearer-token guard for /v1/admin. */
  admin: RequestHandler;
  /** Guard for the replication routes: the peer token when one is configured, else open. */
  peer: RequestHandler;
  /** Guard for adding and removing peers: the admin token or the peer token (topology-auth.ts). */
  topology: RequestHandler;
  adminRoutes: (router: Router) => void;
}

/** Object bytes from a DAG-CBOR or DAG-JSON body; DAG-JSON is re-encoded (§1 Wire). */
function objectBytes(req: Request, max: number): Uint8Array {
  const body = requestBytes(req);
  return req.is(DAG_JSON)
    ? dagJsonToCbor(body, max)
    : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

function idParam(req: Request, name = 'id'): CID {
  return parseId(String(req.params[name]), name);
}

const notFound = (what: string, details: Record<string, string>) =>
  new DsmError('E_NOT_FOUND', `${what} not found`, details);

const inboxJson = (e: InboxEntry) => ({
  transfer: e.transfer.toString(),
  seq: Number(e.seq),
  from: e.from.toString(),
  token: e.token.toString(),
  amount: e.amount,
  ...(e.memo !== undefined ? { memo: e.memo } : {}),
  received: e.receivedBy !== undefined,
  ...(e.receivedBy ? { receivedBy: e.receivedBy.toString() } : {}),
});

const evidenceJson = (e: ForkEvidence) => ({
  identity: e.identity.toString(),
  n: e.n,
  existing: e.existing.toString(),
  candidate: e.candidate.toString(),
});

export function storageRoutes(router: Router, ctx: ApiContext): void {
  const { directory, replicator, metrics } = ctx;
  const body = rawBody({ limit: ctx.maxObjectBytes * 4 });
  const batchBody = rawBody({ limit: LIMITS.batchBytes, types: [DAG_CBOR] });

  // Who may call what is each route's `auth` in the table, exactly as the OpenAPI document says; the
  // peer-list changes also take the peer token (the operator's way in, topology-auth.ts).
  const guards = { peer: ctx.peer, admin: ctx.admin };
  const topology: ReadonlySet<object> = new Set([adminRoutes.addPeer, adminRoutes.removePeer]);
  for (const route of [...Object.values(R), ...Object.values(adminRoutes)]) {
    if (topology.has(route)) router[route.method](route.path, ctx.topology);
    else if (route.auth === 'peer' || route.auth === 'admin')
      router[route.method](route.path, guards[route.auth]);
  }

  // ---- client writes and reads
  router.post(R.putObject.path, body, async (req, res) => {
    const started = performance.now();
    let bytes: Uint8Array;
    let result;
    try {
      bytes = objectBytes(req, ctx.maxObjectBytes);
      result = await directory.ingest(bytes);
    } catch (e) {
      countRejection(metrics, e);
      throw e;
    }
    let replicas: string[];
    try {
      replicas = await replicator.replicate(bytes, result);
    } catch (e) {
      countUnreplicated(metrics, e);
      throw e;
    }
    countAck(metrics, result.stored, started);
    res.status(result.stored ? 201 : 200).json(writeAck(result, replicas));
  });

  // Many objects in one request: ingested in order as one durable write, replicated in one round, and
  // answered with a result per object (what a single write of it would have answered).
  router.post(R.putObjects.path, batchBody, async (req, res) => {
    const started = performance.now();
    const list = decodeObjectList(requestBytes(req), LIMITS.batchObjects);
    const results = await directory.ingestMany(list);
    const written = results.flatMap((r, i) =>
      r instanceof DsmError ? [] : [{ bytes: list[i]!, result: r }],
    );
    const replicas = await replicator.replicateMany(written);
    let next = 0;
    const answers = results.map((result) => {
      if (result instanceof DsmError) {
        countRejection(metrics, result);
        return errorBody(result);
      }
      const holders = replicas[next++]!;
      if (holders instanceof DsmError) {
        countUnreplicated(metrics, holders);
        return errorBody(holders);
      }
      countAck(metrics, result.stored, started);
      return writeAck(result, holders);
    });
    res.json({ results: answers });
  });

  router.get(R.object.path, async (req, res) => {
    const id = idParam(req);
    const { evidence } = parseParams(params.object, req.query);
    const bytes = evidence ? await directory.anyBytes(id) : await directory.get(id);
    if (bytes === null) throw notFound('object', { id: id.toString() });
    sendObject(req, res, bytes);
  });

  router.get(R.head.path, async (req, res) => {
    const identity = idParam(req);
    const head = await directory.head(identity);
    if (head === null) throw notFound('chain', { identity: identity.toString() });
    res.json({
      identity: identity.toString(),
      n: head.n,
      stateId: head.stateId.toString(),
      forked: await directory.world.isForked(identity),
    });
  });

  router.get(R.states.path, async (req, res) => {
    const identity = idParam(req);
    const { from, limit } = parseParams(params.states, req.query);
    const states = await directory.chain(identity, from, limit);
    res.json({
      identity: identity.toString(),
      states: states.map((s) => ({ n: s.n, stateId: s.stateId.toString() })),
    });
  });

  router.get(R.state.path, async (req, res) => {
    const identity = idParam(req);
    const { n } = parseParams(params.height, req.params);
    const id = await directory.stateIdAt(identity, n);
    const bytes = id && (await directory.get(id));
    if (!bytes) throw notFound('state', { identity: identity.toString(), n: String(n) });
    sendObject(req, res, bytes);
  });

  router.get(R.transfer.path, async (req, res) => {
    const id = idParam(req);
    const entry = await directory.transfer(id);
    if (!entry) throw notFound('transfer', { transfer: id.toString() });
    const { seq: _seq, ...rest } = inboxJson(entry);
    res.json({ ...rest, to: entry.to.toString() });
  });

  router.get(R.inbox.path, async (req, res) => {
    const identity = idParam(req);
    const { limit, pending } = parseParams(params.storageInbox, req.query);
    const entries = await directory.inbox(identity, { pendingOnly: pending, limit });
    res.json({ identity: identity.toString(), entries: entries.map(inboxJson) });
  });

  router.get(R.forks.path, async (req, res) => {
    const identity = idParam(req);
    const evidence = await directory.forks(identity);
    res.json({
      identity: identity.toString(),
      forked: await directory.world.isForked(identity),
      evidence: evidence.map(evidenceJson),
    });
  });

  router.get(R.forked.path, (_req, res) => {
    res.json({ identities: directory.forkedIdentities().map(String) });
  });

  router.get(R.token.path, async (req, res) => {
    const token = idParam(req);
    const creation = await directory.creation(token);
    const definition = await directory.world.tokenDefinition(token);
    if (definition === undefined) throw notFound('token', { token: token.toString() });
    res.json({
      token: token.toString(),
      created: creation !== undefined,
      ...(creation ? { creation: creation.toString() } : {}),
      supply: (await directory.supply(token)) ?? null,
    });
  });

  router.get(commonRoutes.status.path, (_req, res) => {
    res.json(ctx.status());
  });

  // ---- replication between storage nodes
  router.post(R.push.path, body, async (req, res) => {
    const from = req.get(PEER_HEADER)?.toLowerCase();
    try {
      await replicator.ingestFromPeer(objectBytes(req, ctx.maxObjectBytes), from);
    } catch (e) {
      countRejection(metrics, e);
      throw e;
    }
    res.status(204).end();
  });

  router.post(R.pushMany.path, batchBody, async (req, res) => {
    const from = req.get(PEER_HEADER)?.toLowerCase();
    const list = decodeObjectList(requestBytes(req), LIMITS.batchObjects);
    const results = await replicator.ingestManyFromPeer(list, from);
    res.json({
      results: results.map((result) => {
        if (!(result instanceof DsmError)) return { held: true };
        countRejection(metrics, result);
        return errorBody(result);
      }),
    });
  });

  router.get(R.log.path, async (req, res) => {
    const { after, limit } = parseParams(params.log, req.query);
    const entries = await directory.log(after, limit, LIMITS.logPageBytes);
    res.type(DAG_CBOR).send(
      Buffer.from(
        dagCbor.encode({
          nodeId: String(ctx.status().nodeId),
          last: directory.lastSeq,
          entries: entries.map((e) => ({ seq: e.seq, kind: e.kind, bytes: e.bytes })),
        }),
      ),
    );
  });

  router.get(R.digest.path, (_req, res) => {
    res.json(directory.digestSummary());
  });

  router.get(R.bucket.path, async (req, res) => {
    const { bucket } = parseParams(params.bucket, req.params);
    res.json((await directory.bucket(bucket)).map(String));
  });

  // ---- admin
  ctx.adminRoutes(router);
}

function writeAck(result: IngestResult, replicas: string[]) {
  return {
    id: result.id.toString(),
    type: result.type,
    stored: result.stored,
    replicas,
    ...(result.identity ? { identity: result.identity.toString(), n: result.n } : {}),
  };
}

/** A write stored here that did not reach `replicationFactor` nodes (or met a fork on a peer). */
function countUnreplicated(metrics: StorageMetrics, e: unknown): void {
  metrics.writes.inc({ result: isDsmError(e, 'E_FORK') ? 'fork' : 'unavailable' });
}

/** An acknowledged write: its outcome and the time from the request to its acknowledgement. */
function countAck(metrics: StorageMetrics, stored: boolean, started: number): void {
  metrics.writes.inc({ result: stored ? 'stored' : 'duplicate' });
  metrics.ackSeconds.observe((performance.now() - started) / 1000);
}

function countRejection(metrics: StorageMetrics, e: unknown): void {
  const code = isDsmError(e) ? e.code : 'E_INTERNAL';
  metrics.rejections.inc({ code });
  metrics.writes.inc({ result: code === 'E_FORK' ? 'fork' : 'rejected' });
}
