import { describe, expect, it } from 'vitest';
import { T0, bar } from '../test/factories.js';
import type { Bar } from './bar.js';
import { safeParseBar } from './bar-schema.js';
import type { RejectReason, ValidationContext, ValidationRules } from './validate.js';
import { REJECT_REASONS, checkBar, passesFast, resolveValidationRules, validateBar } from './validate.js';

interface Case {
  name: string;
  reason: RejectReason;
  fail: Bar | Record<string, unknown>;
  pass: Bar;
  rules?: ValidationRules;
  ctx?: ValidationContext;
}

const symbols = new Set(['TQQQ', 'SQQQ']);

/** One passing and one failing bar per rule of semantics.md ("Updates and validation"). */
const cases: Case[] = [
  { name: 'symbol must be tracked', reason: 'unknown_symbol', fail: bar({ symbol: 'AAPL' }), pass: bar({ symbol: 'SQQQ' }), ctx: { symbols } },
  { name: 'open must be finite', reason: 'non_finite', fail: bar({ open: Number.NaN }), pass: bar({ open: 100 }) },
  { name: 'high must be finite', reason: 'non_finite', fail: bar({ high: Number.POSITIVE_INFINITY }), pass: bar({ high: 101 }) },
  { name: 'volume must be finite', reason: 'non_finite', fail: bar({ volume: Number.NaN }), pass: bar({ volume: 0 }) },
  { name: 'vwap, when present, must be finite', reason: 'non_finite', fail: bar({ vwap: Number.NaN }), pass: bar({ vwap: 100.2 }) },
  { name: 'trade count, when present, is a non-negative integer', reason: 'non_finite', fail: bar({ tradeCount: 1.5 }), pass: bar({ tradeCount: 12 }) },
  { name: 'prices must be > 0', reason: 'non_positive_price', fail: bar({ open: 0, low: 0 }), pass: bar({ open: 99, low: 99 }) },
  { name: 'a negative close is rejected', reason: 'non_positive_price', fail: bar({ close: -1 }), pass: bar({ close: 99.5 }) },
  {
    name: 'prices must be within the configured bounds',
    reason: 'price_out_of_bounds',
    fail: bar({ high: 1500, close: 1200 }),
    pass: bar({ high: 101 }),
    rules: { minPrice: 1, maxPrice: 1000 },
  },
  {
    name: 'prices below the configured floor are rejected',
    reason: 'price_out_of_bounds',
    fail: bar({ open: 0.5, low: 0.5, close: 0.6, high: 0.7 }),
    pass: bar(),
    rules: { minPrice: 1 },
  },
  { name: 'volume must be >= 0', reason: 'negative_volume', fail: bar({ volume: -1 }), pass: bar({ volume: 0 }) },
  { name: 'low must be <= min(open, close)', reason: 'inconsistent_ohlc', fail: bar({ low: 100.2 }), pass: bar({ low: 100 }) },
  { name: 'high must be >= max(open, close)', reason: 'inconsistent_ohlc', fail: bar({ high: 100.4 }), pass: bar({ high: 100.5 }) },
  { name: 'low must be <= high', reason: 'inconsistent_ohlc', fail: bar({ open: 100, close: 100, low: 100.1, high: 100 }), pass: bar({ open: 100, close: 100, low: 100, high: 100 }) },
  {
    name: 'with a relative OHLC tolerance, only a larger inconsistency is rejected',
    reason: 'inconsistent_ohlc',
    fail: bar({ high: 100.3 }),
    pass: bar({ high: 100.49 }),
    rules: { ohlcTolerance: 0.001 },
  },
  { name: 'start must be on the interval grid', reason: 'off_grid', fail: bar({ start: T0 + 1_000 }), pass: bar({ start: T0 + 60_000 }) },
  { name: 'end must be start + interval', reason: 'bad_interval', fail: bar({ end: T0 + 30_000 }), pass: bar({ end: T0 + 60_000 }) },
  {
    name: 'start may be at most one interval ahead of the clock',
    reason: 'future',
    fail: bar({ start: T0 + 120_000 }),
    pass: bar({ start: T0 + 60_000 }),
    ctx: { now: T0 },
  },
  {
    name: 'start may be at most maxBarAgeMs old on the clock',
    reason: 'too_old',
    fail: bar({ start: T0 - 10 * 60_000 }),
    pass: bar({ start: T0 - 5 * 60_000 }),
    rules: { maxBarAgeMs: 5 * 60_000 },
    ctx: { now: T0 },
  },
  {
    name: 'start must not be older than the latest bar',
    reason: 'out_of_order',
    fail: bar({ start: T0 - 60_000 }),
    pass: bar({ start: T0 }),
    ctx: { latestStart: T0 },
  },
];

describe('bar validation: the fast validator and the zod schema agree on every rule', () => {
  for (const c of cases) {
    describe(c.name, () => {
      const rules = resolveValidationRules(c.rules);
      it(`rejects with '${c.reason}'`, () => {
        expect(validateBar(c.fail as Bar, rules, c.ctx)).toBe(c.reason);
        const parsed = safeParseBar(c.fail, c.rules, c.ctx);
        expect(parsed.ok).toBe(false);
        if (!parsed.ok) {
          expect(parsed.reason).toBe(c.reason);
          expect(parsed.error.code).toBe('invalid_bar');
          expect(parsed.error.message).toContain(c.reason);
        }
      });
      it('accepts the corrected bar', () => {
        expect(validateBar(c.pass, rules, c.ctx)).toBeUndefined();
        expect(safeParseBar(c.pass, c.rules, c.ctx)).toEqual({ ok: true, bar: c.pass });
      });
    });
  }

  it('covers every reject reason with a case (invalid_shape is the schema-only one; price_jump the data manager\'s, which knows the last close)', () => {
    const covered = new Set(cases.map((c) => c.reason));
    expect(REJECT_REASONS.filter((r) => !covered.has(r))).toEqual(['invalid_shape', 'price_jump']);
  });

  it('the tolerance accepts a high a hair below the close', () => {
    const b = bar({ high: 100.49 });
    expect(validateBar(b, resolveValidationRules({ ohlcTolerance: 0.001 }))).toBeUndefined();
  });

  it('the schema rejects a wrong shape with invalid_shape, naming the field', () => {
    const parsed = safeParseBar({ ...bar(), open: '100' });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toBe('invalid_shape');
      expect(parsed.error.field).toBe('open');
      expect(parsed.error.symbol).toBe('TQQQ');
    }
    const missing = safeParseBar({ symbol: 'TQQQ' });
    expect(missing.ok).toBe(false);
  });

  it('the schema rejects unknown fields rather than dropping them silently', () => {
    expect(safeParseBar({ ...bar(), extra: 1 }).ok).toBe(false);
  });

  it('checks rules in a fixed order: a bar breaking several reports the most basic', () => {
    const b = bar({ open: Number.NaN, volume: -5, start: T0 + 7 });
    expect(validateBar(b)).toBe('non_finite');
    expect(safeParseBar(b)).toMatchObject({ ok: false, reason: 'non_finite' });
  });
});

describe('passesFast: the one-expression shortcut never passes a bar checkBar rejects', () => {
  for (const c of cases) {
    // The shortcut knows no symbol set and no latest start: those rules are the data manager's own.
    if (c.ctx?.symbols !== undefined || c.ctx?.latestStart !== undefined) continue;
    it(`${c.name}: the failing bar is not passed; the corrected one is`, () => {
      const rules = resolveValidationRules(c.rules);
      const now = c.ctx?.now ?? T0;
      expect(passesFast(c.fail as Bar, rules, now)).toBe(false);
      expect(passesFast(c.pass, rules, now)).toBe(true);
    });
  }

  it('on 20 000 bars with random faults (NaN, infinities, strings, zero, off-grid, out of bounds): true only where checkBar passes', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const faults: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '100', 0, -1, 1e7, 0.004, 100.6, 99.4, T0 + 1, undefined, 1.5];
    const fields = ['open', 'high', 'low', 'close', 'volume', 'start', 'end', 'vwap', 'tradeCount'] as const;
    const ruleSets = [resolveValidationRules(), resolveValidationRules({ minPrice: 1, maxPrice: 1000, ohlcTolerance: 0.001, maxBarAgeMs: 5 * 60_000 })];
    let passed = 0;
    let agreed = 0;
    for (let n = 0; n < 20_000; n++) {
      const b: Record<string, unknown> = { ...bar() };
      const k = Math.floor(rnd() * 3);
      for (let j = 0; j < k; j++) b[fields[Math.floor(rnd() * fields.length)] as string] = faults[Math.floor(rnd() * faults.length)];
      const rules = ruleSets[n % 2] as ReturnType<typeof resolveValidationRules>;
      const now = T0 + Math.floor(rnd() * 3 - 1) * 60_000 * (n % 7);
      const fast = passesFast(b as unknown as Bar, rules, now);
      const full = checkBar(b as unknown as Bar, rules, { now }) === undefined;
      if (fast) passed++;
      if (!fast || full) agreed++;
      if (fast === full) continue;
      expect(full, `passesFast passed a bar checkBar rejects: ${JSON.stringify(b)}`).toBe(true);
    }
    expect(agreed).toBe(20_000);
    // Both kinds were drawn: the shortcut passed many and refused many.
    expect(passed).toBeGreaterThan(2_000);
    expect(passed).toBeLessThan(19_000);
  });
});
