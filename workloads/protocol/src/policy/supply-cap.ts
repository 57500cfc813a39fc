/**
 * `supplyCap`: initialSupply + Σ mint in the issuer's chain, up to and including this state, ≤ max.
 * Burns do not free room. Only token.create and token.mint change the issued supply, so only they are
 * checked; every other kind passes (its verifier may not even know the issuer's supply).
 */
import { parseAmount } from '../amount.js';
import { amount, exactKeys } from '../shape.js';
import type { ConditionModule } from './condition.js';

export interface SupplyCapCondition {
  kind: 'supplyCap';
  max: string;
}

export const supplyCap: ConditionModule<SupplyCapCondition> = {
  kind: 'supplyCap',
  parse(raw, field) {
    exactKeys(raw, field, ['kind', 'max']);
    return { kind: 'supplyCap', max: amount(raw.max, `${field}.max`) };
  },
  evaluate(condition, { signed, token, issuedBefore }) {
    const op = signed.state.op;
    let issued: bigint;
    if (op.kind === 'token.create') issued = parseAmount(token.initialSupply, 'initialSupply');
    else if (op.kind === 'token.mint') issued = issuedBefore + BigInt(op.amount);
    else return undefined;
    const max = BigInt(condition.max);
    return issued <= max ? undefined : `issued supply would be ${issued}, over the cap of ${max}`;
  },
};
