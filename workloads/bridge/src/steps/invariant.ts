/**
 * The bridge's supply invariant, per DSM token: what the bridge identity holds on DSM equals the wrapped
 * supply on the EVM chain plus what is in flight between them, all read at one EVM block B (the last block
 * the bridge has processed):
 *   dsmBalance = wrappedSupply(B) + deposits received and not minted by B + burns up to B not yet released.
 * A gap other than zero means value was created or lost somewhere: it is reported, never corrected.
 */
import type { DepositRecord, WithdrawalRecord } from '../journal.js';

type DepositView = Pick<DepositRecord, 'token' | 'amount' | 'status' | 'mintBlock'>;
type WithdrawalView = Pick<WithdrawalRecord, 'token' | 'amount' | 'status' | 'blockNumber'>;

/** Received on DSM (in the bridge's balance) and not in the wrapped supply at `block`. */
export function depositInFlight(deposit: DepositView, block: number): boolean {
  switch (deposit.status) {
    case 'received':
    case 'refunding':
      return true;
    case 'minting':
    case 'minted':
      return deposit.mintBlock === undefined || deposit.mintBlock > block;
    default:
      return false;
  }
}

/** Burnt by `block` (out of the wrapped supply) and still in the bridge's DSM balance. */
export function withdrawalInFlight(withdrawal: WithdrawalView, block: number): boolean {
  return withdrawal.status !== 'released' && withdrawal.blockNumber <= block;
}

export interface InvariantInput {
  token: string;
  wrapped: string;
  dsmBalance: bigint;
  wrappedSupply: bigint;
  block: number;
  deposits: Iterable<DepositView>;
  withdrawals: Iterable<WithdrawalView>;
}

export interface InvariantResult {
  token: string;
  wrapped: string;
  dsmBalance: string;
  wrappedSupply: string;
  inFlight: string;
  gap: string;
  block: number;
}

export function checkInvariant(input: InvariantInput): InvariantResult {
  let inFlight = 0n;
  for (const d of input.deposits) {
    if (d.token === input.token && depositInFlight(d, input.block)) inFlight += BigInt(d.amount);
  }
  for (const w of input.withdrawals) {
    if (w.token === input.token && withdrawalInFlight(w, input.block)) inFlight += BigInt(w.amount);
  }
  return {
    token: input.token,
    wrapped: input.wrapped,
    dsmBalance: input.dsmBalance.toString(),
    wrappedSupply: input.wrappedSupply.toString(),
    inFlight: inFlight.toString(),
    gap: (input.dsmBalance - input.wrappedSupply - inFlight).toString(),
    block: input.block,
  };
}
