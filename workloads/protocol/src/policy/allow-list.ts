/**
 * `allowList`: recipient mode lists who may receive (transfer.to, and the receiving identity of a receive);
 * holder mode lists who may act at all, for every kind.
 */
import { exactKeys, literal } from '../shape.js';
import type { ConditionModule } from './condition.js';
import { identitySet } from './op-kinds.js';

export interface AllowListCondition {
  kind: 'allowList';
  identities: Set<string>;
  appliesTo: 'recipient' | 'holder';
}

export const allowList: ConditionModule<AllowListCondition> = {
  kind: 'allowList',
  parse(raw, field) {
    exactKeys(raw, field, ['kind', 'identities', 'appliesTo']);
    return {
      kind: 'allowList',
      identities: identitySet(raw.identities, `${field}.identities`),
      appliesTo: literal(raw.appliesTo, `${field}.appliesTo`, ['recipient', 'holder'] as const),
    };
  },
  evaluate(condition, { signed }) {
    const { op, identity } = signed.state;
    let subject: string | undefined;
    if (condition.appliesTo === 'holder') subject = identity.toString();
    else if (op.kind === 'token.transfer') subject = op.to.toString();
    else if (op.kind === 'token.receive') subject = identity.toString();
    if (subject === undefined || condition.identities.has(subject)) return undefined;
    return `${subject} is not on the ${condition.appliesTo} allow list`;
  },
};
