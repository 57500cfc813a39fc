/** `amountLimit`: a single operation of the named kind moves at most `max`. */
import { AMOUNT_OP_KINDS, type AmountOpKind } from '../objects.js';
import { amount, exactKeys, literal } from '../shape.js';
import type { ConditionModule } from './condition.js';

export interface AmountLimitCondition {
  kind: 'amountLimit';
  op: AmountOpKind;
  max: string;
}

export const amountLimit: ConditionModule<AmountLimitCondition> = {
  kind: 'amountLimit',
  parse(raw, field) {
    exactKeys(raw, field, ['kind', 'op', 'max']);
    return {
      kind: 'amountLimit',
      op: literal(raw.op, `${field}.op`, AMOUNT_OP_KINDS),
      max: amount(raw.max, `${field}.max`),
    };
  },
  evaluate(condition, { signed }) {
    const op = signed.state.op;
    if (op.kind !== condition.op || !('amount' in op)) return undefined;
    return BigInt(op.amount) <= BigInt(condition.max)
      ? undefined
      : `${op.kind} of ${op.amount} is over the limit of ${condition.max}`;
  },
};
