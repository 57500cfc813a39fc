// Self-custody: the client keeps its keys, builds and signs its own states with @dsm/protocol, and sends
// them to the core (POST /v1/states), which verifies them like any state and writes them to the storage
// nodes. Order matters: content an object links to must be stored before the object that links to it.
import { randomBytes } from 'node:crypto';
import {
  defaultBackend as backend,
  encode,
  idOf,
  makeGenesis,
  makeGenesisState,
  makeNextState,
  makePolicy,
  makeToken,
  signState,
  type CID,
  type State,
} from '@dsm/protocol';

/** Sends DAG-CBOR bytes; returns the JSON answer, or throws the service's error code and message. */
async function post(core: string, path: string, object: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${core}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.ipld.dag-cbor' },
    body: encode(object),
  });
  const body = (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${path}: ${body.error?.code}: ${body.error?.message}`);
  return body;
}

export async function selfCustody(core: string, recipient: CID) {
  // 1. Keys (kept by the client) and the genesis; the identity is the id of its genesis.
  const keys = backend.keygen('ml-dsa-65');
  const genesis = makeGenesis({
    suite: 'ml-dsa-65',
    publicKey: keys.publicKey,
    kemPublicKey: backend.kemKeygen().publicKey,
    nonce: randomBytes(32),
    label: 'my wallet',
  });
  const identity = idOf(genesis);
  const sign = (state: State) => signState(backend, 'ml-dsa-65', keys.secretKey, state);
  await post(core, '/v1/objects', genesis);

  // 2. State 0 opens the chain.
  let head = makeGenesisState(identity, Date.now());
  await post(core, '/v1/states', sign(head));

  // 3. A policy (the token's CTPA) and the token definition, then the token.create state.
  const policy = makePolicy(identity, [{ kind: 'amountLimit', op: 'token.transfer', max: '500' }]);
  const token = makeToken({
    issuer: identity,
    symbol: 'SELF',
    name: 'Self-issued',
    decimals: 0,
    initialSupply: 1000n,
    policy: idOf(policy),
    nonce: randomBytes(32),
  });
  await post(core, '/v1/objects', policy);
  await post(core, '/v1/objects', token);
  const tokenId = idOf(token);
  head = makeNextState(head, { kind: 'token.create', token: tokenId }, Date.now(), token);
  await post(core, '/v1/states', sign(head));

  // 4. A transfer: the next state, built on the head the client keeps. The recipient receives it from its
  //    inbox (a hosted recipient automatically).
  head = makeNextState(
    head,
    { kind: 'token.transfer', token: tokenId, amount: '250', to: recipient },
    Date.now(),
  );
  const sent = await post(core, '/v1/states', sign(head));
  return { identity, tokenId, transfer: sent.stateId as string, balances: head.balances };
}
