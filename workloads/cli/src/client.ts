/**
 * Typed calls to the services: the core's client API, the admin API of a core node or a storage node,
 * the bridge's API, and `/v1/status` of any of them. Transport, deadlines, retries and error bodies are `@dsm/runtime`'s
 * `HttpClient`: every failure arrives as a `DsmError` (E_UNAVAILABLE naming the URL when nothing answered).
 */
import * as api from '@dsm/api';
import { DsmError, type ErrorDetails } from '@dsm/protocol';
import { readSecretFile } from '@dsm/runtime/config';
import { HttpClient } from '@dsm/runtime/client';
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
  /** The bridge's API (8768). */
  bridgeUrl: string;
  /** Deadline of one HTTP attempt. */
  timeoutMs: number;
}

export type Balance = api.Balance;
export type Balances = Record<string, Balance>;
/** Answer to every state-changing operation of a hosted identity. */
export type Accepted = api.Accepted;
export type CreatedToken = api.Accepted & { token: string; policy: string };
export type HostedIdentity = api.HostedIdentity;
export type IdentityDetails = api.IdentityDetails;
export type ChainPage = api.ChainPage;
export type ReceivedAll = api.ReceivedAll;
export type TokenSpec = api.CreateTokenBody;
/** As the core sends it, plus the display fields the CLI adds (units.ts). */
export type InboxEntry = api.InboxEntry & { decimals?: number; amountDisplay?: string };
export type TokenInfo = Omit<api.TokenInfo, 'supply'> & {
  supply: { issued: string; burned: string; issuedDisplay?: string; burnedDisplay?: string } | null;
  initialSupplyDisplay?: string;
};

/**
 * The core's client API (`@dsm/api`). Every call that changes state carries the command's idempotency
 * key: HttpClient then resends it after a timeout, a reset or a 5xx, and the core answers a resend with
 * the outcome of the first.
 */
export class CoreApi extends api.CoreApi {}

/** The bridge's API (`@dsm/api`): status, deposits, withdrawals, wrapped tokens, token deployment (admin). */
export class BridgeApi extends api.BridgeApi {}
export type BridgeStatus = api.BridgeStatus;
export type BridgeToken = api.BridgeToken;
export type DeployedToken = api.DeployedToken;
/** As the bridge sends them, plus the display fields the CLI adds (commands/bridge.ts). */
export type Deposit = api.Deposit & { decimals?: number; amountDisplay?: string };
export type Withdrawal = api.Withdrawal & { decimals?: number; amountDisplay?: string };

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

/** The admin API's peers as the CLI shows them (a core's storage nodes, a storage node's peers). */
export function peerViews(peers: api.Peer[]): PeerView[] {
  return peers.map((p) => ({
    peer: p.address,
    up: p.up,
    ...(p.nodeId !== undefined ? { nodeId: p.nodeId } : {}),
    ...(p.behind !== undefined ? { behind: p.behind } : {}),
    ...(p.lagSeconds !== undefined ? { lagSeconds: p.lagSeconds } : {}),
    ...(p.lastError !== undefined ? { error: p.lastError } : {}),
  }));
}

/** The admin API of a core node or a storage node: the same routes and shapes on both (`@dsm/api`). */
export class AdminApi {
  private kind?: ServiceKind;
  private readonly admin: api.AdminApi;

  constructor(
    http: HttpClient,
    private readonly url: string,
  ) {
    this.admin = new api.AdminApi(http);
  }

  async service(): Promise<ServiceKind> {
    this.kind ??= kindOf(await this.admin.status(), this.url);
    return this.kind;
  }

  config(): Promise<Record<string, unknown>> {
    return this.admin.config();
  }

  setConfig(changes: ConfigChanges): Promise<Record<string, unknown>> {
    return this.admin.setConfig(changes);
  }

  async topology(): Promise<Topology> {
    return { service: await this.service(), peers: peerViews(await this.admin.peers()) };
  }

  async addPeer(peer: string): Promise<PeerChange> {
    const res = await this.admin.addPeer(peer);
    return { service: await this.service(), peer, changed: res.changed, peers: res.peers };
  }

  async removePeer(peer: string): Promise<PeerChange> {
    const res = await this.admin.removePeer(peer);
    return { service: await this.service(), peer, changed: res.changed, peers: res.peers };
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

/**
 * The bridge's API at `bridgeUrl`. Only `admin` clients read the token file and send it as bearer (token
 * deployment); reads need none, so a token file that cannot be read fails only the command that needs it.
 */
export function bridgeApi(endpoints: Endpoints, options: { admin?: boolean } = {}): BridgeApi {
  const token = options.admin === true ? adminToken(endpoints.tokenFile) : undefined;
  return new BridgeApi(
    new HttpClient({
      baseUrl: endpoints.bridgeUrl,
      timeoutMs: endpoints.timeoutMs,
      ...(token !== undefined ? { token } : {}),
    }),
  );
}

/** A storage node's API at `url` with the admin token: its backup and restore routes. */
export function storageAdminApi(endpoints: Endpoints, url: string): api.StorageApi {
  const token = adminToken(endpoints.tokenFile);
  return new api.StorageApi(
    new HttpClient({
      baseUrl: url,
      timeoutMs: endpoints.timeoutMs,
      ...(token !== undefined ? { token } : {}),
    }),
  );
}

/** `/v1/status` of whatever answers at `url`; one attempt, so a health check fails fast. */
export async function fetchStatus(url: string, timeoutMs: number): Promise<ServiceStatus> {
  const http = new HttpClient({ baseUrl: url, timeoutMs, retries: 0 });
  const status = await http.get<unknown>(api.commonRoutes.status.path);
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
