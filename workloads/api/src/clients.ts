/**
 * Typed clients of the DSM APIs, built from the route tables on `@dsm/runtime`'s HttpClient (deadlines,
 * retries where harmless, every failure a DsmError). Answers are checked against their schema: a service
 * that breaks its contract is an E_INTERNAL error naming the field, not a surprise further on.
 */
import { DsmError } from '@dsm/protocol';
import type { HttpClient, RequestOptions } from '@dsm/runtime/client';
import type { z } from 'zod';
import { CAR_MEDIA_TYPE } from './backup.js';
import * as b from './bodies.js';
import { encodeObjectList } from './object-list.js';
import {
  adminRoutes,
  bridgeRoutes,
  CBOR,
  commonRoutes,
  coreRoutes,
  DAG,
  pathOf,
  storageRoutes,
  type Route,
} from './routes.js';

export interface CallArgs {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body, or the bytes of a protocol object (DAG-CBOR). */
  json?: unknown;
  bytes?: Uint8Array;
  /** Sent as `Idempotency-Key` (routes that take one); reused on every retry of this call. */
  key?: string;
  /** Per-call transport options (deadline, retries, headers). */
  options?: Pick<RequestOptions, 'timeoutMs' | 'retries' | 'headers' | 'idempotent' | 'signal'>;
}

/** Calls `route` and returns its answer, checked against the schema of the status it came with. */
export async function call<T = unknown>(http: HttpClient, route: Route, args: CallArgs = {}): Promise<T> {
  const raw = Object.values(route.responses).some((r) => r === DAG || r === CBOR);
  const response = await http.request<unknown>(route.method, pathOf(route, args.params), {
    ...args.options,
    ...(args.query ? { query: args.query } : {}),
    ...(args.json !== undefined ? { json: args.json } : {}),
    ...(args.bytes !== undefined ? { bytes: args.bytes } : {}),
    ...(args.key !== undefined ? { idempotencyKey: args.key } : {}),
    ...(raw ? { responseType: 'bytes' as const } : {}),
  });
  const schema = route.responses[response.status];
  if (schema === undefined || schema === null || schema === DAG || schema === CBOR) return response.body as T;
  const parsed = (schema as z.ZodType).safeParse(response.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(body)';
    throw new DsmError(
      'E_INTERNAL',
      `${route.method.toUpperCase()} ${route.path}: unexpected answer at ${field}: ${issue?.message ?? 'invalid'}`,
      {
        status: response.status,
        field,
      },
    );
  }
  return parsed.data as T;
}

export type Balance = z.output<typeof b.Balance>;
export type Accepted = z.output<typeof b.Accepted>;
export type ReceivedAll = z.output<typeof b.ReceivedAll>;
export type HostedIdentity = z.output<typeof b.HostedIdentity>;
export type IdentityDetails = z.output<typeof b.IdentityDetails>;
export type InboxEntry = z.output<typeof b.InboxEntry>;
export type TransferEntry = z.output<typeof b.TransferEntry>;
export type TokenInfo = z.output<typeof b.TokenInfo>;
export type TokenRecord = z.output<typeof b.TokenRecord>;
export type ChainPage = z.output<typeof b.ChainPage>;
export type Forks = z.output<typeof b.Forks>;
export type WriteAck = z.output<typeof b.WriteAck>;
/** One object's outcome in a batch write. */
export type WriteResult = z.output<typeof b.WriteResults>['results'][number];
export type Head = z.output<typeof b.Head>;
export type RestoreReport = z.output<typeof b.RestoreReport>;
export type Peer = z.output<typeof b.Peer>;
export type PeerChange = z.output<typeof b.PeerChange>;
export type Status = z.output<typeof b.Status>;
export type Deposit = z.output<typeof b.Deposit>;
export type Withdrawal = z.output<typeof b.Withdrawal>;
export type BridgeStatus = z.output<typeof b.BridgeStatus>;
export type BridgeToken = z.output<typeof b.BridgeToken>;
export type DeployedToken = z.output<typeof b.DeployedToken>;
export type CreateTokenBody = z.input<typeof b.CreateToken>;

type AmountOperation = 'mint' | 'burn' | 'transfer' | 'lock' | 'unlock';

/** The core node's client API. */
export class CoreApi {
  constructor(readonly http: HttpClient) {}

  createIdentity(
    body: z.input<typeof b.CreateIdentity>,
    key?: string,
  ): Promise<Accepted & { suite: string; label?: string }> {
    return call(this.http, coreRoutes.createIdentity, { json: body, ...(key ? { key } : {}) });
  }
  async identities(): Promise<HostedIdentity[]> {
    return (await call<z.output<typeof b.HostedIdentities>>(this.http, coreRoutes.identities)).identities;
  }
  identity(id: string): Promise<IdentityDetails> {
    return call(this.http, coreRoutes.identity, { params: { id } });
  }
  balances(id: string): Promise<z.output<typeof b.IdentityBalances>> {
    return call(this.http, coreRoutes.balances, { params: { id } });
  }
  /** The signed state at height `n` of an identity's chain, as DAG-CBOR. */
  state(id: string, n: number): Promise<Uint8Array> {
    return call(this.http, coreRoutes.state, { params: { id, n } });
  }
  inbox(id: string, pending: boolean): Promise<z.output<typeof b.Inbox>> {
    return call(this.http, coreRoutes.inbox, { params: { id }, query: { pending: pending || undefined } });
  }
  chain(id: string, from: number, limit: number): Promise<ChainPage> {
    return call(this.http, coreRoutes.chain, { params: { id }, query: { from, limit } });
  }
  exportChain(id: string, from: number): Promise<Uint8Array> {
    return call(this.http, coreRoutes.export, { params: { id }, query: { from } });
  }
  createToken(
    id: string,
    spec: CreateTokenBody,
    key?: string,
  ): Promise<Accepted & { token: string; policy: string }> {
    return call(this.http, coreRoutes.createToken, { params: { id }, json: spec, ...(key ? { key } : {}) });
  }
  operate(id: string, op: AmountOperation, body: Record<string, string>, key?: string): Promise<Accepted> {
    return call(this.http, coreRoutes[op], { params: { id }, json: body, ...(key ? { key } : {}) });
  }
  receive(id: string, transfer?: string, key?: string): Promise<Accepted | ReceivedAll> {
    return call(this.http, coreRoutes.receive, {
      params: { id },
      json: transfer !== undefined ? { transfer } : {},
      ...(key ? { key } : {}),
    });
  }
  token(id: string): Promise<TokenInfo> {
    return call(this.http, coreRoutes.token, { params: { id } });
  }
  /** The policy object in DAG-JSON text (links as {"/": id}, bytes as {"/": {"bytes": base64}}). */
  policy(anchor: string): Promise<string> {
    return this.http.get(pathOf(coreRoutes.policy, { id: anchor }), {
      responseType: 'text',
      headers: { accept: 'application/vnd.ipld.dag-json' },
    });
  }
  submitState(bytes: Uint8Array): Promise<Accepted> {
    return call(this.http, coreRoutes.submitState, { bytes });
  }
  putObject(bytes: Uint8Array): Promise<WriteAck> {
    return call(this.http, coreRoutes.putObject, { bytes });
  }
}

/** One storage node's API, as the core (and tools) call it. */
export class StorageApi {
  constructor(readonly http: HttpClient) {}

  /** Idempotent: the same bytes may be sent again after any failure. */
  putObject(bytes: Uint8Array): Promise<WriteAck> {
    return call(this.http, storageRoutes.putObject, { bytes, options: { idempotent: true } });
  }
  /**
   * Many objects in one request (stored in order, one durable write, one replication round): a result per
   * object, in order. Idempotent like single writes.
   */
  putObjects(list: readonly Uint8Array[]): Promise<{ results: WriteResult[] }> {
    return call(this.http, storageRoutes.putObjects, {
      bytes: encodeObjectList(list),
      options: { idempotent: true },
    });
  }
  object(id: string, options: { evidence?: boolean; retries?: number } = {}): Promise<Uint8Array> {
    return call(this.http, storageRoutes.object, {
      params: { id },
      ...(options.evidence ? { query: { evidence: true } } : {}),
      ...(options.retries !== undefined ? { options: { retries: options.retries } } : {}),
    });
  }
  head(identity: string, options: { retries?: number } = {}): Promise<Head> {
    return call(this.http, storageRoutes.head, {
      params: { id: identity },
      ...(options.retries !== undefined ? { options: { retries: options.retries } } : {}),
    });
  }
  states(identity: string, from: number, limit: number): Promise<ChainPage> {
    return call(this.http, storageRoutes.states, { params: { id: identity }, query: { from, limit } });
  }
  state(identity: string, n: number): Promise<Uint8Array> {
    return call(this.http, storageRoutes.state, { params: { id: identity, n } });
  }
  inbox(identity: string, pending: boolean): Promise<z.output<typeof b.Inbox>> {
    return call(this.http, storageRoutes.inbox, { params: { id: identity }, query: { pending } });
  }
  transfer(id: string): Promise<TransferEntry> {
    return call(this.http, storageRoutes.transfer, { params: { id } });
  }
  token(id: string): Promise<TokenRecord> {
    return call(this.http, storageRoutes.token, { params: { id } });
  }
  forks(identity: string, options: { retries?: number } = {}): Promise<Forks> {
    return call(this.http, storageRoutes.forks, {
      params: { id: identity },
      ...(options.retries !== undefined ? { options: { retries: options.retries } } : {}),
    });
  }
  status(options: { timeoutMs?: number; retries?: number } = {}): Promise<Status> {
    return call(this.http, commonRoutes.status, { options });
  }
  /**
   * A backup archive of the node (admin token), as a stream: the response with its body unread (headers
   * `dsm-backup-root`, `content-disposition`). A stream that breaks off is an error when read, never a
   * short archive.
   */
  backup(options: { timeoutMs?: number } = {}): Promise<Response> {
    return this.http.stream('GET', storageRoutes.backup.path, { accept: CAR_MEDIA_TYPE, ...options });
  }
  /** Loads an archive into this empty node (admin token); sent once, never retried. */
  async restore(
    archive: AsyncIterable<Uint8Array>,
    options: { timeoutMs?: number } = {},
  ): Promise<RestoreReport> {
    const response = await this.http.stream('POST', storageRoutes.restore.path, {
      body: archive,
      contentType: CAR_MEDIA_TYPE,
      ...options,
    });
    return b.RestoreReport.parse(await response.json());
  }
}

/** The admin API of any service (config, peers), the same shape on core and storage nodes. */
export class AdminApi {
  constructor(readonly http: HttpClient) {}

  status(options: { timeoutMs?: number; retries?: number } = {}): Promise<Status> {
    return call(this.http, commonRoutes.status, { options });
  }
  config(): Promise<Record<string, unknown>> {
    return call(this.http, adminRoutes.config);
  }
  setConfig(changes: object): Promise<Record<string, unknown>> {
    return call(this.http, adminRoutes.setConfig, { json: changes });
  }
  async peers(): Promise<Peer[]> {
    return (await call<z.output<typeof b.Peers>>(this.http, adminRoutes.peers)).peers;
  }
  addPeer(peer: string): Promise<PeerChange> {
    return call(this.http, adminRoutes.addPeer, { json: { peer } });
  }
  removePeer(peer: string): Promise<PeerChange> {
    return call(this.http, adminRoutes.removePeer, { params: { peer } });
  }
}

/** The bridge's API (port 8768). */
export class BridgeApi {
  constructor(readonly http: HttpClient) {}

  status(options: { timeoutMs?: number; retries?: number } = {}): Promise<BridgeStatus> {
    return call(this.http, commonRoutes.status, { options });
  }
  async deposits(limit?: number): Promise<Deposit[]> {
    const query = limit !== undefined ? { limit } : {};
    return (await call<z.output<typeof b.Deposits>>(this.http, bridgeRoutes.deposits, { query })).deposits;
  }
  /** By DSM transfer id or mint transaction hash. */
  async deposit(ref: string): Promise<Deposit[]> {
    return (await call<z.output<typeof b.Deposits>>(this.http, bridgeRoutes.deposit, { params: { ref } }))
      .deposits;
  }
  async withdrawals(limit?: number): Promise<Withdrawal[]> {
    const query = limit !== undefined ? { limit } : {};
    return (await call<z.output<typeof b.Withdrawals>>(this.http, bridgeRoutes.withdrawals, { query }))
      .withdrawals;
  }
  /** By burn transaction hash, `<txHash>:<logIndex>` or DSM release state id. */
  async withdrawal(ref: string): Promise<Withdrawal[]> {
    return (
      await call<z.output<typeof b.Withdrawals>>(this.http, bridgeRoutes.withdrawal, { params: { ref } })
    ).withdrawals;
  }
  async tokens(): Promise<BridgeToken[]> {
    return (await call<z.output<typeof b.BridgeTokens>>(this.http, bridgeRoutes.tokens)).tokens;
  }
  /** Clears a halt (after a reorganisation deeper than the confirmation depth was looked into). */
  resume(): Promise<BridgeStatus> {
    return call(this.http, bridgeRoutes.resume);
  }
  /** Idempotent: the bridge deploys a token's wrapped ERC-20 at most once. */
  deployToken(token: string): Promise<DeployedToken> {
    return call(this.http, bridgeRoutes.deployToken, { json: { token }, options: { idempotent: true } });
  }
}
