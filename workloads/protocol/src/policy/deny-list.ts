/** `denyList`: none of the acting identity, transfer.to and receive.from may be listed. */
import { exactKeys } from '../shape.js';
import type { ConditionModule } from './condition.js';
import { identitySet } from './op-kinds.js';

export interface DenyListCondition {
  kind: 'denyList';
  identities: Set<string>;
}

export const denyList: ConditionModule<DenyListCondition> = {
  kind: 'denyList',
  parse(raw, field) {
    exactKeys(raw, field, ['kind', 'identities']);
    return { kind: 'denyList', identities: identitySet(raw.identities, `${field}.identities`) };
  },
  evaluate(condition, { signed }) {
    const { op, identity } = signed.state;
    const involved = [identity.toString()];
    if (op.kind === 'token.transfer') involved.push(op.to.toString());
    if (op.kind === 'token.receive') involved.push(op.from.toString());
    const denied = involved.find((id) => condition.identities.has(id));
    return denied === undefined ? undefined : `${denied} is on the deny list`;
  },
};
