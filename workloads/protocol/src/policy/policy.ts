/** A CTPA policy: validation of its conditions (§6) and the pure evaluator. */
import { DsmError, isDsmError } from '../errors.js';
import type { Policy } from '../objects.js';
import { amountLimit, type AmountLimitCondition } from './amount-limit.js';
import { allowList, type AllowListCondition } from './allow-list.js';
import { coSign, type CoSignCondition } from './co-sign.js';
import type { ConditionModule, PolicyInput } from './condition.js';
import { denyList, type DenyListCondition } from './deny-list.js';
import { issuerOnly, type IssuerOnlyCondition } from './issuer-only.js';
import { operations, type OperationsCondition } from './operations.js';
import { supplyCap, type SupplyCapCondition } from './supply-cap.js';
import { timeWindow, type TimeWindowCondition } from './time-window.js';

export type Condition =
  | OperationsCondition
  | IssuerOnlyCondition
  | SupplyCapCondition
  | AmountLimitCondition
  | TimeWindowCondition
  | AllowListCondition
  | DenyListCondition
  | CoSignCondition;

export type ConditionKind = Condition['kind'];

const MODULES: { [K in ConditionKind]: ConditionModule<Extract<Condition, { kind: K }>> } = {
  operations,
  issuerOnly,
  supplyCap,
  amountLimit,
  timeWindow,
  allowList,
  denyList,
  coSign,
};

export const CONDITION_KINDS = Object.keys(MODULES) as ConditionKind[];

/** A policy whose every condition has been checked; only these are evaluated. */
export interface ValidPolicy {
  readonly policy: Policy;
  readonly conditions: readonly Condition[];
}

export type PolicyVerdict =
  { pass: true } | { pass: false; index: number; kind: ConditionKind; reason: string };

function moduleFor(kind: string): ConditionModule<Condition> | undefined {
  return Object.hasOwn(MODULES, kind)
    ? (MODULES[kind as ConditionKind] as ConditionModule<Condition>)
    : undefined;
}

/**
 * Checks every condition; an unknown kind or a missing, extra or mistyped field makes the whole policy
 * invalid (E_POLICY, naming the condition and field). Fails closed: nothing partial is ever evaluated.
 */
export function validatePolicy(policy: Policy): ValidPolicy {
  const conditions = policy.conditions.map((raw, index) => {
    const field = `conditions[${index}]`;
    const module = moduleFor(raw.kind);
    if (module === undefined) {
      throw new DsmError('E_POLICY', `invalid policy: unknown condition kind "${raw.kind}" at ${field}`, {
        condition: index,
        kind: raw.kind,
        field: `${field}.kind`,
      });
    }
    try {
      return module.parse(raw, field);
    } catch (e) {
      if (!isDsmError(e, 'E_DECODE')) throw e;
      throw new DsmError('E_POLICY', `invalid policy: ${e.message}`, {
        condition: index,
        kind: raw.kind,
        field: e.details.field,
      });
    }
  });
  return { policy, conditions };
}

/**
 * Evaluates every condition in order and returns the first failure. `operations` is skipped on token.create
 * (the create itself is never forbidden by the list of allowed operations).
 */
export function evaluatePolicy(valid: ValidPolicy, input: PolicyInput): PolicyVerdict {
  const isCreate = input.signed.state.op.kind === 'token.create';
  for (const [index, condition] of valid.conditions.entries()) {
    if (isCreate && condition.kind === 'operations') continue;
    const reason = moduleFor(condition.kind)!.evaluate(condition, input);
    if (reason !== undefined) return { pass: false, index, kind: condition.kind, reason };
  }
  return { pass: true };
}

/** Evaluates and throws E_POLICY naming the failing condition. */
export function enforcePolicy(valid: ValidPolicy, input: PolicyInput): void {
  const verdict = evaluatePolicy(valid, input);
  if (!verdict.pass) {
    throw new DsmError(
      'E_POLICY',
      `policy condition ${verdict.index} (${verdict.kind}) failed: ${verdict.reason}`,
      {
        condition: verdict.index,
        kind: verdict.kind,
        reason: verdict.reason,
        n: input.signed.state.n,
      },
    );
  }
}
