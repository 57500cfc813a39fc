import { describe, expect, it } from '@jest/globals';
import { alice, bob, input, ops, parseOutcome } from '../../test/policy-input.js';
import { timeWindow } from './time-window.js';

describe('timeWindow', () => {
  const c = timeWindow.parse({ kind: 'timeWindow', notBefore: 1000, notAfter: 2000 }, 'c');
  it('passes inside the window, bounds inclusive', () => {
    expect(timeWindow.evaluate(c, input(alice, ops.burn('1'), { t: 1000 }))).toBeUndefined();
    expect(timeWindow.evaluate(c, input(alice, ops.burn('1'), { t: 2000 }))).toBeUndefined();
  });
  it('fails before and after', () => {
    expect(timeWindow.evaluate(c, input(alice, ops.burn('1'), { t: 999 }))).toMatch(/before/);
    expect(timeWindow.evaluate(c, input(alice, ops.transfer('1', bob), { t: 2001 }))).toMatch(/after/);
  });
  it('never holds back a receive; an absent bound is open', () => {
    expect(timeWindow.evaluate(c, input(alice, ops.receive('1', bob), { t: 5000 }))).toBeUndefined();
    const open = timeWindow.parse({ kind: 'timeWindow', notAfter: 10 }, 'c');
    expect(timeWindow.evaluate(open, input(alice, ops.burn('1'), { t: 0 }))).toBeUndefined();
  });
  it('rejects non-integer bounds', () => {
    expect(parseOutcome(() => timeWindow.parse({ kind: 'timeWindow', notBefore: 1.5 }, 'c'))).toBe(
      'c.notBefore',
    );
    expect(parseOutcome(() => timeWindow.parse({ kind: 'timeWindow', notAfter: -1 }, 'c'))).toBe(
      'c.notAfter',
    );
  });
});
