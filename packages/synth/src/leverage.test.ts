import { describe, expect, it } from 'vitest';
import { leveragedPrice } from './leverage.js';

describe('leveragedPrice', () => {
  it('moves 3x the underlying from the previous close', () => {
    expect(leveragedPrice(100, 500, 505, 3)).toBeCloseTo(103, 10);
  });
  it('moves against the underlying for negative leverage', () => {
    expect(leveragedPrice(50, 400, 396, -2)).toBeCloseTo(51, 10);
  });
  it('is path-independent within the day (no compounding of minute returns)', () => {
    // Up 1 % then back: a product of leveraged minute returns would not return to 100.
    expect(leveragedPrice(100, 200, 200, 3)).toBe(100);
  });
});
