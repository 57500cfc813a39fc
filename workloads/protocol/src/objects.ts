/**
 * The five top-level objects of DSM v1 and their nested maps, in the IPLD data model: exactly what is
 * encoded and hashed. Amounts stay decimal text here; arithmetic parses them to bigint.
 */
import type { CID } from 'multiformats/cid';
import type { SignatureSuite } from './suites.js';

export const GENESIS_TYPE = 'dsm/genesis@1';
export const STATE_TYPE = 'dsm/state@1';
export const SIGNED_STATE_TYPE = 'dsm/signed-state@1';
export const TOKEN_TYPE = 'dsm/token@1';
export const POLICY_TYPE = 'dsm/policy@1';
export const OBJECT_TYPES = [GENESIS_TYPE, STATE_TYPE, SIGNED_STATE_TYPE, TOKEN_TYPE, POLICY_TYPE] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export interface Genesis {
  type: typeof GENESIS_TYPE;
  suite: SignatureSuite;
  publicKey: Uint8Array;
  kemPublicKey: Uint8Array;
  nonce: Uint8Array;
  label?: string;
}

/** The seven token operation kinds (the ones a policy may list). */
export const TOKEN_OP_KINDS = [
  'token.create',
  'token.mint',
  'token.burn',
  'token.transfer',
  'token.receive',
  'token.lock',
  'token.unlock',
] as const;
export type TokenOpKind = (typeof TOKEN_OP_KINDS)[number];
export type OpKind = 'genesis' | TokenOpKind;
export const OP_KINDS: readonly OpKind[] = ['genesis', ...TOKEN_OP_KINDS];
/** Kinds that carry an `amount` (the only ones `amountLimit` may name). */
export const AMOUNT_OP_KINDS = [
  'token.mint',
  'token.burn',
  'token.transfer',
  'token.receive',
  'token.lock',
  'token.unlock',
] as const satisfies readonly TokenOpKind[];
export type AmountOpKind = (typeof AMOUNT_OP_KINDS)[number];

export interface GenesisOp {
  kind: 'genesis';
  genesis: CID;
}
export interface CreateOp {
  kind: 'token.create';
  token: CID;
}
export interface MintOp {
  kind: 'token.mint';
  token: CID;
  amount: string;
}
export interface BurnOp {
  kind: 'token.burn';
  token: CID;
  amount: string;
}
export interface TransferOp {
  kind: 'token.transfer';
  token: CID;
  amount: string;
  to: CID;
  memo?: string;
}
export interface ReceiveOp {
  kind: 'token.receive';
  token: CID;
  amount: string;
  from: CID;
  transfer: CID;
}
export interface LockOp {
  kind: 'token.lock';
  token: CID;
  amount: string;
  purpose: string;
}
export interface UnlockOp {
  kind: 'token.unlock';
  token: CID;
  amount: string;
  purpose: string;
}
export type Operation = GenesisOp | CreateOp | MintOp | BurnOp | TransferOp | ReceiveOp | LockOp | UnlockOp;
export type TokenOperation = Exclude<Operation, GenesisOp>;
export type AmountOperation = Exclude<TokenOperation, CreateOp>;

export interface BalanceEntry {
  available: string;
  locked: string;
}
/** Token id text → balance; entries with both values "0" are omitted. */
export type Balances = Record<string, BalanceEntry>;

export interface State {
  type: typeof STATE_TYPE;
  identity: CID;
  n: number;
  prev: CID | null;
  t: number;
  entropy: Uint8Array;
  op: Operation;
  balances: Balances;
}

export interface Cosig {
  signer: Uint8Array;
  suite: SignatureSuite;
  sig: Uint8Array;
}

export interface SignedState {
  type: typeof SIGNED_STATE_TYPE;
  state: State;
  sig: Uint8Array;
  cosigs?: Cosig[];
}

export interface TokenDefinition {
  type: typeof TOKEN_TYPE;
  issuer: CID;
  symbol: string;
  name: string;
  decimals: number;
  initialSupply: string;
  policy: CID;
  nonce: Uint8Array;
}

/** A condition as stored: a map with a `kind`; its shape is checked when the policy is validated (§6). */
export type RawCondition = { kind: string } & Record<string, unknown>;

export interface Policy {
  type: typeof POLICY_TYPE;
  author: CID;
  conditions: RawCondition[];
  description?: string;
}

export type DsmObject = Genesis | State | SignedState | TokenDefinition | Policy;
export interface ObjectsByType {
  [GENESIS_TYPE]: Genesis;
  [STATE_TYPE]: State;
  [SIGNED_STATE_TYPE]: SignedState;
  [TOKEN_TYPE]: TokenDefinition;
  [POLICY_TYPE]: Policy;
}

export function hasAmount(op: Operation): op is AmountOperation {
  return op.kind !== 'genesis' && op.kind !== 'token.create';
}
