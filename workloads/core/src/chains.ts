/**
 * Acting on chains: build (for hosted identities) or accept (client-signed) a state, verify it with every
 * check of §4 including the clock skew and the token's CTPA policy, write it through to the storage nodes,
 * and only then answer. One identity's operations run one at a time. A state that could not be made durable
 * stays pending in this node's database and is finished before that identity's next operation, so a 503
 * never leaves a half-written chain and a retried request is not applied twice.
 *
 * This class is the one door to it; the rooms behind it:
 * - hosted.ts: keystore records, the hosted list, decrypted keys, identity creation;
 * - writer.ts: act, submit, commit, pending states and their finishing, request-key records, answers;
 * - receiver.ts: receive, receive-all, the exactly-once lookups.
 */
import type { CID, CryptoBackend, Operation, SignatureSuite, State, TokenDefinition } from '@dsm/protocol';
import type { Store } from '@dsm/runtime';
import { HostedIdentities, type HostedIdentity } from './hosted.js';
import type { Keystore } from './keystore.js';
import type { CoreMetrics } from './metrics.js';
import { Receiver } from './receiver.js';
import type { RequestKey, RequestKeys } from './request-keys.js';
import type { StorageClient } from './storage-client.js';
import type { StorageWorld } from './world.js';
import { ChainWriter, type Accepted, type Answer, type TokenSpec } from './writer.js';

export type { HostedIdentity } from './hosted.js';
export type { Accepted, Answer, TokenSpec } from './writer.js';

export class Chains {
  readonly requests: RequestKeys;
  private readonly identities: HostedIdentities;
  private readonly writer: ChainWriter;
  private readonly receiver: Receiver;

  constructor(
    db: Store,
    storage: StorageClient,
    readonly world: StorageWorld,
    keystore: Keystore,
    backend: CryptoBackend,
    metrics: CoreMetrics,
    options: { maxClockSkewMs: number },
  ) {
    this.identities = new HostedIdentities(db, keystore, backend);
    this.writer = new ChainWriter(db, storage, world, this.identities, backend, metrics, options);
    this.receiver = new Receiver(this.writer, storage, this.identities);
    this.requests = this.writer.requests;
  }

  // ---------------------------------------------------------------------------------------------
  // Hosted identities

  /** Creates a hosted identity: durable here first, then written through (or finished later on a 503). */
  createIdentity(input: { suite: SignatureSuite; label?: string }, request?: RequestKey): Promise<Answer> {
    return this.identities.create(input, this.writer, request);
  }

  hosted(): Promise<HostedIdentity[]> {
    return this.identities.hosted();
  }

  isHosted(identity: CID): Promise<boolean> {
    return this.identities.isHosted(identity);
  }

  // ---------------------------------------------------------------------------------------------
  // Writing chains

  /**
   * Builds, signs, verifies and writes the next state of a hosted identity. `build` sees the current head
   * and returns the operation (and, for token.create, the definition).
   */
  act(
    identity: CID,
    build: (head: State) => Promise<{ op: Operation; token?: TokenDefinition }>,
    request?: RequestKey,
  ): Promise<Accepted> {
    return this.writer.act(identity, build, request);
  }

  /** Accepts a state signed by a client that keeps its own keys. */
  submit(bytes: Uint8Array): Promise<Accepted> {
    return this.writer.submit(bytes);
  }

  createToken(identity: CID, spec: TokenSpec, request?: RequestKey): Promise<Answer> {
    return this.writer.createToken(identity, spec, request);
  }

  /** The answer a keyed request already got, or undefined when it must run. */
  replay(request: RequestKey): Promise<{ status: number; body: unknown } | undefined> {
    return this.writer.replay(request);
  }

  /** Finishes every pending state (after a crash or an outage); returns how many were finished. */
  finishAllPending(): Promise<number> {
    return this.writer.finishAllPending();
  }

  pendingState(identity: CID): Promise<string | undefined> {
    return this.writer.pendingState(identity);
  }

  /** The head this node knows, else the storage nodes'. */
  head(identity: CID): Promise<{ state: State; stateId: CID } | undefined> {
    return this.writer.head(identity);
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /** Receives one transfer addressed to a hosted identity, exactly once. */
  receive(
    identity: CID,
    transferId: CID,
    request?: RequestKey,
  ): Promise<Accepted & { alreadyReceived?: boolean }> {
    return this.receiver.receive(identity, transferId, request);
  }

  /** Receives every pending transfer of every hosted identity (the auto-receive loop). */
  receiveAll(): Promise<number> {
    return this.receiver.receiveAll();
  }

  /** Receives what is pending for those of `identities` this node hosts (named by a storage node). */
  receiveFor(identities: CID[]): Promise<{ received: number; unfinished: CID[] }> {
    return this.receiver.receiveFor(identities);
  }

  /** Transfers to hosted identities still to be received, as their inboxes showed at the last look. */
  receiveBacklog(): number {
    return this.receiver.backlog();
  }
}
