/** Builds an offline-verifiable export of a chain segment (protocol `ChainExport`) from the storage nodes. */
import {
  DsmError,
  EXPORT_FORMAT,
  decodeObject,
  encodeExport,
  type CID,
  type ChainExport,
  type ForeignState,
  type Policy,
  type SignedState,
  type TokenDefinition,
} from '@dsm/protocol';
import { idOf } from '@dsm/protocol';
import type { StorageClient } from './storage-client.js';
import type { StorageWorld } from './world.js';

async function signedAt(storage: StorageClient, identity: CID, n: number): Promise<SignedState> {
  const bytes = await storage.stateAt(identity, n);
  const object = bytes && decodeObject(bytes);
  if (!object || object.type !== 'dsm/signed-state@1')
    throw new DsmError('E_NOT_FOUND', `state ${n} of ${identity.toString()} not found`, { n });
  return object;
}

export async function exportSegment(
  storage: StorageClient,
  world: StorageWorld,
  identity: CID,
  from: number,
): Promise<Uint8Array> {
  const genesis = await world.genesis(identity);
  const head = await storage.head(identity);
  if (!genesis || !head)
    throw new DsmError('E_NOT_FOUND', `no chain for ${identity.toString()}`, {
      identity: identity.toString(),
    });
  if (from > head.n)
    throw new DsmError('E_BAD_REQUEST', `from ${from} is past the head (${head.n})`, { field: 'from' });

  const received: CID[] = [];
  const issued = new Map<string, { token: CID; supply: bigint }>();
  let checkpointState: SignedState | undefined;
  // The checkpoint is what the chain did before the segment: walk it once.
  for (let n = 0; n < from; n++) {
    const signed = await signedAt(storage, identity, n);
    const op = signed.state.op;
    if (op.kind === 'token.receive') received.push(op.transfer);
    if (op.kind === 'token.create')
      issued.set(op.token.toString(), {
        token: op.token,
        supply: BigInt((await world.tokenDefinition(op.token))!.initialSupply),
      });
    if (op.kind === 'token.mint') {
      const entry = issued.get(op.token.toString());
      if (entry) entry.supply += BigInt(op.amount);
    }
    checkpointState = signed;
  }

  const states: SignedState[] = [];
  for (let n = from; n <= head.n; n++) states.push(await signedAt(storage, identity, n));

  const tokens = new Map<string, TokenDefinition>();
  const policies = new Map<string, Policy>();
  const foreign = new Map<string, ForeignState>();
  const createdInSegment = new Set<string>();
  const addForeign = async (stateId: CID) => {
    if (foreign.has(stateId.toString())) return;
    const state = await world.acceptedState(stateId);
    const bytes = state && (await storage.get(stateId));
    const object = bytes && decodeObject(bytes);
    if (!object || object.type !== 'dsm/signed-state@1') return;
    const signerGenesis = await world.genesis(object.state.identity);
    if (signerGenesis) foreign.set(stateId.toString(), { state: object, genesis: signerGenesis });
  };
  for (const signed of states) {
    const op = signed.state.op;
    if (op.kind === 'genesis') continue;
    const token = await world.tokenDefinition(op.token);
    if (token && !tokens.has(op.token.toString())) {
      tokens.set(op.token.toString(), token);
      const policy = await world.policy(token.policy);
      if (policy) policies.set(token.policy.toString(), policy);
    }
    if (op.kind === 'token.create') createdInSegment.add(op.token.toString());
    if (op.kind === 'token.receive') await addForeign(op.transfer);
  }
  for (const token of tokens.keys()) {
    if (createdInSegment.has(token) || issued.has(token)) continue;
    const creation = await world.tokenCreation(idOf(tokens.get(token)!));
    if (creation) await addForeign(creation);
  }

  const bundle: ChainExport = {
    format: EXPORT_FORMAT,
    identity,
    genesis,
    states,
    tokens: [...tokens.values()],
    policies: [...policies.values()],
    foreign: [...foreign.values()],
    ...(checkpointState
      ? {
          checkpoint: {
            state: checkpointState,
            received,
            issued: [...issued.values()].map((e) => ({ token: e.token, supply: e.supply.toString() })),
          },
        }
      : {}),
  };
  return encodeExport(bundle);
}
