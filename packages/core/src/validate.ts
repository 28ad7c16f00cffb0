import type { Bar } from './bar.js';
import { MINUTE_MS } from './bar.js';

/**
 * Why a bar was rejected. The same codes are used by the zod schema (`barSchema`), the fast
 * validator (`validateBar`) and the data manager's statistics.
 */
export type RejectReason =
  | 'invalid_shape'
  | 'unknown_symbol'
  | 'non_finite'
  | 'non_positive_price'
  | 'price_out_of_bounds'
  | 'negative_volume'
  | 'inconsistent_ohlc'
  | 'off_grid'
  | 'bad_interval'
  | 'future'
  | 'too_old'
  | 'out_of_order'
  /** The data manager's `maxPriceJump`: the open moved more than allowed from the last close (and no corporate action explains it). */
  | 'price_jump';

/** Every reason a bar can be rejected for, in the order statistics list them. */
export const REJECT_REASONS: readonly RejectReason[] = [
  'invalid_shape',
  'unknown_symbol',
  'non_finite',
  'non_positive_price',
  'price_out_of_bounds',
  'negative_volume',
  'inconsistent_ohlc',
  'off_grid',
  'bad_interval',
  'future',
  'too_old',
  'out_of_order',
  'price_jump',
];

/** The rules of semantics.md ("Updates and validation"); every field has a documented default. */
export interface ValidationRules {
  /**
   * Bar interval in milliseconds; `start` must be a multiple of it and `end - start` equal to it.
   * @default 60000
   */
  intervalMs?: number;
  /**
   * Lowest accepted price (inclusive). Prices must also be > 0 whatever this says.
   * @default 0
   */
  minPrice?: number;
  /**
   * Highest accepted price (inclusive).
   * @default 1000000
   */
  maxPrice?: number;
  /**
   * Relative tolerance for the OHLC consistency checks: `low <= min(open, close) * (1 + tol)`,
   * `high >= max(open, close) * (1 - tol)`, `low <= high * (1 + tol)`.
   * @default 0
   */
  ohlcTolerance?: number;
  /**
   * How old (clock time minus `start`) a bar may be before it is rejected as `too_old`.
   * `Infinity` accepts bars of any age (replays of old files with a clock that starts late).
   * @default Infinity
   */
  maxBarAgeMs?: number;
}

/** What the stateful rules need: the tracked symbols, the clock time, the symbol's latest start. */
export interface ValidationContext {
  /** When given, a bar for any other symbol is `unknown_symbol`. */
  symbols?: ReadonlySet<string>;
  /** Clock time; when given, a start more than one interval ahead is `future`, one older than `maxBarAgeMs` is `too_old`. */
  now?: number;
  /** The symbol's latest accepted start; when given, an earlier start is `out_of_order`. */
  latestStart?: number;
}

/** Validation rules with every default filled in. */
export interface ResolvedValidationRules {
  readonly intervalMs: number;
  readonly minPrice: number;
  readonly maxPrice: number;
  readonly ohlcTolerance: number;
  readonly maxBarAgeMs: number;
}

/** The rules used when none are given. */
export const DEFAULT_VALIDATION_RULES: ResolvedValidationRules = Object.freeze({
  intervalMs: MINUTE_MS,
  minPrice: 0,
  maxPrice: 1_000_000,
  ohlcTolerance: 0,
  maxBarAgeMs: Number.POSITIVE_INFINITY,
});

/** Fills in the defaults of partial validation rules. */
export function resolveValidationRules(rules: ValidationRules = {}): ResolvedValidationRules {
  return {
    intervalMs: rules.intervalMs ?? DEFAULT_VALIDATION_RULES.intervalMs,
    minPrice: rules.minPrice ?? DEFAULT_VALIDATION_RULES.minPrice,
    maxPrice: rules.maxPrice ?? DEFAULT_VALIDATION_RULES.maxPrice,
    ohlcTolerance: rules.ohlcTolerance ?? DEFAULT_VALIDATION_RULES.ohlcTolerance,
    maxBarAgeMs: rules.maxBarAgeMs ?? DEFAULT_VALIDATION_RULES.maxBarAgeMs,
  };
}

/** The result of a failed check: the reason and the field it concerns (for messages). */
export interface BarRejection {
  readonly reason: RejectReason;
  readonly field: keyof Bar | undefined;
  readonly message: string;
}

function reject(reason: RejectReason, field: keyof Bar | undefined, message: string): BarRejection {
  return { reason, field, message };
}

const isNum = (v: number): boolean => typeof v === 'number' && Number.isFinite(v);

/**
 * The value rules, checked in a fixed order (cheapest and most basic first) so that a bar that breaks
 * several rules always reports the same one. Returns `undefined` when the bar passes.
 *
 * This is the single implementation of the rules: the zod schema calls it too, so the two cannot
 * disagree. It allocates only when it rejects.
 */
export function checkBar(
  bar: Bar,
  rules: ResolvedValidationRules = DEFAULT_VALIDATION_RULES,
  ctx?: ValidationContext,
): BarRejection | undefined {
  if (ctx?.symbols !== undefined && !ctx.symbols.has(bar.symbol)) {
    return reject('unknown_symbol', 'symbol', `unknown symbol '${bar.symbol}'`);
  }
  const { open, high, low, close, volume } = bar;
  if (!isNum(open)) return reject('non_finite', 'open', `open is not a finite number (${String(open)})`);
  if (!isNum(high)) return reject('non_finite', 'high', `high is not a finite number (${String(high)})`);
  if (!isNum(low)) return reject('non_finite', 'low', `low is not a finite number (${String(low)})`);
  if (!isNum(close)) return reject('non_finite', 'close', `close is not a finite number (${String(close)})`);
  if (!isNum(volume)) return reject('non_finite', 'volume', `volume is not a finite number (${String(volume)})`);
  if (!isNum(bar.start)) return reject('non_finite', 'start', `start is not a finite number (${String(bar.start)})`);
  if (!isNum(bar.end)) return reject('non_finite', 'end', `end is not a finite number (${String(bar.end)})`);
  if (bar.vwap !== undefined && !isNum(bar.vwap)) {
    return reject('non_finite', 'vwap', `vwap is not a finite number (${String(bar.vwap)})`);
  }
  if (bar.tradeCount !== undefined && !(Number.isInteger(bar.tradeCount) && bar.tradeCount >= 0)) {
    return reject('non_finite', 'tradeCount', `tradeCount is not a non-negative integer (${String(bar.tradeCount)})`);
  }
  if (open <= 0 || high <= 0 || low <= 0 || close <= 0) {
    const field = open <= 0 ? 'open' : high <= 0 ? 'high' : low <= 0 ? 'low' : 'close';
    return reject('non_positive_price', field, `${field} is ${bar[field]}: prices must be > 0`);
  }
  const { minPrice, maxPrice } = rules;
  if (low < minPrice || high > maxPrice || open < minPrice || open > maxPrice || close < minPrice || close > maxPrice) {
    const field =
      open < minPrice || open > maxPrice ? 'open' : high > maxPrice || high < minPrice ? 'high' : low < minPrice || low > maxPrice ? 'low' : 'close';
    return reject('price_out_of_bounds', field, `${field} ${bar[field]} is outside [${minPrice}, ${maxPrice}]`);
  }
  if (volume < 0) return reject('negative_volume', 'volume', `volume is negative (${volume})`);
  const tol = rules.ohlcTolerance;
  if (
    low > Math.min(open, close) * (1 + tol) ||
    high < Math.max(open, close) * (1 - tol) ||
    low > high * (1 + tol)
  ) {
    return reject(
      'inconsistent_ohlc',
      undefined,
      `inconsistent OHLC (open ${open}, high ${high}, low ${low}, close ${close})`,
    );
  }
  const interval = rules.intervalMs;
  // Not `%`: on doubles (epoch ms are beyond small integers) it is a call to fmod, the slowest step here.
  if (bar.start - Math.floor(bar.start / interval) * interval !== 0) {
    return reject('off_grid', 'start', `start ${bar.start} is not on the ${interval} ms grid`);
  }
  if (bar.end - bar.start !== interval) {
    return reject('bad_interval', 'end', `end - start is ${bar.end - bar.start} ms, expected ${interval}`);
  }
  if (ctx?.now !== undefined) {
    if (bar.start > ctx.now + interval) {
      return reject('future', 'start', `start is ${bar.start - ctx.now} ms ahead of the clock`);
    }
    if (ctx.now - bar.start > rules.maxBarAgeMs) {
      return reject('too_old', 'start', `start is ${ctx.now - bar.start} ms old (max ${rules.maxBarAgeMs})`);
    }
  }
  if (ctx?.latestStart !== undefined && bar.start < ctx.latestStart) {
    return reject('out_of_order', 'start', `start ${bar.start} is older than the latest bar's start ${ctx.latestStart}`);
  }
  return undefined;
}

/**
 * Whether `bar` passes every value rule of `checkBar` at clock time `now`, as one expression of
 * comparisons (small enough to be inlined into a caller's loop). True only when `checkBar(bar, rules,
 * { now })` would return `undefined`; false means "ask `checkBar` for the reason" (it may still pass:
 * this shortcut is stricter at a few edges, such as a high below `minPrice` within the tolerance).
 * Tested against `checkBar` on every rule's edge.
 */
export function passesFast(bar: Bar, rules: ResolvedValidationRules, now: number): boolean {
  return passesFastValues(bar.open, bar.high, bar.low, bar.close, bar.volume, bar.start, bar.end, bar.vwap, bar.tradeCount, rules, now);
}

/** `passesFast` on a bar's fields. Typed `unknown`: a bar from JSON or another library may hold anything. */
function passesFastValues(
  open: unknown,
  high: unknown,
  low: unknown,
  close: unknown,
  volume: unknown,
  start: unknown,
  end: unknown,
  vwap: unknown,
  trades: unknown,
  rules: ResolvedValidationRules,
  now: number,
): boolean {
  // Prices must be > 0 and >= minPrice: the smallest positive double stands for "> 0".
  const min = rules.minPrice > 0 ? rules.minPrice : Number.MIN_VALUE;
  const max = rules.maxPrice;
  const tol = rules.ohlcTolerance;
  const interval = rules.intervalMs;
  return (
    typeof open === 'number' &&
    typeof high === 'number' &&
    typeof low === 'number' &&
    typeof close === 'number' &&
    typeof volume === 'number' &&
    typeof start === 'number' &&
    typeof end === 'number' &&
    // In [min, max] with min > 0: finite and positive (a NaN fails every comparison).
    open >= min &&
    open <= max &&
    high >= min &&
    high <= max &&
    low >= min &&
    low <= max &&
    close >= min &&
    close <= max &&
    volume >= 0 &&
    volume < Number.POSITIVE_INFINITY &&
    (vwap === undefined || (typeof vwap === 'number' && vwap - vwap === 0)) &&
    (trades === undefined || (Number.isInteger(trades) && (trades as number) >= 0)) &&
    low <= (open < close ? open : close) * (1 + tol) &&
    high >= (open > close ? open : close) * (1 - tol) &&
    low <= high * (1 + tol) &&
    // A finite start on the grid, one interval long: NaN and infinities fail these.
    end - start === interval &&
    start - Math.floor(start / interval) * interval === 0 &&
    start <= now + interval &&
    now - start <= rules.maxBarAgeMs
  );
}

/** The hot-path validator: the reason a bar is rejected, or `undefined` when it passes. */
export function validateBar(
  bar: Bar,
  rules: ResolvedValidationRules = DEFAULT_VALIDATION_RULES,
  ctx?: ValidationContext,
): RejectReason | undefined {
  return checkBar(bar, rules, ctx)?.reason;
}
