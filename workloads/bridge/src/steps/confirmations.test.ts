import { describe, expect, it } from '@jest/globals';
import { finalThrough, isFinal, nextScanRange } from './confirmations.js';

describe('confirmations', () => {
  it('counts the block itself as one confirmation', () => {
    expect(finalThrough(100, 1)).toBe(100);
    expect(finalThrough(100, 6)).toBe(95);
    expect(isFinal(95, 100, 6)).toBe(true);
    expect(isFinal(96, 100, 6)).toBe(false);
  });

  it('has nothing final before the chain is deep enough', () => {
    expect(finalThrough(3, 6)).toBe(-2);
    expect(nextScanRange(-1, 3, 6, 1000)).toBeUndefined();
  });

  it('scans from the block after the cursor to the final block, in bounded ranges', () => {
    expect(nextScanRange(-1, 10, 6, 1000)).toEqual({ from: 0, to: 5 });
    expect(nextScanRange(5, 10, 6, 1000)).toBeUndefined();
    expect(nextScanRange(5, 11, 6, 1000)).toEqual({ from: 6, to: 6 });
    expect(nextScanRange(0, 5000, 1, 1000)).toEqual({ from: 1, to: 1000 });
  });
});
