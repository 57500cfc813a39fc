/**
 * The directory as the verifier sees it: the World of protocol.md §4 answered from the directory, and what
 * verifying a state needs of its chain's history (the checkpoint). A fork candidate (a second successor of
 * a state below the head) is judged as of its parent, as the first successor was: the World and the
 * checkpoint then hide what the chain did after the parent.
 */
import {
  overlayWorld,
  validatePolicy,
  type Checkpoint,
  type CID,
  type Policy,
  type State,
  type TokenDefinition,
  type ValidPolicy,
  type World,
} from '@dsm/protocol';
import type { Head } from './effects.js';
import type { Queries } from './queries.js';

/** The World of §4 answered from the directory (policies are validated once per anchor). */
export function directoryWorld(queries: Queries): World {
  const policies = new Map<string, ValidPolicy>();
  return {
    tokenDefinition: async (token) => queries.typed<TokenDefinition>(token, 'dsm/token@1'),
    tokenCreation: (token) => queries.creation(token),
    policy: (anchor) => queries.typed<Policy>(anchor, 'dsm/policy@1'),
    acceptedState: async (stateId) => {
      const signed = await queries.signedState(stateId);
      return signed?.state;
    },
    isForked: (identity) => queries.isForked(identity),
    conflictingState: async (identity, n, stateId) => {
      const head = await queries.head(identity);
      if (head === null || n > head.n) return undefined; // nothing is stored above the head
      const existing = await queries.stateIdAt(identity, n);
      return existing !== undefined && !existing.equals(stateId) ? existing : undefined;
    },
    validPolicy: (anchor, policy) => {
      const key = anchor.toString();
      let valid = policies.get(key);
      if (valid === undefined) {
        valid = validatePolicy(policy);
        policies.set(key, valid);
      }
      return valid;
    },
  };
}

/** The World for a fork candidate: this identity's token creations after `n` did not exist yet. */
export function worldAsOf(world: World, queries: Queries, identity: CID, n: number): World {
  return overlayWorld(world, {
    tokenCreation: async (token: CID) => {
      const creation = await queries.creationRecord(token);
      return creation && !(creation.identity.equals(identity) && creation.n > n)
        ? creation.stateId
        : undefined;
    },
  });
}

/** The parts of a checkpoint that verifying `state` can look at, read from the directory as of `parent`. */
export async function checkpointAt(
  queries: Queries,
  identity: CID,
  parent: Head,
  state: State,
): Promise<Checkpoint> {
  const cached = queries.cachedHead(identity);
  const parentState = cached?.head.stateId.equals(parent.stateId)
    ? cached.state
    : (await queries.signedState(parent.stateId))!.state;
  const received = new Set<string>();
  const issued = new Map<string, bigint>();
  const op = state.op;
  // Facts as of the parent: a second successor (a fork candidate) must be judged like the first was.
  if (op.kind === 'token.receive') {
    const receiver = await queries.receivedBy(op.transfer);
    const by = receiver && (await queries.signedState(receiver));
    if (by && by.state.identity.equals(identity) && by.state.n <= parent.n)
      received.add(op.transfer.toString());
  }
  if (op.kind !== 'genesis') {
    const creation = await queries.creationRecord(op.token);
    // Tokens this identity created before this state. Only a mint reads their issued supply (supplyCap
    // checks create and mint alone): for any other kind the entry only says "created in this chain", so
    // its supply is not read.
    if (creation !== undefined && creation.identity.equals(identity) && creation.n <= parent.n) {
      if (op.kind !== 'token.mint') {
        issued.set(op.token.toString(), 0n);
        return { state: parentState, stateId: parent.stateId, received, issued };
      }
      let supply = BigInt((await queries.supply(op.token))?.issued ?? '0');
      const head = await queries.head(identity);
      for (let n = parent.n + 1; head !== null && n <= head.n; n++) {
        const id = await queries.stateIdAt(identity, n);
        const later = id && (await queries.signedState(id));
        if (later?.state.op.kind === 'token.mint' && later.state.op.token.equals(op.token))
          supply -= BigInt(later.state.op.amount);
      }
      issued.set(op.token.toString(), supply);
    }
  }
  return { state: parentState, stateId: parent.stateId, received, issued };
}
