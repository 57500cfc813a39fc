/** `issuerOnly`: for the listed kinds, only the token's issuer may act. */
import type { TokenOpKind } from '../objects.js';
import { exactKeys } from '../shape.js';
import type { ConditionModule } from './condition.js';
import { opKinds } from './op-kinds.js';

export interface IssuerOnlyCondition {
  kind: 'issuerOnly';
  ops: TokenOpKind[];
}

export const issuerOnly: ConditionModule<IssuerOnlyCondition> = {
  kind: 'issuerOnly',
  parse(raw, field) {
    exactKeys(raw, field, ['kind', 'ops']);
    return { kind: 'issuerOnly', ops: opKinds(raw.ops, `${field}.ops`) };
  },
  evaluate(condition, { signed, token }) {
    const { op, identity } = signed.state;
    if (op.kind === 'genesis' || !condition.ops.includes(op.kind)) return undefined;
    return identity.equals(token.issuer) ? undefined : `only the issuer may perform ${op.kind}`;
  },
};
