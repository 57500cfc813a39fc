/** `operations`: only the listed kinds may act on the token; create and receive always pass. */
import type { TokenOpKind } from '../objects.js';
import { exactKeys } from '../shape.js';
import type { ConditionModule } from './condition.js';
import { opKinds } from './op-kinds.js';

export interface OperationsCondition {
  kind: 'operations';
  allow: TokenOpKind[];
}

export const operations: ConditionModule<OperationsCondition> = {
  kind: 'operations',
  parse(raw, field) {
    exactKeys(raw, field, ['kind', 'allow']);
    return { kind: 'operations', allow: opKinds(raw.allow, `${field}.allow`) };
  },
  evaluate(condition, { signed }) {
    const kind = signed.state.op.kind;
    if (kind === 'genesis' || kind === 'token.create' || kind === 'token.receive') return undefined;
    return condition.allow.includes(kind) ? undefined : `${kind} is not among the allowed operations`;
  },
};
