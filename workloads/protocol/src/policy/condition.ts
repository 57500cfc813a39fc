/** What every CTPA condition module provides (§6): a parser for its shape and a pure evaluator. */
import type { CID } from 'multiformats/cid';
import type { SignedState, State, TokenDefinition } from '../objects.js';
import type { SignatureSuite } from '../suites.js';

/** Everything a condition may look at. No clock, no network: the same input always gives the same answer. */
export interface PolicyInput {
  readonly tokenId: CID;
  readonly token: TokenDefinition;
  readonly signed: SignedState;
  /** id(signed.state): what co-signatures sign. */
  readonly stateId: CID;
  readonly previous: State | null;
  /** initialSupply + mints in the issuer's chain before this state (0 before token.create). */
  readonly issuedBefore: bigint;
  readonly verify: (
    suite: SignatureSuite,
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
    context: Uint8Array,
  ) => boolean;
}

export interface ConditionModule<C extends { kind: string }> {
  readonly kind: C['kind'];
  /** Checks a raw condition map; throws E_DECODE naming the field (reported as E_POLICY by the policy). */
  parse(raw: Record<string, unknown>, field: string): C;
  /** undefined when the condition passes, otherwise the reason it fails. */
  evaluate(condition: C, input: PolicyInput): string | undefined;
}
