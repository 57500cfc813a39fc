/**
 * Receiving transfers addressed to hosted identities, exactly once: the transfer is looked up under the
 * recipient's lock (so a receive racing auto-receive sees the one that won), and a duplicate found by
 * verification answers with the receive that happened instead of an error. The auto-receive loop takes
 * every pending transfer and stops retrying those refused for good.
 */
import { CID, DsmError, isDsmError } from '@dsm/protocol';
import type { HostedIdentities } from './hosted.js';
import type { RequestKey } from './request-keys.js';
import type { StorageClient } from './storage-client.js';
import type { Accepted, ChainWriter } from './writer.js';

/** What the receiver asks of the storage nodes. */
export type InboxStorage = Pick<StorageClient, 'transfer' | 'inbox'>;

export class Receiver {
  /** Transfers auto-receive gave up on (refused by a rule that will not change). */
  private readonly refused = new Set<string>();

  constructor(
    private readonly writer: ChainWriter,
    private readonly storage: InboxStorage,
    private readonly identities: HostedIdentities,
  ) {}

  /**
   * Receives one transfer addressed to a hosted identity, exactly once: looked up under the identity's lock
   * (so a receive racing auto-receive sees the one that won), and a duplicate found by verification
   * answers with the receive that happened instead of an error.
   */
  receive(
    identity: CID,
    transferId: CID,
    request?: RequestKey,
  ): Promise<Accepted & { alreadyReceived?: boolean }> {
    return this.writer.run(identity, async () => {
      await this.writer.finishPending(identity);
      const entry = await this.transferTo(identity, transferId);
      if (entry.received && entry.receivedBy) return this.alreadyReceived(identity, entry.receivedBy);
      try {
        return await this.writer.actLocked(
          identity,
          async () => ({
            op: {
              kind: 'token.receive',
              token: CID.parse(entry.token),
              amount: entry.amount,
              from: CID.parse(entry.from),
              transfer: transferId,
            },
          }),
          request,
        );
      } catch (e) {
        if (!isDsmError(e, 'E_DUPLICATE_RECEIVE')) throw e;
        const again = await this.transferTo(identity, transferId);
        if (again.receivedBy === undefined) throw e;
        return this.alreadyReceived(identity, again.receivedBy);
      }
    });
  }

  private async transferTo(identity: CID, transferId: CID) {
    const found = await this.storage.transfer(transferId);
    if (found?.to !== identity.toString()) {
      throw new DsmError(
        'E_RECEIVE',
        `transfer ${transferId.toString()} is not in the inbox of ${identity.toString()}`,
        { transfer: transferId.toString() },
      );
    }
    return found;
  }

  /** The receive that took the transfer, answered as it was accepted (its own height and balances). */
  private async alreadyReceived(identity: CID, receivedBy: string) {
    const state = await this.writer.world.acceptedState(CID.parse(receivedBy));
    if (state === undefined) {
      throw new DsmError('E_UNAVAILABLE', `receive ${receivedBy} cannot be read back yet; retry`, {
        identity: identity.toString(),
      });
    }
    return {
      identity: identity.toString(),
      n: state.n,
      stateId: receivedBy,
      op: 'token.receive' as const,
      balances: state.balances,
      replicas: [],
      alreadyReceived: true,
    };
  }

  /** Receives every pending transfer of every hosted identity (the auto-receive loop). */
  async receiveAll(): Promise<number> {
    let count = 0;
    for (const hosted of await this.identities.hosted()) {
      const identity = CID.parse(hosted.identity);
      const pending = await this.storage.inbox(identity, true);
      for (const entry of pending) {
        if (this.refused.has(entry.transfer)) continue;
        try {
          await this.receive(identity, CID.parse(entry.transfer));
          count++;
        } catch (e) {
          if (!isDsmError(e)) throw e;
          if (e.code === 'E_UNAVAILABLE') return count;
          // Refused for good (sender forked, policy): it stays in the inbox for a receive on request,
          // but the poll stops signing a new attempt every round.
          this.refused.add(entry.transfer);
        }
      }
    }
    return count;
  }
}
