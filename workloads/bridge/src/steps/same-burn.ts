/**
 * Whether two recorded BurnToDsm events are the same burn. The id of a withdrawal is `<txHash>:<logIndex>`,
 * and neither is enough to recognise a burn seen twice: a reorganisation can re-include the transaction at
 * another log index, and the transaction hash is the EVM node's word (the receipt proof covers the receipt,
 * keyed by its index, not the hash). What the proof does cover is the event itself: the contract numbers
 * every burn (`nonce`), and the same nonce with the same token, sender, amount and recipient is one burn.
 */
export interface BurnFacts {
  nonce: string;
  wrapped: string;
  from: string;
  amount: string;
  recipient: string;
}

export function sameBurn(a: BurnFacts, b: BurnFacts): boolean {
  return (
    a.nonce === b.nonce &&
    a.wrapped.toLowerCase() === b.wrapped.toLowerCase() &&
    a.from.toLowerCase() === b.from.toLowerCase() &&
    a.amount === b.amount &&
    a.recipient === b.recipient
  );
}
