import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDecimal } from './decimal.js';

describe('parseDecimal', () => {
  it('agrees with Number() on plain decimals, bit for bit (fast-check, saved seed)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.integer({ min: 0, max: 6 }), (int, k) => {
        const s = (int / 10 ** k).toFixed(k);
        expect(Object.is(parseDecimal(s), Number(s))).toBe(true);
      }),
      { seed: 4_242, numRuns: 5000 },
    );
  });
  it('agrees with Number() on the real files\' shapes and on the edge cases', () => {
    for (const s of ['56.68', '645786.0', '0.0001', '102.3103', '1743514200', '-3.5', '+2', '.5', '5.', '0', '1e3', '1.5E+06', '12345678901234567', ' 7 ']) {
      expect(Object.is(parseDecimal(s), Number(s))).toBe(true);
    }
  });
  it('is NaN for what is not a number, including an empty cell', () => {
    for (const s of ['', '  ', 'x', '1.2.3', '-', '--1', '1-']) expect(parseDecimal(s)).toBeNaN();
  });
  it('reads decimals only: hex, binary, octal and Infinity are NaN (Number() would take them)', () => {
    for (const s of ['0x21C', '0b101', '0o17', 'Infinity', '-Infinity', '1_000', '1 000']) expect(parseDecimal(s)).toBeNaN();
  });
});
