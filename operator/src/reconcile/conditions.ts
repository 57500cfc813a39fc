/**
 * metav1.Condition bookkeeping: a condition's lastTransitionTime moves only when its status flips, and the
 * transitions between two lists are what the reconciler reports as Events.
 */
import { CONDITION_TYPES, type Condition, type ConditionType } from '@dsm/cdk8s';

/** A condition as computed, before the bookkeeping fields. */
export interface ConditionValue {
  type: ConditionType;
  status: Condition['status'];
  reason: string;
  message: string;
}

/** `next` with lastTransitionTime kept from `previous` where the status did not change, in CONDITION_TYPES order. */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionValue[],
  generation: number | undefined,
  now: string,
): Condition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  const byType = new Map(next.map((c) => [c.type, c]));
  const merged: Condition[] = [];
  for (const type of CONDITION_TYPES) {
    const value = byType.get(type) ?? before.get(type);
    if (value === undefined) continue;
    const old = before.get(type);
    merged.push({
      type,
      status: value.status,
      reason: value.reason,
      message: value.message,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      lastTransitionTime: old !== undefined && old.status === value.status ? old.lastTransitionTime : now,
    });
  }
  return merged;
}

export interface Transition {
  type: ConditionType;
  from?: Condition['status'];
  to: Condition['status'];
  reason: string;
  message: string;
}

/** Conditions whose status or reason changed (a new condition is a transition from nothing). */
export function transitions(
  previous: readonly Condition[] | undefined,
  next: readonly Condition[],
): Transition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return next
    .filter((c) => {
      const old = before.get(c.type);
      return old === undefined || old.status !== c.status || old.reason !== c.reason;
    })
    .map((c) => ({
      type: c.type,
      ...(before.get(c.type) ? { from: before.get(c.type)!.status } : {}),
      to: c.status,
      reason: c.reason,
      message: c.message,
    }));
}

/** Whether a transition is bad news (Warning Event): a component or the cluster stopped being ready, or Degraded. */
export function isWarning(t: Transition): boolean {
  if (t.type === 'Degraded') return t.to === 'True';
  if (t.type === 'Progressing') return false;
  return t.to !== 'True' && t.from === 'True';
}
