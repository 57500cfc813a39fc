/**
 * Every route of every DSM service, once: method, path, who may call it, what it takes and what it
 * answers. Servers register their handlers on these paths, clients build their calls from them, and the
 * OpenAPI documents are generated from them (a test fails when a committed document is stale).
 */
import { booleanParam, intParam, u64Param } from '@dsm/runtime/params';
import { z } from 'zod';
import * as b from './bodies.js';

/** A body that is a protocol object: DAG-CBOR, or DAG-JSON converted to DAG-CBOR before any check. */
export const DAG = 'dag';
/** A DAG-CBOR document that is not one protocol object (chain exports, replication pages). */
export const CBOR = 'cbor';
/** A CAR v1 archive (`application/vnd.ipld.car`), streamed: a storage node's backup. */
export const CAR = 'car';

export interface Route {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express form: `/v1/identities/:id`. */
  path: string;
  summary: string;
  /** Bearer token required: the core's API token (custodial), the admin token, the storage peer token. */
  auth?: 'api' | 'admin' | 'peer';
  /** Takes an `Idempotency-Key` header (custodial writes). */
  idempotencyKey?: true;
  query?: z.ZodObject;
  body?: z.ZodType | typeof DAG | typeof CBOR | typeof CAR;
  /** Success statuses and what they carry. */
  responses: Record<number, z.ZodType | typeof DAG | typeof CBOR | typeof CAR | null>;
}

const route = (r: Route): Route => r;

const limit = (fallback: number) => intParam({ min: 1, max: 10_000 }).default(fallback);

/** The admin API, the same on every service (port 8765). For a core node, its peers are its storage nodes. */
export const adminRoutes = {
  config: route({
    method: 'get',
    path: '/v1/admin/config',
    summary: 'the settings that can change at run time',
    auth: 'admin',
    responses: { 200: b.ConfigValues },
  }),
  setConfig: route({
    method: 'put',
    path: '/v1/admin/config',
    summary: 'change run-time settings (persisted in the config volume)',
    auth: 'admin',
    body: b.ConfigValues,
    responses: { 200: b.ConfigValues },
  }),
  peers: route({
    method: 'get',
    path: '/v1/admin/peers',
    summary: 'peers and whether they answer',
    auth: 'admin',
    responses: { 200: b.Peers },
  }),
  addPeer: route({
    method: 'post',
    path: '/v1/admin/peers',
    summary: 'add a peer (host:port), persisted',
    auth: 'admin',
    body: b.AddPeer,
    responses: { 201: b.PeerChange, 200: b.PeerChange },
  }),
  removePeer: route({
    method: 'delete',
    path: '/v1/admin/peers/:peer',
    summary: 'remove a peer, persisted',
    auth: 'admin',
    responses: { 200: b.PeerChange },
  }),
} as const;

/** The core node's and the bridge's backup: their whole database as one consistent snapshot file. */
export const snapshotRoutes = {
  snapshot: route({
    method: 'get',
    path: '/v1/admin/snapshot',
    summary:
      "every entry of this service's database (keystore still encrypted) as one consistent snapshot file (CAR, manifest first)",
    auth: 'admin',
    responses: { 200: CAR },
  }),
} as const;

/** Every service's own status and probes. */
export const commonRoutes = {
  status: route({
    method: 'get',
    path: '/v1/status',
    summary: 'service status (what `dsm status` shows)',
    responses: { 200: b.Status },
  }),
  openapi: route({
    method: 'get',
    path: '/openapi.json',
    summary: 'this document',
    responses: { 200: z.looseObject({ openapi: z.string() }) },
  }),
} as const;

/** Query and path parameters, typed (servers parse with these; the route tables refer to them). */
export const params = {
  chain: z.object({ from: intParam().default(0), limit: limit(100) }),
  coreInbox: z.object({ pending: booleanParam().default(false) }),
  export: z.object({ from: intParam().default(0) }),
  height: z.object({ n: intParam() }),
  object: z.object({ evidence: booleanParam().default(false) }),
  states: z.object({ from: intParam().default(0), limit: limit(1000) }),
  storageInbox: z.object({ pending: booleanParam().default(false), limit: limit(1000) }),
  log: z.object({ after: u64Param().default(0n), limit: limit(1000) }),
  bucket: z.object({ bucket: intParam({ max: 255 }) }),
  bridgeList: z.object({ limit: limit(100) }),
};

/** The core node's client API (port 7545). */
export const coreRoutes = {
  createIdentity: route({
    method: 'post',
    path: '/v1/identities',
    summary: 'create a hosted identity (keys kept by the core, encrypted at rest)',
    auth: 'api',
    idempotencyKey: true,
    body: b.CreateIdentity,
    responses: { 201: b.Accepted },
  }),
  identities: route({
    method: 'get',
    path: '/v1/identities',
    summary: 'identities hosted here',
    responses: { 200: b.HostedIdentities },
  }),
  identity: route({
    method: 'get',
    path: '/v1/identities/:id',
    summary: 'an identity: head, balances, forked, pending',
    responses: { 200: b.IdentityDetails },
  }),
  balances: route({
    method: 'get',
    path: '/v1/identities/:id/balances',
    summary: 'balances at the head',
    responses: { 200: b.IdentityBalances },
  }),
  chain: route({
    method: 'get',
    path: '/v1/identities/:id/chain',
    summary: 'accepted state ids from height `from`',
    query: params.chain,
    responses: { 200: b.ChainPage },
  }),
  state: route({
    method: 'get',
    path: '/v1/identities/:id/states/:n',
    summary: 'the signed state at height n',
    responses: { 200: DAG },
  }),
  inbox: route({
    method: 'get',
    path: '/v1/identities/:id/inbox',
    summary: 'transfers addressed to the identity, oldest first',
    query: params.coreInbox,
    responses: { 200: b.Inbox },
  }),
  forks: route({
    method: 'get',
    path: '/v1/identities/:id/forks',
    summary: 'fork evidence of the identity',
    responses: { 200: b.Forks },
  }),
  export: route({
    method: 'get',
    path: '/v1/identities/:id/export',
    summary: 'the chain as a dsm/chain-export@1 bundle, to verify offline',
    query: params.export,
    responses: { 200: CBOR },
  }),
  createToken: route({
    method: 'post',
    path: '/v1/identities/:id/tokens',
    summary: 'create a token under a CTPA policy (the policy is stored and anchored)',
    auth: 'api',
    idempotencyKey: true,
    body: b.CreateToken,
    responses: { 201: b.Accepted, 200: b.Accepted },
  }),
  mint: route({
    method: 'post',
    path: '/v1/identities/:id/mint',
    summary: 'issue new units (issuer)',
    auth: 'api',
    idempotencyKey: true,
    body: b.AmountOp,
    responses: { 201: b.Accepted },
  }),
  burn: route({
    method: 'post',
    path: '/v1/identities/:id/burn',
    summary: 'destroy units',
    auth: 'api',
    idempotencyKey: true,
    body: b.AmountOp,
    responses: { 201: b.Accepted },
  }),
  transfer: route({
    method: 'post',
    path: '/v1/identities/:id/transfer',
    summary: 'send units; the recipient receives them from its inbox',
    auth: 'api',
    idempotencyKey: true,
    body: b.Transfer,
    responses: { 201: b.Accepted },
  }),
  lock: route({
    method: 'post',
    path: '/v1/identities/:id/lock',
    summary: 'move available units to locked',
    auth: 'api',
    idempotencyKey: true,
    body: b.Lock,
    responses: { 201: b.Accepted },
  }),
  unlock: route({
    method: 'post',
    path: '/v1/identities/:id/unlock',
    summary: 'move locked units back to available',
    auth: 'api',
    idempotencyKey: true,
    body: b.Lock,
    responses: { 201: b.Accepted },
  }),
  receive: route({
    method: 'post',
    path: '/v1/identities/:id/receive',
    summary: 'receive one transfer (201 new, 200 already received), or everything pending ({})',
    auth: 'api',
    idempotencyKey: true,
    body: b.Receive,
    responses: { 201: b.Accepted, 200: z.union([b.Accepted, b.ReceivedAll]) },
  }),
  submitState: route({
    method: 'post',
    path: '/v1/states',
    summary: 'a state signed by a client that keeps its own keys (201 new, 200 already accepted)',
    body: DAG,
    responses: { 201: b.Accepted, 200: b.Accepted },
  }),
  putObject: route({
    method: 'post',
    path: '/v1/objects',
    summary: 'a genesis, token definition or policy (201 stored, 200 already there)',
    body: DAG,
    responses: { 201: b.WriteAck, 200: b.WriteAck },
  }),
  token: route({
    method: 'get',
    path: '/v1/tokens/:id',
    summary: 'a token definition and its supply',
    responses: { 200: b.TokenInfo },
  }),
  policy: route({
    method: 'get',
    path: '/v1/policies/:id',
    summary: 'a policy document by its anchor',
    responses: { 200: DAG },
  }),
  validatePolicy: route({
    method: 'post',
    path: '/v1/policies/validate',
    summary: 'check a policy and compute its anchor, storing nothing',
    body: b.ValidatePolicy,
    responses: { 200: b.PolicyCheck },
  }),
  operations: route({
    method: 'get',
    path: '/v1/operations',
    summary: 'the operation kinds',
    responses: { 200: b.Operations },
  }),
} as const;

/** The core node's node-to-node port (8765), besides the admin API. */
export const coreP2pRoutes = {
  inboxNotification: route({
    method: 'post',
    path: '/v1/notifications/inbox',
    summary:
      'a storage node says transfers arrived for these recipients (a hint of whose inbox to read; none named: every inbox)',
    body: b.InboxNotification,
    responses: { 202: z.object({ accepted: z.boolean() }) },
  }),
  // Several core nodes behind one Service (DSM_CORE_PEERS): how one finds the node that hosts an identity.
  // No token: the same facts are public on the client API (GET /v1/identities, `hosted`).
  node: route({
    method: 'get',
    path: '/v1/node',
    summary: "this core node's id and client API port",
    responses: { 200: b.CoreNodeInfo },
  }),
  hostedHere: route({
    method: 'get',
    path: '/v1/hosted',
    summary: 'the identities this core node itself hosts',
    responses: { 200: b.CoreHostedList },
  }),
  hosts: route({
    method: 'get',
    path: '/v1/hosted/:id',
    summary: 'whether this core node itself hosts an identity',
    responses: { 200: b.CoreHosts },
  }),
} as const;

/** A storage node's API (port 8765). */
export const storageRoutes = {
  putObject: route({
    method: 'post',
    path: '/v1/objects',
    summary: 'store a genesis, token, policy or signed state; answered once R nodes hold it on disk',
    body: DAG,
    responses: { 201: b.WriteAck, 200: b.WriteAck },
  }),
  putObjects: route({
    method: 'post',
    path: '/v1/objects/batch',
    summary:
      'store many objects in order (DAG-CBOR list of object bytes): one durable write, one replication round, a result per object',
    body: CBOR,
    responses: { 200: b.WriteResults },
  }),
  object: route({
    method: 'get',
    path: '/v1/objects/:id',
    summary: "an object's bytes; ?evidence=true also finds fork candidates",
    query: params.object,
    responses: { 200: DAG },
  }),
  head: route({
    method: 'get',
    path: '/v1/identities/:id/head',
    summary: 'the highest accepted state of an identity',
    responses: { 200: b.Head },
  }),
  states: route({
    method: 'get',
    path: '/v1/identities/:id/states',
    summary: 'accepted state ids from height `from`',
    query: params.states,
    responses: { 200: b.ChainPage },
  }),
  state: route({
    method: 'get',
    path: '/v1/identities/:id/states/:n',
    summary: 'the signed state at height n',
    responses: { 200: DAG },
  }),
  inbox: route({
    method: 'get',
    path: '/v1/identities/:id/inbox',
    summary: 'transfers addressed to the identity, oldest first',
    query: params.storageInbox,
    responses: { 200: b.Inbox },
  }),
  transfer: route({
    method: 'get',
    path: '/v1/transfers/:id',
    summary: 'one transfer with its recipient and whether it was received',
    responses: { 200: b.TransferEntry },
  }),
  forks: route({
    method: 'get',
    path: '/v1/identities/:id/forks',
    summary: 'fork evidence of an identity',
    responses: { 200: b.Forks },
  }),
  forked: route({
    method: 'get',
    path: '/v1/forks',
    summary: 'every forked identity',
    responses: { 200: b.ForkedIdentities },
  }),
  token: route({
    method: 'get',
    path: '/v1/tokens/:id',
    summary: 'whether a token was created, and its supply',
    responses: { 200: b.TokenRecord },
  }),
  push: route({
    method: 'post',
    path: '/v1/replica/objects',
    summary: 'peer push: the same verification as a client write',
    auth: 'peer',
    body: DAG,
    responses: { 204: null },
  }),
  pushMany: route({
    method: 'post',
    path: '/v1/replica/objects/batch',
    summary: 'peer push of many objects in order (DAG-CBOR list): a result per object',
    auth: 'peer',
    body: CBOR,
    responses: { 200: b.PushResults },
  }),
  log: route({
    method: 'get',
    path: '/v1/replication/log',
    summary: 'log entries after a sequence number, as DAG-CBOR {nodeId, last, entries}',
    auth: 'peer',
    query: params.log,
    responses: { 200: CBOR },
  }),
  digest: route({
    method: 'get',
    path: '/v1/replication/digest',
    summary: 'set digest: 256 buckets of count and XOR of ids',
    auth: 'peer',
    responses: { 200: z.looseObject({ count: z.number(), fingerprint: z.string() }) },
  }),
  bucket: route({
    method: 'get',
    path: '/v1/replication/buckets/:bucket',
    summary: 'the ids of one digest bucket',
    auth: 'peer',
    responses: { 200: z.array(b.IdText) },
  }),
  sync: route({
    method: 'post',
    path: '/v1/admin/sync',
    summary: 'pull from every peer now',
    auth: 'admin',
    responses: { 200: b.Status },
  }),
  backup: route({
    method: 'get',
    path: '/v1/admin/backup',
    summary:
      'a consistent snapshot of every object, with heads, supplies and fork evidence, as a CAR archive (manifest first)',
    auth: 'admin',
    responses: { 200: CAR },
  }),
  restore: route({
    method: 'post',
    path: '/v1/admin/restore',
    summary:
      'load a backup archive into this empty node, verifying every object; refused whole or loaded whole',
    auth: 'admin',
    body: CAR,
    responses: { 200: b.RestoreReport },
  }),
} as const;

/** The bridge's API (port 8768), besides status, metrics and the admin API. */
export const bridgeRoutes = {
  deposits: route({
    method: 'get',
    path: '/v1/deposits',
    summary: 'DSM → EVM deposits, newest first',
    query: params.bridgeList,
    responses: { 200: b.Deposits },
  }),
  deposit: route({
    method: 'get',
    path: '/v1/deposits/:ref',
    summary: 'deposits by DSM transfer id or by mint transaction hash',
    responses: { 200: b.Deposits },
  }),
  withdrawals: route({
    method: 'get',
    path: '/v1/withdrawals',
    summary: 'EVM → DSM withdrawals, newest first',
    query: params.bridgeList,
    responses: { 200: b.Withdrawals },
  }),
  withdrawal: route({
    method: 'get',
    path: '/v1/withdrawals/:ref',
    summary: 'withdrawals by burn transaction hash, `<txHash>:<logIndex>` or DSM release state id',
    responses: { 200: b.Withdrawals },
  }),
  tokens: route({
    method: 'get',
    path: '/v1/tokens',
    summary: 'DSM tokens with a wrapped ERC-20 on the EVM chain',
    responses: { 200: b.BridgeTokens },
  }),
  deployToken: route({
    method: 'post',
    path: '/v1/admin/tokens',
    summary: "deploy a DSM token's wrapped ERC-20 (200 when it already exists)",
    auth: 'admin',
    body: b.DeployToken,
    responses: { 201: b.DeployedToken, 200: b.DeployedToken },
  }),
  resume: route({
    method: 'post',
    path: '/v1/admin/resume',
    summary: 'clear a halt after a deep reorganisation was looked into; scanning resumes on the new chain',
    auth: 'admin',
    responses: { 200: b.BridgeStatus },
  }),
} as const;

/** `path` with its `:params` filled in (each encoded). */
export function pathOf(route: Pick<Route, 'path'>, params: Record<string, string | number> = {}): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`pathOf(${route.path}): no value for :${name}`);
    return encodeURIComponent(String(value));
  });
}
