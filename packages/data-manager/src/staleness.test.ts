import { describe, expect, it } from 'vitest';
import { stalenessWeight } from './staleness.js';

describe('stalenessWeight', () => {
  it('weighs a bar that has just closed 1.0', () => {
    expect(stalenessWeight(0)).toBe(1);
  });
  it('weighs a bar whose close is 60 s old 0.368 (the original design check)', () => {
    expect(stalenessWeight(60_000)).toBeCloseTo(0.368, 3);
  });
  it('weighs 120 s 0.135 and honours a custom time constant', () => {
    expect(stalenessWeight(120_000)).toBeCloseTo(0.135, 3);
    expect(stalenessWeight(30_000, 30_000)).toBeCloseTo(Math.exp(-1), 12);
  });
  it('treats a clock behind the bar as age 0', () => {
    expect(stalenessWeight(-5_000)).toBe(1);
  });
});
