/** `timeWindow`: notBefore ≤ state.t ≤ notAfter (absent bound = open); receives are never held back. */
import { exactKeys, uint } from '../shape.js';
import type { ConditionModule } from './condition.js';

export interface TimeWindowCondition {
  kind: 'timeWindow';
  notBefore?: number;
  notAfter?: number;
}

export const timeWindow: ConditionModule<TimeWindowCondition> = {
  kind: 'timeWindow',
  parse(raw, field) {
    exactKeys(raw, field, ['kind'], ['notBefore', 'notAfter']);
    const condition: TimeWindowCondition = { kind: 'timeWindow' };
    if ('notBefore' in raw) condition.notBefore = uint(raw.notBefore, `${field}.notBefore`);
    if ('notAfter' in raw) condition.notAfter = uint(raw.notAfter, `${field}.notAfter`);
    return condition;
  },
  evaluate(condition, { signed }) {
    const { t, op } = signed.state;
    if (op.kind === 'token.receive') return undefined;
    if (condition.notBefore !== undefined && t < condition.notBefore) {
      return `state time ${t} is before ${condition.notBefore}`;
    }
    if (condition.notAfter !== undefined && t > condition.notAfter) {
      return `state time ${t} is after ${condition.notAfter}`;
    }
    return undefined;
  },
};
