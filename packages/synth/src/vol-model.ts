import type { Bar } from '@feed/core';
import { ConfigError, invalidOption, makeBar } from '@feed/core';
import { nyHourOfDay } from './ny-time.js';
import { Random } from './random.js';
import { sessionRanges } from './sessions.js';

/**
 * Minute returns of a volatility ETF from SPY's: a SPY-return beta, a volatility term (the beta
 * grows with SPY's recent realized volatility, as VIX futures react more in turbulent markets), the
 * previous minute's SPY return (VIX futures and thinly traded funds lag) with its own volatility
 * term, and the open's and close's different sensitivity:
 *
 *   r = c0 + b1 x + b2 x v + b3 x' + b4 x' v' + b5 x [before 10:30] + b6 x [after 15:30]
 *
 * where x is SPY's minute return, x' the previous minute's (0 after a gap), v and v' SPY's
 * exponentially weighted realized volatility (before that minute) over its long-run level.
 */
export interface VolModel {
  readonly coefficients: readonly [number, number, number, number, number, number, number];
  /** Decay of the EWMA variance per minute (0.977: a half-life of 30 minutes). */
  readonly decay: number;
  /** Long-run minute volatility of SPY that v is measured against. */
  readonly baseVol: number;
}

const FEATURES = 7;
const DECAY = 0.977;
/** SPY's minute-return volatility over April-October 2025 (the calibration files). */
export const SPY_BASE_VOL = 0.000_75;

interface Features {
  rows: Float64Array; // n x FEATURES
  n: number;
}

/** The model's features for every SPY bar (row i describes the return into bar i; row 0 has x = 0). */
function features(spy: readonly Bar[], baseVol = SPY_BASE_VOL, decay = DECAY): Features {
  const n = spy.length;
  const rows = new Float64Array(n * FEATURES);
  let variance = baseVol * baseVol;
  let prevX = 0;
  let prevV = 1;
  for (let i = 0; i < n; i++) {
    const b = spy[i] as Bar;
    const prev = spy[i - 1];
    const adjacent = prev !== undefined && b.start - prev.start === 60_000;
    const x = adjacent ? b.close / prev.close - 1 : 0;
    const v = Math.sqrt(variance) / baseVol;
    const hour = nyHourOfDay(b.start);
    const o = i * FEATURES;
    rows[o] = 1;
    rows[o + 1] = x;
    rows[o + 2] = x * v;
    rows[o + 3] = adjacent ? prevX : 0;
    rows[o + 4] = adjacent ? prevX * prevV : 0;
    rows[o + 5] = hour < 10.5 ? x : 0;
    rows[o + 6] = hour >= 15.5 ? x : 0;
    if (adjacent) variance = decay * variance + (1 - decay) * x * x;
    prevX = x;
    prevV = v;
  }
  return { rows, n };
}

/** Solves A c = b (A symmetric positive definite, k x k) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const m = Float64Array.from(a);
  const r = Float64Array.from(b);
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let row = col + 1; row < k; row++) if (Math.abs(m[row * k + col] as number) > Math.abs(m[piv * k + col] as number)) piv = row;
    if (piv !== col) {
      for (let j = 0; j < k; j++) {
        const t = m[col * k + j] as number;
        m[col * k + j] = m[piv * k + j] as number;
        m[piv * k + j] = t;
      }
      const t = r[col] as number;
      r[col] = r[piv] as number;
      r[piv] = t;
    }
    const d = m[col * k + col] as number;
    if (Math.abs(d) < 1e-300) throw new ConfigError({ code: 'invalid_option', message: 'calibration failed: the features are collinear (too few bars?)' });
    for (let row = col + 1; row < k; row++) {
      const f = (m[row * k + col] as number) / d;
      if (f === 0) continue;
      for (let j = col; j < k; j++) m[row * k + j] = (m[row * k + j] as number) - f * (m[col * k + j] as number);
      r[row] = (r[row] as number) - f * (r[col] as number);
    }
  }
  const c = new Float64Array(k);
  for (let row = k - 1; row >= 0; row--) {
    let s = r[row] as number;
    for (let j = row + 1; j < k; j++) s -= (m[row * k + j] as number) * (c[j] as number);
    c[row] = s / (m[row * k + row] as number);
  }
  return c;
}

/**
 * Calibrates the model by least squares on the minutes where SPY and the ETF both have a bar and
 * the previous minute too. Returns the model and the in-sample correlation of fitted and real returns.
 */
export function calibrateVolModel(spy: readonly Bar[], etf: readonly Bar[]): { model: VolModel; correlation: number; minutes: number } {
  const f = features(spy);
  const etfByStart = new Map(etf.map((b) => [b.start, b]));
  const xtx = new Float64Array(FEATURES * FEATURES);
  const xty = new Float64Array(FEATURES);
  const used: number[] = [];
  const ys: number[] = [];
  for (let i = 1; i < f.n; i++) {
    const b = spy[i] as Bar;
    if (b.start - (spy[i - 1] as Bar).start !== 60_000) continue;
    const e = etfByStart.get(b.start);
    const ep = etfByStart.get(b.start - 60_000);
    if (e === undefined || ep === undefined) continue;
    const y = e.close / ep.close - 1;
    const o = i * FEATURES;
    for (let p = 0; p < FEATURES; p++) {
      const xp = f.rows[o + p] as number;
      xty[p] = (xty[p] as number) + xp * y;
      for (let q = 0; q < FEATURES; q++) xtx[p * FEATURES + q] = (xtx[p * FEATURES + q] as number) + xp * (f.rows[o + q] as number);
    }
    used.push(i);
    ys.push(y);
  }
  const c = solve(xtx, xty, FEATURES);
  const fitted = used.map((i) => predict(c, f.rows, i));
  return {
    model: { coefficients: Array.from(c) as unknown as VolModel['coefficients'], decay: DECAY, baseVol: SPY_BASE_VOL },
    correlation: correlation(fitted, ys),
    minutes: used.length,
  };
}

function predict(c: ArrayLike<number>, rows: Float64Array, i: number): number {
  const o = i * FEATURES;
  let r = 0;
  for (let p = 0; p < FEATURES; p++) r += (c[p] as number) * (rows[o + p] as number);
  return r;
}

/** Pearson correlation of two equally long series. */
export function correlation(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * The calibrated models (April-October 2025 files; see the README for the figures). Regenerate with
 * `calibrateVolModel` on newer data.
 */
export const VOL_MODELS: Readonly<Record<string, VolModel>> = {
  UVXY: {
    coefficients: [0.00000444691, -4.80567, -0.222117, -0.104981, 0.00166368, 0.0565708, 1.50076],
    decay: DECAY,
    baseVol: SPY_BASE_VOL,
  },
  SVIX: {
    coefficients: [-0.00000195342, 2.80451, 0.713378, 0.215066, 0.0161288, -0.320165, -1.18542],
    decay: DECAY,
    baseVol: SPY_BASE_VOL,
  },
};

/** Options of `generateVolEtf`. */
export interface VolEtfOptions {
  symbol: string;
  model: VolModel;
  /** The fund's price before the first bar. */
  initialPrice: number;
  /** Seed of the wick and volume noise: same inputs and seed, byte-identical bars. */
  seed: number;
  /**
   * Volume = round(SPY volume x volumeFactor x lognormal noise).
   * @default 0.2
   */
  volumeFactor?: number;
  /** @default 4 */
  decimals?: number;
}

/**
 * Volatility-ETF bars from SPY bars: closes follow the model's returns (compounded from the
 * previous close; the first bar of a session moves by the model applied to SPY's overnight return);
 * the open is the previous close moved by the model's beta times SPY's open gap; high and low add
 * wicks scaled from SPY's and drawn from the seeded noise; volume is SPY's scaled, with seeded noise.
 */
export function generateVolEtf(spy: readonly Bar[], options: VolEtfOptions): Bar[] {
  const { model, seed } = options;
  if (!(options.initialPrice > 0)) {
    throw invalidOption('initialPrice', 'must be > 0', `initialPrice of ${options.symbol} must be > 0`);
  }
  const c = model.coefficients;
  const f = features(spy, model.baseVol, model.decay);
  const rnd = new Random(seed);
  const scale = 10 ** (options.decimals ?? 4);
  const round = (x: number): number => Math.max(0.0001, Math.round(x * scale) / scale);
  const volumeFactor = options.volumeFactor ?? 0.2;
  const out: Bar[] = new Array<Bar>(spy.length);
  let prevClose = options.initialPrice;
  let prevSpyClose = (spy[0])?.open ?? 1;
  for (const [from, to] of sessionRanges(spy)) {
    for (let i = from; i < to; i++) {
      const b = spy[i] as Bar;
      const o = i * FEATURES;
      let r = predict(c, f.rows, i);
      // The first minute of a session, or after a gap: the model on SPY's return since its last close.
      const adjacent = i > 0 && b.start - (spy[i - 1] as Bar).start === 60_000;
      if (!adjacent && i > 0) r = (c[0]) + (c[1]) * (b.close / prevSpyClose - 1);
      // The minute's effective beta to SPY: b1 + b2 v (the volatility ratio v is x v / x).
      const x = f.rows[o + 1] as number;
      const beta = (c[1]) + (c[2]) * (x === 0 ? 1 : (f.rows[o + 2] as number) / x);
      const close = round(prevClose * (1 + r));
      const open = round(prevClose * (1 + beta * (b.open / prevSpyClose - 1)));
      const spyUp = (b.high - Math.max(b.open, b.close)) / b.close;
      const spyDown = (Math.min(b.open, b.close) - b.low) / b.close;
      const up = Math.abs(beta) * (beta >= 0 ? spyUp : spyDown) * (0.5 + rnd.next());
      const down = Math.abs(beta) * (beta >= 0 ? spyDown : spyUp) * (0.5 + rnd.next());
      const high = round(Math.max(open, close) * (1 + up));
      const low = round(Math.min(open, close) * (1 - Math.min(0.5, down)));
      const volume = Math.max(0, Math.round(b.volume * volumeFactor * Math.exp(0.5 * rnd.normal() - 0.125)));
      out[i] = makeBar({ symbol: options.symbol, start: b.start, end: b.end, open, high: Math.max(high, open, close), low: Math.min(low, open, close), close, volume, receivedAt: b.receivedAt });
      prevClose = close;
      prevSpyClose = b.close;
    }
  }
  return out;
}
