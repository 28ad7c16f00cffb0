import type { Clock, SymbolConfig } from '@feed/core';
import { MINUTE_MS, nyse, parseOptions, symbolsOf } from '@feed/core';
import { z } from 'zod';

/** What the manager needs of a market calendar: regular-session time in an interval. */
export interface MarketHours {
  openMsBetween(from: number, to: number): number;
}

/** A market that never closes (24/7 instruments, or tests that ignore the calendar). */
export const ALWAYS_OPEN: MarketHours = Object.freeze({
  openMsBetween: (from: number, to: number): number => (to > from ? to - from : 0),
});

/** Options of `MultiSymbolDataManager`. */
export interface DataManagerOptions {
  /** The tracked symbols, or a symbol configuration from `@feed/core` (its symbols, in file order). */
  symbols: readonly string[] | SymbolConfig;
  /** The only source of time: a `ReplayClock` for replay, a `SystemClock` live, a `ManualClock` in tests. */
  clock: Clock;
  /**
   * Forward-filled intervals allowed before a symbol becomes invalid.
   * @default 5
   */
  maxForwardFills?: number;
  /**
   * Age of the latest close beyond which a symbol is invalid, ms.
   * @default 300000
   */
  maxStalenessMs?: number;
  /**
   * Time constant of the staleness weight `exp(-age / tau)`, ms.
   * @default 60000
   */
  stalenessTauMs?: number;
  /**
   * Real bars kept per symbol.
   * @default 500
   */
  historySize?: number;
  /**
   * How long after a minute's end the manager waits for missing symbols before emitting its slice, ms.
   * @default 5000
   */
  sliceGraceMs?: number;
  /**
   * Bar interval, ms.
   * @default 60000
   */
  intervalMs?: number;
  /**
   * Lowest accepted price (prices must be > 0 in any case).
   * @default 0
   */
  minPrice?: number;
  /**
   * Highest accepted price.
   * @default 1000000
   */
  maxPrice?: number;
  /**
   * Relative tolerance of the OHLC consistency checks.
   * @default 0
   */
  ohlcTolerance?: number;
  /**
   * Oldest accepted bar, by clock time minus start, ms. A week admits a warm-up across a long weekend.
   * @default 604800000
   */
  maxBarAgeMs?: number;
  /**
   * A symbol counts towards `usable` when valid and younger than this, ms.
   * @default 120000
   */
  usableMaxAgeMs?: number;
  /**
   * Market hours for forward-fill counts: fills are counted only while the market is open.
   * @default nyse (the NYSE calendar from `@feed/core`)
   */
  calendar?: MarketHours;
  /**
   * Sessions whose per-minute coverage (`coverage()`) is kept, newest first. Coverage needs a
   * calendar with sessions (`sessionAt`); with `ALWAYS_OPEN` it is off.
   * @default 10
   */
  coverageSessions?: number;
  /**
   * Reject a bar whose open moved more than this fraction from the symbol's last close (0.5: more
   * than 50 % up or down), reason `price_jump`: a bad tick, or a split nobody announced. A corporate
   * action announced before the first bar of its ex-date rebases the history, so the first bar on
   * the new basis passes. Off when undefined.
   * @default undefined
   */
  maxPriceJump?: number | undefined;
}

/** The data manager's options with every default filled in (`dm.options`). */
export interface ResolvedOptions {
  readonly symbols: readonly string[];
  readonly clock: Clock;
  readonly maxForwardFills: number;
  readonly maxStalenessMs: number;
  readonly stalenessTauMs: number;
  readonly historySize: number;
  readonly sliceGraceMs: number;
  readonly intervalMs: number;
  readonly minPrice: number;
  readonly maxPrice: number;
  readonly ohlcTolerance: number;
  readonly maxBarAgeMs: number;
  readonly usableMaxAgeMs: number;
  readonly calendar: MarketHours;
  readonly coverageSessions: number;
  readonly maxPriceJump: number | undefined;
}

const nonNegInt = z.number().int('must be an integer').min(0, 'must be >= 0');
const positive = z.number().positive('must be > 0');
const nonNeg = z.number().min(0, 'must be >= 0');

const schema = z.object({
  symbols: z
    .array(z.string().min(1, 'must not be empty'))
    .min(1, 'must list at least one symbol')
    .refine((s) => new Set(s).size === s.length, 'must not list a symbol twice'),
  clock: z.custom<Clock>(
    (c) => typeof c === 'object' && c !== null && typeof (c as Clock).now === 'function' && typeof (c as Clock).onTick === 'function',
    'must be a Clock (now() and onTick())',
  ),
  maxForwardFills: nonNegInt.default(5),
  maxStalenessMs: nonNeg.default(300_000),
  stalenessTauMs: positive.default(60_000),
  historySize: z.number().int('must be an integer').min(1, 'must be >= 1').max(1_000_000, 'must be <= 1000000').default(500),
  sliceGraceMs: nonNeg.default(5_000),
  intervalMs: z.number().int('must be an integer').positive('must be > 0').default(MINUTE_MS),
  minPrice: nonNeg.default(0),
  maxPrice: positive.default(1_000_000),
  ohlcTolerance: nonNeg.max(1, 'must be <= 1').default(0),
  maxBarAgeMs: positive.default(7 * 24 * 3_600_000),
  usableMaxAgeMs: nonNeg.default(120_000),
  calendar: z
    .custom<MarketHours>((c) => typeof c === 'object' && c !== null && typeof (c as MarketHours).openMsBetween === 'function', 'must have openMsBetween(from, to)')
    .default(nyse),
  coverageSessions: z.number().int('must be an integer').min(0, 'must be >= 0').max(1000, 'must be <= 1000').default(10),
  maxPriceJump: z.number().positive('must be > 0').optional(),
}).refine((r) => r.maxPrice >= r.minPrice, { message: 'must be >= minPrice', path: ['maxPrice'] });

/** Validates options once, at construction; throws a `ConfigError` naming each bad option. */
export function resolveOptions(options: DataManagerOptions): ResolvedOptions {
  const raw = options as Partial<DataManagerOptions> | undefined;
  const symbols = raw?.symbols;
  const list = symbols !== undefined && !Array.isArray(symbols) && typeof symbols === 'object' ? symbolsOf(symbols as SymbolConfig) : symbols;
  const parsed = parseOptions(schema, { ...raw, symbols: list }, 'data manager options');
  return { ...parsed, maxPriceJump: parsed.maxPriceJump };
}
