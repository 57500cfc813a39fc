/**
 * Asks storage pods for their peer lists (`GET /v1/admin/peers`) with the cluster's admin token, and
 * changes a running node's peers (`POST`/`DELETE /v1/admin/peers`) when the cluster's storage topology
 * changed. Short deadlines and no retries: a slow pod is "did not answer" this round, which every decision
 * treats as not caught up (fail closed), and the next reconcile asks again.
 */
import { AdminApi } from '@dsm/api';
import { HttpClient } from '@dsm/runtime/client';
import type { ProbeAnswer } from './catchup.js';

export interface StorageTarget {
  pod: string;
  /** Base URL of its admin API. */
  url: string;
}

export interface ProbeOptions {
  token: string;
  timeoutMs: number;
}

function admin(url: string, options: ProbeOptions): AdminApi {
  return new AdminApi(
    new HttpClient({ baseUrl: url, token: options.token, timeoutMs: options.timeoutMs, retries: 0 }),
  );
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
        const peers = await Promise.race([
          admin(t.url, options).peers(),
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(new Error(`no answer within ${options.timeoutMs} ms`)),
              options.timeoutMs + 100,
            ).unref(),
          ),
        ]);
        return [t.pod, { ok: true, peers }];
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

/** Applies peer list changes on running nodes; returns the errors (a failed change is retried next round). */
export async function changePeers(changes: readonly PeerChange[], options: ProbeOptions): Promise<string[]> {
  const errors: string[] = [];
  await Promise.all(
    changes.map(async (c) => {
      const api = admin(c.url, options);
      for (const peer of c.add)
        await api
          .addPeer(peer)
          .catch((e: Error) => errors.push(`${c.pod}: adding peer ${peer}: ${e.message}`));
      for (const peer of c.remove)
        await api
          .removePeer(peer)
          .catch((e: Error) => errors.push(`${c.pod}: removing peer ${peer}: ${e.message}`));
    }),
  );
  return errors;
}
