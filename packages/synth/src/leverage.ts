import type { Bar, SymbolConfig } from '@feed/core';
import { invalidOption, makeBar } from '@feed/core';
import { sessionRanges } from './sessions.js';

/**
 * The daily-reset leverage model the funds follow: within a session,
 * price(t) = prevCloseEtf * (1 + L * (underlying(t) / prevCloseUnderlying - 1)).
 * Not a product of leveraged minute returns.
 */
export function leveragedPrice(prevCloseEtf: number, prevCloseUnderlying: number, underlying: number, leverage: number): number {
  return prevCloseEtf * (1 + leverage * (underlying / prevCloseUnderlying - 1));
}

/** A leveraged fund to generate: its symbol, leverage and start price. */
export interface LeveragedSpec {
  /** The generated symbol, e.g. `UPRO`. */
  symbol: string;
  /** Daily leverage, e.g. 3 or -2. */
  leverage: number;
  /**
   * The fund's price at the reference point of the first session: the underlying's previous close
   * when `firstReference` is given, else the first bar's open.
   */
  initialPrice: number;
  /**
   * Yearly expense ratio as a fraction (0.0091 = 0.91 %), charged daily (1/252 a session) as a drag
   * on the previous close.
   * @default 0
   */
  expenseRatio?: number;
  /**
   * Volume = round(underlying volume x volumeFactor).
   * @default 1
   */
  volumeFactor?: number;
}

/** Options of `generateLeveraged`. */
export interface LeveragedOptions {
  /** The underlying's close before the first bar (the first session's reference); default: the first bar's open. */
  firstReference?: number;
  /**
   * Decimal places of generated prices.
   * @default 4
   */
  decimals?: number;
  /**
   * Bar interval.
   * @default 60000
   */
  intervalMs?: number;
}

/** Lowest generated price: a fund whose model price would reach zero is floored here. */
export const MIN_PRICE = 0.0001;

const TRADING_DAYS = 252;

/**
 * Leveraged-ETF bars from the underlying's bars (time-sorted), session by session: each bar's open,
 * high, low and close are mapped through the daily-reset model from the previous session's closes;
 * for negative leverage high and low swap. Prices are rounded (the map is monotone, so rounding
 * keeps low <= open, close <= high) and floored at `MIN_PRICE`; every bar passes `@feed/core`'s
 * validation.
 */
export function generateLeveraged(underlying: readonly Bar[], spec: LeveragedSpec, options: LeveragedOptions = {}): Bar[] {
  const L = spec.leverage;
  if (!Number.isFinite(L) || L === 0) {
    throw invalidOption('leverage', 'must be a finite, non-zero number', `leverage of ${spec.symbol} must be a finite, non-zero number`);
  }
  if (!(spec.initialPrice > 0)) {
    throw invalidOption('initialPrice', 'must be > 0', `initialPrice of ${spec.symbol} must be > 0`);
  }
  const scale = 10 ** (options.decimals ?? 4);
  const round = (x: number): number => Math.max(MIN_PRICE, Math.round(x * scale) / scale);
  const factor = spec.volumeFactor ?? 1;
  const drag = 1 - (spec.expenseRatio ?? 0) / TRADING_DAYS;
  const out: Bar[] = new Array<Bar>(underlying.length);
  let refU = options.firstReference ?? underlying[0]?.open ?? 1;
  let refE = spec.initialPrice;
  let first = true;
  for (const [from, to] of sessionRanges(underlying)) {
    if (!first) refE *= drag;
    first = false;
    const k = refE / refU;
    const map = (x: number): number => round(refE + L * (x * k - refE));
    for (let i = from; i < to; i++) {
      const b = underlying[i] as Bar;
      const open = map(b.open);
      const close = map(b.close);
      const hi = map(L > 0 ? b.high : b.low);
      const lo = map(L > 0 ? b.low : b.high);
      out[i] = makeBar(
        {
          symbol: spec.symbol,
          start: b.start,
          end: b.end,
          open,
          // Rounding and the floor keep the order, but make it exact against float noise.
          high: Math.max(hi, open, close),
          low: Math.min(lo, open, close),
          close,
          volume: Math.round(b.volume * factor),
          receivedAt: b.receivedAt,
        },
        options.intervalMs,
      );
    }
    const last = underlying[to - 1] as Bar;
    refE = (out[to - 1] as Bar).close;
    refU = last.close;
  }
  return out;
}

/** The spec of a configured symbol (leverage, expense ratio, volume factor from the symbol configuration). */
export function specFromConfig(config: SymbolConfig, symbol: string, initialPrice: number): LeveragedSpec {
  const info = config.symbols[symbol];
  if (info === undefined) {
    throw invalidOption(`symbols.${symbol}`, 'not configured', `'${symbol}' is not in the symbol configuration`);
  }
  return {
    symbol,
    leverage: info.leverage,
    initialPrice,
    expenseRatio: info.expenseRatio,
    ...(info.volumeFactor === undefined ? {} : { volumeFactor: info.volumeFactor }),
  };
}
