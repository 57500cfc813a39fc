import { describe, expect, it } from '@jest/globals';
import type { Condition } from '@dsm/cdk8s';
import { isWarning, mergeConditions, transitions, type ConditionValue } from './conditions.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';

const ready = (status: Condition['status'], reason: string): ConditionValue => ({
  type: 'Ready',
  status,
  reason,
  message: `${reason} message`,
});

describe('mergeConditions', () => {
  it('stamps new conditions with now and the generation', () => {
    const [c] = mergeConditions(undefined, [ready('False', 'WaitingForPods')], 3, T0);
    expect(c).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'WaitingForPods',
      message: 'WaitingForPods message',
      observedGeneration: 3,
      lastTransitionTime: T0,
    });
  });

  it('keeps lastTransitionTime while the status stays, even when reason and message change', () => {
    const first = mergeConditions(undefined, [ready('False', 'WaitingForPods')], 1, T0);
    const second = mergeConditions(first, [ready('False', 'StorageCatchingUp')], 2, T1);
    expect(second[0]).toMatchObject({
      reason: 'StorageCatchingUp',
      lastTransitionTime: T0,
      observedGeneration: 2,
    });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const first = mergeConditions(undefined, [ready('False', 'WaitingForPods')], 1, T0);
    const second = mergeConditions(first, [ready('True', 'AllComponentsReady')], 1, T1);
    expect(second[0]).toMatchObject({ status: 'True', lastTransitionTime: T1 });
  });

  it('keeps conditions not computed this time, and orders by CONDITION_TYPES', () => {
    const first = mergeConditions(
      undefined,
      [
        { type: 'StorageReady', status: 'True', reason: 'AllReplicasReady', message: '' },
        ready('True', 'AllComponentsReady'),
      ],
      1,
      T0,
    );
    const second = mergeConditions(
      first,
      [{ type: 'Degraded', status: 'True', reason: 'InvalidSpec', message: 'x' }],
      2,
      T1,
    );
    expect(second.map((c) => c.type)).toEqual(['Ready', 'Degraded', 'StorageReady']);
    expect(second[2]).toMatchObject({ status: 'True', lastTransitionTime: T0 });
  });
});

describe('transitions', () => {
  it('reports new conditions and changes of status or reason, not of message only', () => {
    const a = mergeConditions(undefined, [ready('False', 'WaitingForPods')], 1, T0);
    expect(transitions(undefined, a)).toEqual([
      { type: 'Ready', to: 'False', reason: 'WaitingForPods', message: 'WaitingForPods message' },
    ]);
    const sameReason = mergeConditions(a, [{ ...ready('False', 'WaitingForPods'), message: 'other' }], 1, T1);
    expect(transitions(a, sameReason)).toEqual([]);
    const b = mergeConditions(a, [ready('False', 'StorageCatchingUp')], 1, T1);
    expect(transitions(a, b)).toMatchObject([{ from: 'False', to: 'False', reason: 'StorageCatchingUp' }]);
  });

  it('warnings: losing readiness and becoming degraded', () => {
    expect(isWarning({ type: 'Ready', from: 'True', to: 'False', reason: 'x', message: '' })).toBe(true);
    expect(isWarning({ type: 'Ready', to: 'False', reason: 'x', message: '' })).toBe(false);
    expect(isWarning({ type: 'Ready', from: 'False', to: 'True', reason: 'x', message: '' })).toBe(false);
    expect(isWarning({ type: 'Degraded', from: 'False', to: 'True', reason: 'x', message: '' })).toBe(true);
    expect(isWarning({ type: 'Degraded', from: 'True', to: 'False', reason: 'x', message: '' })).toBe(false);
    expect(isWarning({ type: 'Progressing', from: 'False', to: 'True', reason: 'x', message: '' })).toBe(
      false,
    );
  });
});
