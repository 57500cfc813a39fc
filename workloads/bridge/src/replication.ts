/**
 * Whether a deposit is replicated: the storage nodes are asked directly (not the core) for the transfer,
 * and a node counts only if the bytes it answers are a signed state whose id is the transfer's.
 */
import { StorageApi } from '@dsm/api';
import { decodeSignedState } from '@dsm/protocol';
import { HttpClient } from '@dsm/runtime/client';

export class Replication {
  private readonly nodes: StorageApi[];

  constructor(
    nodes: readonly string[],
    readonly required: number,
    timeoutMs: number,
  ) {
    this.nodes = nodes.map(
      (node) => new StorageApi(new HttpClient({ baseUrl: `http://${node}`, timeoutMs, retries: 0 })),
    );
  }

  /** How many storage nodes hold the state `stateId`, verified by id. */
  async holders(stateId: string): Promise<number> {
    const answers = await Promise.all(
      this.nodes.map(async (node) => {
        try {
          return decodeSignedState(await node.object(stateId, { retries: 0 })).stateId.toString() === stateId;
        } catch {
          return false;
        }
      }),
    );
    return answers.filter(Boolean).length;
  }
}
