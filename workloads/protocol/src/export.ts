/**
 * A chain segment that anyone can verify offline (`dsm chain verify`): the identity's genesis, a trusted
 * checkpoint (when the segment does not start at state 0), the states, and the content they depend on:
 * token definitions, policies, and the foreign states their receives and tokens point at (transfers and
 * token creations), each with its signer's genesis so its signature is checked too.
 * What cannot be known offline: whether another node holds a conflicting state (forks are the storage
 * nodes' evidence) and whether the foreign states were accepted by their own chains beyond their signature.
 */
import type { CID } from 'multiformats/cid';
import { verifySignature, type SignatureBackend } from './crypto/backend.js';
import { checkGenesis, checkPolicy, checkSignedState, checkTokenDefinition } from './decode.js';
import { DEFAULT_MAX_OBJECT_BYTES, decodeStrict, encode, idOf } from './encoding.js';
import { DsmError, decodeError } from './errors.js';
import type { Genesis, Policy, SignedState, State, TokenDefinition } from './objects.js';
import { validatePolicy, type ValidPolicy } from './policy/policy.js';
import { amount, exactKeys, join, link, list, literal, map } from './shape.js';
import { STATE_CONTEXT } from './suites.js';
import { verifyChain, type ChainResult, type Checkpoint, type World } from './verify.js';

export const EXPORT_FORMAT = 'dsm/chain-export@1';

export interface ForeignState {
  state: SignedState;
  genesis: Genesis;
}

export interface ChainExport {
  format: typeof EXPORT_FORMAT;
  identity: CID;
  genesis: Genesis;
  /** Present when the segment starts after state 0: the state before it and what the chain did until then. */
  checkpoint?: { state: SignedState; received: CID[]; issued: { token: CID; supply: string }[] };
  states: SignedState[];
  tokens: TokenDefinition[];
  policies: Policy[];
  /** Transfers received in the segment, and creations of tokens not created in it. */
  foreign: ForeignState[];
}

export function encodeExport(bundle: ChainExport): Uint8Array {
  return encode(bundle);
}

/** Exports are bigger than one object: the limit is per bundle (default 64 MiB). */
export function decodeExport(bytes: Uint8Array, maxBytes = 64 * 1024 * 1024): ChainExport {
  const m = map(decodeStrict(bytes, Math.max(maxBytes, DEFAULT_MAX_OBJECT_BYTES)), '$');
  exactKeys(
    m,
    '',
    ['format', 'identity', 'genesis', 'states', 'tokens', 'policies', 'foreign'],
    ['checkpoint'],
  );
  literal(m.format, 'format', [EXPORT_FORMAT]);
  link(m.identity, 'identity');
  checkGenesis(m.genesis, 'genesis');
  list(m.states, 'states').forEach((s, i) => checkSignedState(s, join('states', i)));
  list(m.tokens, 'tokens').forEach((t, i) => checkTokenDefinition(t, join('tokens', i)));
  list(m.policies, 'policies').forEach((p, i) => checkPolicy(p, join('policies', i)));
  list(m.foreign, 'foreign').forEach((f, i) => {
    const fm = map(f, join('foreign', i));
    exactKeys(fm, join('foreign', i), ['state', 'genesis']);
    checkSignedState(fm.state, join(join('foreign', i), 'state'));
    checkGenesis(fm.genesis, join(join('foreign', i), 'genesis'));
  });
  if ('checkpoint' in m) {
    const c = map(m.checkpoint, 'checkpoint');
    exactKeys(c, 'checkpoint', ['state', 'received', 'issued']);
    checkSignedState(c.state, 'checkpoint.state');
    list(c.received, 'checkpoint.received').forEach((r, i) => link(r, join('checkpoint.received', i)));
    list(c.issued, 'checkpoint.issued').forEach((e, i) => {
      const em = map(e, join('checkpoint.issued', i));
      exactKeys(em, join('checkpoint.issued', i), ['token', 'supply']);
      link(em.token, join(join('checkpoint.issued', i), 'token'));
      amount(em.supply, join(join('checkpoint.issued', i), 'supply'));
    });
  }
  const bundle = m as unknown as ChainExport;
  if (!idOf(bundle.genesis).equals(bundle.identity))
    throw decodeError('identity', 'is not the id of the genesis in the export');
  return bundle;
}

/** Verifies an export offline. Foreign states count as accepted once their signatures verify. */
export async function verifyExport(
  bundle: ChainExport,
  backend: SignatureBackend,
  onProgress?: (verified: number, total: number) => void,
): Promise<ChainResult & { foreignVerified: number }> {
  const tokens = new Map(bundle.tokens.map((t) => [idOf(t).toString(), t]));
  const policies = new Map(bundle.policies.map((p) => [idOf(p).toString(), p]));
  const accepted = new Map<string, State>();
  const creations = new Map<string, CID>();
  let foreignVerified = 0;
  for (const { state, genesis } of bundle.foreign) {
    const id = idOf(state.state);
    const ok =
      idOf(genesis).equals(state.state.identity) &&
      (await verifySignature(backend, genesis.suite, genesis.publicKey, id.bytes, state.sig, STATE_CONTEXT));
    if (!ok) continue; // an unverifiable foreign state is simply unknown: what depends on it fails
    foreignVerified++;
    accepted.set(id.toString(), state.state);
    if (state.state.op.kind === 'token.create') creations.set(state.state.op.token.toString(), id);
  }
  let checkpoint: Checkpoint | null = null;
  if (bundle.checkpoint) {
    const state = bundle.checkpoint.state.state;
    // The checkpoint is trusted for what the chain did before it, but it must at least be this identity's
    // own signed state.
    const signed =
      state.identity.equals(bundle.identity) &&
      (await verifySignature(
        backend,
        bundle.genesis.suite,
        bundle.genesis.publicKey,
        idOf(state).bytes,
        bundle.checkpoint.state.sig,
        STATE_CONTEXT,
      ));
    if (!signed) {
      const error = new DsmError(
        'E_SIGNATURE',
        `the checkpoint (state ${state.n}) is not signed by ${bundle.identity.toString()}`,
        {
          rule: 'V3',
          n: state.n,
        },
      );
      return {
        verified: 0,
        checkpoint: null,
        failure: { index: -1, n: state.n, rule: 'V3', error },
        foreignVerified,
      };
    }
    checkpoint = {
      state,
      stateId: idOf(state),
      received: new Set(bundle.checkpoint.received.map(String)),
      issued: new Map(bundle.checkpoint.issued.map((e) => [e.token.toString(), BigInt(e.supply)])),
    };
    for (const token of checkpoint.issued.keys())
      if (!creations.has(token)) creations.set(token, checkpoint.stateId);
  }
  const parsed = new Map<string, ValidPolicy>();
  const world: World = {
    tokenDefinition: (token) => tokens.get(token.toString()),
    tokenCreation: (token) => creations.get(token.toString()),
    policy: (anchor) => policies.get(anchor.toString()),
    acceptedState: (stateId) => accepted.get(stateId.toString()),
    isForked: () => false,
    conflictingState: () => undefined,
    validPolicy: (anchor, policy) => {
      let valid = parsed.get(anchor.toString());
      if (!valid) parsed.set(anchor.toString(), (valid = validatePolicy(policy)));
      return valid;
    },
  };
  const total = bundle.states.length;
  const result = await verifyChain({
    genesis: bundle.genesis,
    checkpoint,
    states: bundle.states,
    world,
    backend,
    ...(onProgress ? { onProgress: (n: number) => onProgress(n, total) } : {}),
  });
  return { ...result, foreignVerified };
}
