/**
 * Asks storage pods for their peer lists through the public `GET /v1/status` (its `peers` are the entries
 * of the admin peer list: no token needed), and changes a running node's peers (`POST`/`DELETE
 * /v1/admin/peers`) with the cluster's storage peer token, which the nodes accept for those two routes
 * only. Short deadlines and no retries: a slow pod is "did not answer" this round, which every decision
 * treats as not caught up (fail closed), and the next reconcile asks again.
 */
import { AdminApi, Peers, StorageApi } from '@dsm/api';
import { HttpClient } from '@dsm/runtime/client';
import type { ProbeAnswer } from './catchup.js';

export interface StorageTarget {
  pod: string;
  /** Base URL of its API (status and admin share the port). */
  url: string;
}

export interface ProbeOptions {
  timeoutMs: number;
}

export interface PeerChangeOptions extends ProbeOptions {
  /** The cluster's storage peer token (derived, never read: peer-token.ts). */
  token: string;
}

const http = (url: string, timeoutMs: number, token?: string) =>
  new HttpClient({ baseUrl: url, timeoutMs, retries: 0, ...(token !== undefined ? { token } : {}) });

const peerList = Peers.shape.peers;

/** The peer entries of a `/v1/status` answer, or why there are none. */
export function peersOfStatus(status: unknown): ProbeAnswer {
  const parsed = peerList.safeParse((status as { peers?: unknown } | null)?.peers);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      error: `its status has no valid peer list (peers.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`,
    };
  }
  return { ok: true, peers: parsed.data };
}

/** Every target's answer, asked in parallel; one that fails or times out is `{ok: false}`. */
export async function probePeers(
  targets: readonly StorageTarget[],
  options: ProbeOptions,
): Promise<Map<string, ProbeAnswer>> {
  const answers = await Promise.all(
    targets.map(async (t): Promise<[string, ProbeAnswer]> => {
      try {
        // A second, hard deadline: whatever the client does, an answer later than this does not count.
        const status = await Promise.race([
          new StorageApi(http(t.url, options.timeoutMs)).status({ timeoutMs: options.timeoutMs, retries: 0 }),
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(new Error(`no answer within ${options.timeoutMs} ms`)),
              options.timeoutMs + 100,
            ).unref(),
          ),
        ]);
        return [t.pod, peersOfStatus(status)];
      } catch (e) {
        return [t.pod, { ok: false, error: (e as Error).message }];
      }
    }),
  );
  return new Map(answers);
}

export interface PeerChange {
  pod: string;
  url: string;
  add: string[];
  remove: string[];
}

export interface PeerChangeResult {
  /** `<pod>: adding peer <p>: <why>` for each change that failed (retried next round). */
  errors: string[];
  /** Pods that refused the peer token (E_UNAUTHORIZED): their Secret holds another value. */
  refusedToken: string[];
}

const isUnauthorized = (e: unknown) => (e as { code?: unknown } | null)?.code === 'E_UNAUTHORIZED';

/** Applies peer list changes on running nodes. */
export async function changePeers(
  changes: readonly PeerChange[],
  options: PeerChangeOptions,
): Promise<PeerChangeResult> {
  const errors: string[] = [];
  const refused = new Set<string>();
  await Promise.all(
    changes.map(async (c) => {
      const api = new AdminApi(http(c.url, options.timeoutMs, options.token));
      const failed = (what: string) => (e: Error) => {
        if (isUnauthorized(e)) refused.add(c.pod);
        errors.push(`${c.pod}: ${what}: ${e.message}`);
      };
      for (const peer of c.add) await api.addPeer(peer).catch(failed(`adding peer ${peer}`));
      for (const peer of c.remove) await api.removePeer(peer).catch(failed(`removing peer ${peer}`));
    }),
  );
  return { errors, refusedToken: [...refused].sort() };
}
