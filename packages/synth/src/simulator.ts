import type { Bar, MarketCalendar } from '@feed/core';
import { invalidOption, makeBar, nyse } from '@feed/core';
import { Random } from './random.js';

/** One simulated instrument. */
export interface SimulatedAsset {
  /** Price before the first session. */
  price: number;
  /** Standard deviation of the open-to-close log return of a session. */
  dailyVol: number;
  /** Standard deviation of the overnight (close to next open) log return. */
  overnightVol: number;
  /** Mean volume of a minute bar. */
  minuteVolume: number;
}

/** Options of the base-market simulator. */
export interface SimulatorOptions {
  /** First and last New York dates (inclusive), `YYYY-MM-DD`. */
  from: string;
  to: string;
  /** Seed: the same options give byte-identical bars. */
  seed: number;
  /**
   * The instruments; the first drives the second through `correlation`.
   * @default SPY 560 / 1.0 % a day, QQQ 480 / 1.25 % a day
   */
  assets?: Readonly<Record<string, SimulatedAsset>>;
  /**
   * Correlation of the minute returns of the two instruments.
   * @default 0.9
   */
  correlation?: number;
  /**
   * Add a bar starting at the close (the closing auction), as the real files have (391 bars a full day).
   * @default true
   */
  closingBar?: boolean;
  /** @default nyse */
  calendar?: MarketCalendar;
}

/** The simulated base assets (SPY, QQQ) and their parameters. */
export const DEFAULT_ASSETS: Readonly<Record<string, SimulatedAsset>> = {
  SPY: { price: 560, dailyVol: 0.01, overnightVol: 0.004, minuteVolume: 90_000 },
  QQQ: { price: 480, dailyVol: 0.0125, overnightVol: 0.005, minuteVolume: 60_000 },
};

const MIN = 60_000;

/**
 * Relative volatility of minute m of a session of n minutes: a U shape, about 3x at the open and
 * 1.6x into the close against midday (intraday seasonality of US equities).
 */
export function volatilityShape(m: number, n: number): number {
  return 1 + 2 * Math.exp(-m / 20) + 0.6 * Math.exp(-(n - 1 - m) / 15);
}

/** Relative volume of minute m: heavier at the open, and heaviest into the close. */
export function volumeShape(m: number, n: number): number {
  return 0.6 + 2.2 * Math.exp(-m / 15) + 2.5 * Math.exp(-(n - 1 - m) / 10);
}

/**
 * A seeded simulator of correlated index-ETF minute bars (SPY and QQQ by default) over real NYSE
 * sessions from the calendar: holidays have no bars, early closes end at 13:00, times follow DST.
 * Minute log returns are normal with the intraday U-shaped volatility, scaled so a session's
 * open-to-close volatility is `dailyVol`; volume follows its own U shape with lognormal noise.
 */
export function simulateMarket(options: SimulatorOptions): Record<string, Bar[]> {
  const assets = options.assets ?? DEFAULT_ASSETS;
  const names = Object.keys(assets);
  if (names.length < 1 || names.length > 2) {
    throw invalidOption('assets', 'must name one or two assets', 'the simulator takes one or two assets');
  }
  const rho = options.correlation ?? 0.9;
  if (!(rho >= -1 && rho <= 1)) throw invalidOption('correlation', 'must be in [-1, 1]', 'correlation must be in [-1, 1]');
  const calendar = options.calendar ?? nyse;
  const sessions = calendar.sessionsBetween(options.from, options.to);
  if (sessions.length === 0) {
    throw invalidOption('from', 'the date range holds no session', `no NYSE session between ${options.from} and ${options.to}`);
  }
  const rnd = new Random(options.seed);
  const closingBar = options.closingBar ?? true;
  const out: Record<string, Bar[]> = Object.fromEntries(names.map((n) => [n, []]));
  const price = names.map((n) => (assets[n] as SimulatedAsset).price);
  const shapeCache = new Map<number, { vol: Float64Array; volume: Float64Array }>();
  const orth = Math.sqrt(1 - rho * rho);
  for (const session of sessions) {
    const n = Math.round((session.close - session.open) / MIN);
    const shapes = shapesFor(n, shapeCache);
    // Overnight move, correlated.
    const z0 = rnd.normal();
    const z1 = rho * z0 + orth * rnd.normal();
    names.forEach((name, k) => {
      const a = assets[name] as SimulatedAsset;
      price[k] = (price[k] as number) * Math.exp(a.overnightVol * (k === 0 ? z0 : z1));
    });
    const bars = n + (closingBar ? 1 : 0);
    for (let m = 0; m < bars; m++) {
      const start = session.open + m * MIN;
      const mm = Math.min(m, n - 1);
      const za = rnd.normal();
      const zb = rho * za + orth * rnd.normal();
      for (let k = 0; k < names.length; k++) {
        const name = names[k] as string;
        const a = assets[name] as SimulatedAsset;
        // The closing auction bar barely moves.
        const sigma = m === n ? 0 : a.dailyVol * (shapes.vol[mm] as number);
        const open = price[k] as number;
        const close = open * Math.exp(sigma * (k === 0 ? za : zb) - (sigma * sigma) / 2);
        const wick = sigma * 0.6;
        const high = Math.max(open, close) * (1 + wick * Math.abs(rnd.normal()));
        const low = Math.min(open, close) * (1 - wick * Math.abs(rnd.normal()));
        const volume = Math.round(a.minuteVolume * (m === n ? 3 : (shapes.volume[mm] as number)) * Math.exp(0.4 * rnd.normal() - 0.08));
        const o = cents(open);
        const c = cents(close);
        (out[name] as Bar[]).push(
          makeBar({ symbol: name, start, open: o, high: Math.max(cents(high), o, c), low: Math.min(cents(low), o, c), close: c, volume, receivedAt: start + MIN }),
        );
        price[k] = c;
      }
    }
  }
  return out;
}

const cents = (x: number): number => Math.round(x * 100) / 100;

/** The session's volatility shape (normalized so the minutes' variances sum to 1) and volume shape. */
function shapesFor(n: number, cache: Map<number, { vol: Float64Array; volume: Float64Array }>): { vol: Float64Array; volume: Float64Array } {
  let s = cache.get(n);
  if (s !== undefined) return s;
  const vol = new Float64Array(n);
  const volume = new Float64Array(n);
  let sum = 0;
  for (let m = 0; m < n; m++) {
    vol[m] = volatilityShape(m, n);
    sum += (vol[m] as number) ** 2;
    volume[m] = volumeShape(m, n);
  }
  let vsum = 0;
  for (let m = 0; m < n; m++) vsum += volume[m] as number;
  for (let m = 0; m < n; m++) {
    vol[m] = (vol[m] as number) / Math.sqrt(sum);
    volume[m] = ((volume[m] as number) * n) / vsum;
  }
  s = { vol, volume };
  cache.set(n, s);
  return s;
}

