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

/** Identities whose inboxes are read and received from at once (each one's receives stay in order). */
const RECEIVE_CONCURRENCY = 16;

/** What the receiver asks of the storage nodes. */
export type InboxStorage = Pick<StorageClient, 'transfer' | 'inbox'>;

export class Receiver {
  /** Transfers auto-receive gave up on (refused by a rule that will not change). */
  private readonly refused = new Set<string>();
  /** Per hosted identity, transfers its inbox showed pending at the last look, less those received since. */
  private readonly pending = new Map<string, number>();

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
            transfer: entry,
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

  /**
   * Receives every pending transfer of every hosted identity (the auto-receive loop): identities side by
   * side (each one's receives in order, under its lock), at most RECEIVE_CONCURRENCY at once.
   */
  async receiveAll(): Promise<number> {
    const identities = (await this.identities.hosted()).map((h) => CID.parse(h.identity));
    return (await this.receiveEach(identities)).received;
  }

  /**
   * Receives what is pending for `identities` (a storage node named them as recipients of new transfers):
   * only those this node hosts, so the hint costs no more than the inbox reads it saves. The storage nodes'
   * inboxes stay the only source of what is received. Returns the identities a storage outage kept from
   * being finished (for the caller to try again), with how many transfers were received.
   */
  async receiveFor(identities: CID[]): Promise<{ received: number; unfinished: CID[] }> {
    const hosted: CID[] = [];
    for (const identity of identities) if (await this.identities.isHosted(identity)) hosted.push(identity);
    return this.receiveEach(hosted);
  }

  /** Transfers to hosted identities still to be received, as their inboxes showed at the last look. */
  backlog(): number {
    let total = 0;
    for (const count of this.pending.values()) total += count;
    return total;
  }

  /**
   * Runs `receivePending` for each identity, RECEIVE_CONCURRENCY at a time. A receive that met E_UNAVAILABLE
   * ends the round quietly (the next round retries); an inbox that could not be read ends it with that error.
   */
  private async receiveEach(identities: CID[]): Promise<{ received: number; unfinished: CID[] }> {
    let received = 0;
    let next = 0;
    let stop = false;
    let failure: unknown;
    const unfinished: CID[] = [];
    const worker = async () => {
      while (!stop && next < identities.length) {
        const identity = identities[next++]!;
        try {
          const outcome = await this.receivePending(identity);
          received += outcome.received;
          if (outcome.unavailable) {
            stop = true;
            unfinished.push(identity);
          }
        } catch (e) {
          stop = true;
          failure ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECEIVE_CONCURRENCY, identities.length) }, worker));
    if (failure !== undefined) throw failure;
    return { received, unfinished: [...unfinished, ...identities.slice(next)] };
  }

  /** One identity's pending transfers, oldest first; stops at the first E_UNAVAILABLE (next round). */
  private async receivePending(identity: CID): Promise<{ received: number; unavailable: boolean }> {
    const key = identity.toString();
    const pending = (await this.storage.inbox(identity, true)).filter((e) => !this.refused.has(e.transfer));
    this.setPending(key, pending.length);
    let received = 0;
    let refused = 0;
    for (const entry of pending) {
      try {
        await this.receive(identity, CID.parse(entry.transfer));
        received++;
      } catch (e) {
        if (!isDsmError(e)) throw e;
        if (e.code === 'E_UNAVAILABLE') return { received, unavailable: true };
        // Refused for good (sender forked, policy): it stays in the inbox for a receive on request,
        // but the poll stops signing a new attempt every round.
        this.refused.add(entry.transfer);
        refused++;
      }
      this.setPending(key, pending.length - received - refused);
    }
    return { received, unavailable: false };
  }

  private setPending(identity: string, count: number): void {
    if (count > 0) this.pending.set(identity, count);
    else this.pending.delete(identity);
  }
}
