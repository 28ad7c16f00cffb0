import { DEFAULT_SYMBOL_CONFIG } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { describeUniverse } from './universe.js';

describe('describeUniverse', () => {
  it('lists the six default ETFs with leverage and underlying', () => {
    const lines = describeUniverse(DEFAULT_SYMBOL_CONFIG);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^TQQQ\s+\+3x QQQ/);
    expect(lines[3]).toMatch(/^SDS\s+-2x SPY/);
  });
});
