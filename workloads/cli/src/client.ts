/**
 * Typed calls to the services: the core's client API, the admin API of a core node or a storage node,
 * and `/v1/status` of any of them. Transport, deadlines, retries and error bodies are `@dsm/runtime`'s
 * `HttpClient`: every failure arrives as a `DsmError` (E_UNAVAILABLE naming the URL when nothing answered).
 */
import { DsmError, type ErrorDetails } from '@dsm/protocol';
import { HttpClient, readSecretFile } from '@dsm/runtime';
import type { ConfigChanges } from './options.js';

export interface Endpoints {
  /** Core client API (7545). */
  url: string;
  /** Admin/P2P port of a core or storage node (8765). */
  adminUrl: string;
  /** File holding the admin bearer token. */
  tokenFile?: string;
  /** File holding the core's API token (custodial operations on hosted identities). */
  apiTokenFile?: string;
  /** Deadline of one HTTP attempt. */
  timeoutMs: number;
}

export interface Balance {
  available: string;
  locked: string;
}
export type Balances = Record<string, Balance>;

/** Answer to every state-changing operation of a hosted identity. */
export interface Accepted {
  identity: string;
  n: number;
  stateId: string;
  op: string;
  balances: Balances;
  replicas: string[];
  resumed?: boolean;
  alreadyReceived?: boolean;
}

export interface CreatedToken extends Accepted {
  token: string;
  policy: string;
}

export interface HostedIdentity {
  identity: string;
  suite: string;
  label?: string;
  createdAt: string;
}

export interface IdentityDetails {
  identity: string;
  suite: string;
  label?: string;
  hosted: boolean;
  n: number | null;
  stateId: string | null;
  balances: Balances;
  forked: boolean;
  pending: unknown;
}

export interface InboxEntry {
  transfer: string;
  seq: number;
  from: string;
  token: string;
  amount: string;
  memo?: string;
  received: boolean;
  receivedBy?: string;
  /** Added by the CLI (units.ts), not sent by the core. */
  decimals?: number;
  amountDisplay?: string;
}

export interface ReceivedAll {
  identity: string;
  received: Accepted[];
}

export interface TokenInfo {
  token: string;
  issuer: string;
  symbol: string;
  name: string;
  decimals: number;
  initialSupply: string;
  policy: string;
  created: boolean;
  supply: { issued: string; burned: string; issuedDisplay?: string; burnedDisplay?: string } | null;
  /** Added by the CLI (units.ts), not sent by the core. */
  initialSupplyDisplay?: string;
}

export interface ChainPage {
  identity: string;
  states: { n: number; stateId: string }[];
}

export interface TokenSpec {
  symbol: string;
  name: string;
  decimals: number;
  initialSupply: string;
  policy: { conditions: Record<string, unknown>[]; description?: string };
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/**
 * Every call that changes state carries the command's idempotency key: HttpClient then resends it after
 * a timeout, a reset or a 5xx, and the core answers a resend with the outcome of the first.
 */
export class CoreApi {
  constructor(private readonly http: HttpClient) {}

  createIdentity(body: { suite?: string; label?: string }, key: string): Promise<HostedIdentity & Accepted> {
    return this.http.post('/v1/identities', body, { idempotencyKey: key });
  }
  async identities(): Promise<HostedIdentity[]> {
    return (await this.http.get<{ identities: HostedIdentity[] }>('/v1/identities')).identities;
  }
  identity(id: string): Promise<IdentityDetails> {
    return this.http.get(`/v1/identities/${path(id)}`);
  }
  balances(id: string): Promise<{ identity: string; n: number; balances: Balances }> {
    return this.http.get(`/v1/identities/${path(id)}/balances`);
  }
  inbox(id: string, pending: boolean): Promise<{ identity: string; entries: InboxEntry[] }> {
    return this.http.get(`/v1/identities/${path(id)}/inbox`, { query: { pending: pending || undefined } });
  }
  chain(id: string, from: number, limit: number): Promise<ChainPage> {
    return this.http.get(`/v1/identities/${path(id)}/chain`, { query: { from, limit } });
  }
  exportChain(id: string, from: number): Promise<Uint8Array> {
    return this.http.getBytes(`/v1/identities/${path(id)}/export`, { query: { from } });
  }
  createToken(id: string, spec: TokenSpec, key: string): Promise<CreatedToken> {
    return this.http.post(`/v1/identities/${path(id)}/tokens`, spec, { idempotencyKey: key });
  }
  /** mint, burn, transfer, lock, unlock. */
  operate(
    id: string,
    op: 'mint' | 'burn' | 'transfer' | 'lock' | 'unlock',
    body: Record<string, string>,
    key: string,
  ): Promise<Accepted> {
    return this.http.post(`/v1/identities/${path(id)}/${op}`, body, { idempotencyKey: key });
  }
  receive(id: string, transfer: string | undefined, key: string): Promise<Accepted | ReceivedAll> {
    const body = transfer !== undefined ? { transfer } : {};
    return this.http.post(`/v1/identities/${path(id)}/receive`, body, { idempotencyKey: key });
  }
  token(id: string): Promise<TokenInfo> {
    return this.http.get(`/v1/tokens/${path(id)}`);
  }
  /** The policy object in DAG-JSON text (links as {"/": id}, bytes as {"/": {"bytes": base64}}). */
  policy(anchor: string): Promise<string> {
    return this.http.get(`/v1/policies/${path(anchor)}`, {
      responseType: 'text',
      headers: { accept: 'application/vnd.ipld.dag-json' },
    });
  }
}

export type ServiceKind = 'core' | 'storage';

/** Any service's `/v1/status`; `service` tells which one answered. */
export interface ServiceStatus {
  service: string;
  version?: string;
  [key: string]: unknown;
}

/** One peer of a node, the same shape for core (its storage nodes) and storage (its replication peers). */
export interface PeerView {
  peer: string;
  up: boolean;
  nodeId?: string;
  behind?: number;
  lagSeconds?: number;
  error?: string;
}

export interface Topology {
  service: ServiceKind;
  peers: PeerView[];
}

export interface PeerChange {
  service: ServiceKind;
  peer: string;
  changed: boolean;
  peers: string[];
}

interface CorePeer {
  node: string;
  up: boolean;
  status?: { nodeId?: string };
  error?: string;
}
interface StoragePeer {
  address: string;
  up: boolean;
  nodeId?: string;
  behind?: number;
  lagSeconds?: number;
  lastError?: string;
}

export function kindOf(status: ServiceStatus, url: string): ServiceKind {
  if (status.service === 'dsm-core' || status.service === 'dsm-core-p2p') return 'core';
  if (status.service === 'dsm-storage') return 'storage';
  throw new DsmError(
    'E_BAD_REQUEST',
    `${url} is a "${String(status.service)}" service, not a DSM core or storage node`,
    {
      url,
      service: String(status.service),
    },
  );
}

export function peersOfCore(nodes: CorePeer[]): PeerView[] {
  return nodes.map((n) => ({
    peer: n.node,
    up: n.up,
    ...(n.status?.nodeId !== undefined ? { nodeId: n.status.nodeId } : {}),
    ...(n.error !== undefined ? { error: n.error } : {}),
  }));
}

export function peersOfStorage(peers: StoragePeer[]): PeerView[] {
  return peers.map((p) => ({
    peer: p.address,
    up: p.up,
    ...(p.nodeId !== undefined ? { nodeId: p.nodeId } : {}),
    ...(p.behind !== undefined ? { behind: p.behind } : {}),
    ...(p.lagSeconds !== undefined ? { lagSeconds: p.lagSeconds } : {}),
    ...(p.lastError !== undefined ? { error: p.lastError } : {}),
  }));
}

/** The admin API of a core node (config, storage topology) or a storage node (config, peers). */
export class AdminApi {
  private kind?: ServiceKind;

  constructor(
    private readonly http: HttpClient,
    private readonly url: string,
  ) {}

  async service(): Promise<ServiceKind> {
    this.kind ??= kindOf(await this.http.get<ServiceStatus>('/v1/status'), this.url);
    return this.kind;
  }

  config(): Promise<Record<string, unknown>> {
    return this.http.get('/v1/admin/config');
  }

  setConfig(changes: ConfigChanges): Promise<Record<string, unknown>> {
    return this.http.put('/v1/admin/config', changes);
  }

  async topology(): Promise<Topology> {
    const service = await this.service();
    if (service === 'core') {
      const res = await this.http.get<{ storageNodes: CorePeer[] }>('/v1/admin/topology');
      return { service, peers: peersOfCore(res.storageNodes) };
    }
    const res = await this.http.get<{ peers: StoragePeer[] }>('/v1/admin/peers');
    return { service, peers: peersOfStorage(res.peers) };
  }

  async addPeer(peer: string): Promise<PeerChange> {
    const service = await this.service();
    if (service === 'core') {
      const res = await this.http.post<{ added: boolean; storageNodes: string[] }>('/v1/admin/topology', {
        peer,
      });
      return { service, peer, changed: res.added, peers: res.storageNodes };
    }
    const res = await this.http.post<{ added: boolean; peers: string[] }>('/v1/admin/peers', { peer });
    return { service, peer, changed: res.added, peers: res.peers };
  }

  async removePeer(peer: string): Promise<PeerChange> {
    const service = await this.service();
    if (service === 'core') {
      const res = await this.http.delete<{ removed: boolean; storageNodes: string[] }>(
        `/v1/admin/topology/${path(peer)}`,
      );
      return { service, peer, changed: res.removed, peers: res.storageNodes };
    }
    const res = await this.http.delete<{ removed: boolean; peers: string[] }>(
      `/v1/admin/peers/${path(peer)}`,
    );
    return { service, peer, changed: res.removed, peers: res.peers };
  }
}

function adminToken(tokenFile: string | undefined): string | undefined {
  if (tokenFile === undefined || tokenFile === '') return undefined;
  // ConfigError (E_CONFIG) names the file and why it cannot be used.
  return readSecretFile(tokenFile, 'admin token file (--token-file, DSM_ADMIN_TOKEN_FILE)');
}

/**
 * Attempts after the first for calls to the core, and the first backoff ceiling (doubling): keyed
 * operations are safe to resend, and a second or two lets a core node restart or a storage node recover.
 */
const CORE_RETRIES = 3;
const CORE_BASE_DELAY_MS = 250;

/** Without an API token file no Authorization header is sent, and custodial operations answer E_UNAUTHORIZED. */
export function coreApi(endpoints: Endpoints): CoreApi {
  const token =
    endpoints.apiTokenFile === undefined || endpoints.apiTokenFile === ''
      ? undefined
      : readSecretFile(endpoints.apiTokenFile, 'API token file (--api-token-file, DSM_API_TOKEN_FILE)');
  return new CoreApi(
    new HttpClient({
      baseUrl: endpoints.url,
      timeoutMs: endpoints.timeoutMs,
      retries: CORE_RETRIES,
      baseDelayMs: CORE_BASE_DELAY_MS,
      ...(token !== undefined ? { token } : {}),
    }),
  );
}

/** Without a token file no Authorization header is sent, and the node answers E_UNAUTHORIZED. */
export function adminApi(endpoints: Endpoints): AdminApi {
  const token = adminToken(endpoints.tokenFile);
  const http = new HttpClient({
    baseUrl: endpoints.adminUrl,
    timeoutMs: endpoints.timeoutMs,
    ...(token !== undefined ? { token } : {}),
  });
  return new AdminApi(http, endpoints.adminUrl);
}

/** `/v1/status` of whatever answers at `url`; one attempt, so a health check fails fast. */
export async function fetchStatus(url: string, timeoutMs: number): Promise<ServiceStatus> {
  const http = new HttpClient({ baseUrl: url, timeoutMs, retries: 0 });
  const status = await http.get<unknown>('/v1/status');
  if (
    typeof status !== 'object' ||
    status === null ||
    typeof (status as ServiceStatus).service !== 'string'
  ) {
    const details: ErrorDetails = { url };
    throw new DsmError('E_BAD_REQUEST', `${url}/v1/status did not answer as a DSM service`, details);
  }
  return status as ServiceStatus;
}
