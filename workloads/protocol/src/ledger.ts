/**
 * An in-memory ledger: a World that also accepts states, keeping chain heads, checkpoints, forks and
 * content by id. Used for offline verification of exported segments, for tests and for the test vectors.
 * Services keep the same facts in RocksDB.
 */
import type { CID } from 'multiformats/cid';
import type { SignatureBackend } from './crypto/backend.js';
import { idOf } from './encoding.js';
import { DsmError, isDsmError } from './errors.js';
import type { Genesis, Policy, SignedState, State, TokenDefinition } from './objects.js';
import { validatePolicy, type ValidPolicy } from './policy/policy.js';
import {
  advance,
  verifyState,
  type Accepted,
  type Checkpoint,
  type VerifyOptions,
  type World,
} from './verify.js';

export interface ForkEvidence {
  identity: string;
  n: number;
  existing: SignedState;
  candidate: SignedState;
}

export class MemoryLedger implements World {
  private readonly genesisById = new Map<string, Genesis>();
  private readonly tokens = new Map<string, TokenDefinition>();
  private readonly policies = new Map<string, Policy>();
  private readonly created = new Map<string, CID>();
  private readonly states = new Map<string, SignedState>();
  /** identity text → id text of the state at each height. */
  private readonly heights = new Map<string, Map<number, string>>();
  private readonly heads = new Map<string, Checkpoint>();
  private readonly forked = new Set<string>();
  readonly forks: ForkEvidence[] = [];

  constructor(private readonly backend: SignatureBackend) {}

  addGenesis(genesis: Genesis): CID {
    const id = idOf(genesis);
    this.genesisById.set(id.toString(), genesis);
    return id;
  }

  addToken(token: TokenDefinition): CID {
    const id = idOf(token);
    this.tokens.set(id.toString(), token);
    return id;
  }

  addPolicy(policy: Policy): CID {
    const id = idOf(policy);
    this.policies.set(id.toString(), policy);
    return id;
  }

  genesis(identity: CID): Genesis | undefined {
    return this.genesisById.get(identity.toString());
  }

  head(identity: CID): Checkpoint | undefined {
    return this.heads.get(identity.toString());
  }

  /** Trusts `checkpoint` as the verified head of its chain (resuming from an exported segment). */
  trustCheckpoint(checkpoint: Checkpoint): void {
    this.heads.set(checkpoint.state.identity.toString(), checkpoint);
    // Created at or before the checkpoint: the checkpoint id stands in for the (unseen) create state.
    for (const token of checkpoint.issued.keys())
      if (!this.created.has(token)) this.created.set(token, checkpoint.stateId);
    this.record(checkpoint.stateId, {
      type: 'dsm/signed-state@1',
      state: checkpoint.state,
      sig: new Uint8Array(),
    });
  }

  /**
   * Verifies `signed` against its chain's head and accepts it. A valid fork is kept as evidence and marks
   * the identity forked before E_FORK is thrown.
   */
  async accept(signed: SignedState, options?: VerifyOptions): Promise<Accepted> {
    const identity = signed.state.identity;
    const genesis = this.genesisById.get(identity.toString());
    if (genesis === undefined) {
      throw new DsmError('E_LINK', `unknown genesis ${identity.toString()}`, {
        identity: identity.toString(),
        n: signed.state.n,
      });
    }
    const stateId = idOf(signed.state);
    if (this.states.has(stateId.toString())) return { signed: this.states.get(stateId.toString())!, stateId }; // idempotent
    const head = this.heads.get(identity.toString()) ?? null;
    const parent = this.parentOf(head, signed.state);
    try {
      const accepted = await verifyState({
        genesis,
        identity,
        checkpoint: parent,
        signed,
        world: this,
        backend: this.backend,
        options,
      });
      this.heads.set(identity.toString(), advance(head, accepted));
      this.record(accepted.stateId, accepted.signed);
      if (signed.state.op.kind === 'token.create')
        this.created.set(signed.state.op.token.toString(), stateId);
      return accepted;
    } catch (e) {
      if (isDsmError(e, 'E_FORK') && typeof e.details.existing === 'string') {
        this.forked.add(identity.toString());
        this.forks.push({
          identity: identity.toString(),
          n: signed.state.n,
          existing: this.states.get(e.details.existing)!,
          candidate: signed,
        });
      }
      throw e;
    }
  }

  /**
   * The checkpoint a state is verified against: the head, or, for a height already taken, the checkpoint of
   * its predecessor, so that a second successor is verified against the same predecessor and caught by V7.
   */
  private parentOf(head: Checkpoint | null, state: State): Checkpoint | null {
    if (state.n === 0) return null;
    if (head === null || state.n > head.state.n) return head;
    return this.checkpoints.get(`${state.identity.toString()}@${state.n - 1}`) ?? head;
  }

  private readonly checkpoints = new Map<string, Checkpoint>();

  private record(stateId: CID, signed: SignedState): void {
    const id = stateId.toString();
    const identity = signed.state.identity.toString();
    this.states.set(id, signed);
    let heights = this.heights.get(identity);
    if (heights === undefined) this.heights.set(identity, (heights = new Map()));
    heights.set(signed.state.n, id);
    const head = this.heads.get(identity);
    if (head !== undefined && head.stateId.equals(stateId))
      this.checkpoints.set(`${identity}@${signed.state.n}`, head);
  }

  signedState(stateId: CID): SignedState | undefined {
    return this.states.get(stateId.toString());
  }

  // World
  tokenDefinition(token: CID): TokenDefinition | undefined {
    return this.tokens.get(token.toString());
  }
  tokenCreation(token: CID): CID | undefined {
    return this.created.get(token.toString());
  }
  policy(anchor: CID): Policy | undefined {
    return this.policies.get(anchor.toString());
  }
  acceptedState(stateId: CID): State | undefined {
    return this.states.get(stateId.toString())?.state;
  }
  isForked(identity: CID): boolean {
    return this.forked.has(identity.toString());
  }
  forkHeight(identity: CID): number | undefined {
    const heights = this.forks.filter((f) => f.identity === identity.toString()).map((f) => f.n);
    return heights.length === 0 ? undefined : Math.min(...heights);
  }
  conflictingState(identity: CID, n: number, stateId: CID): CID | undefined {
    const existing = this.heights.get(identity.toString())?.get(n);
    if (existing === undefined || existing === stateId.toString()) return undefined;
    return this.states.has(existing) ? idOf(this.states.get(existing)!.state) : undefined;
  }
  /** Policies are immutable content: validate each anchor once. */
  validPolicy(anchor: CID, policy: Policy): ValidPolicy {
    const key = anchor.toString();
    let valid = this.validPolicies.get(key);
    if (valid === undefined) {
      valid = validatePolicy(policy);
      this.validPolicies.set(key, valid);
    }
    return valid;
  }
  private readonly validPolicies = new Map<string, ValidPolicy>();
}
