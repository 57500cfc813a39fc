import { describe, expect, it } from '@jest/globals';
import { parseQuantity, sameQuantity } from './quantity.js';

describe('quantities', () => {
  it.each([
    ['1Gi', '1073741824'],
    ['1Gi', 1073741824],
    ['1024Mi', '1Gi'],
    ['0.5', '500m'],
    ['.5', '500m'],
    ['1', '1000m'],
    ['2k', '2000'],
    ['1e3', '1k'],
    ['1.5Gi', '1536Mi'],
    ['100n', '0.0000001'],
    ['20Gi', '21474836480'],
  ])('%s equals %s', (a, b) => {
    expect(sameQuantity(a, b)).toBe(true);
    expect(sameQuantity(b, a)).toBe(true);
  });

  it.each([
    ['1Gi', '1G'],
    ['1', '1001m'],
    ['500m', '5'],
    ['1Mi', '1M'],
  ])('%s differs from %s', (a, b) => {
    expect(sameQuantity(a, b)).toBe(false);
  });

  it.each(['', 'abc', '1Zi', '1.2.3', 'Gi', '15s', '1 Gi'])('%j is not a quantity', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
    expect(sameQuantity(text, text)).toBe(false);
  });

  it('keeps the sign', () => {
    expect(sameQuantity('-1', '-1000m')).toBe(true);
    expect(sameQuantity('-1', '1')).toBe(false);
  });
});
