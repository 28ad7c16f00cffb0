import { mkdir } from 'node:fs/promises';
import type { Bar, SymbolConfig } from '@feed/core';
import { DEFAULT_SYMBOL_CONFIG, DEFAULT_SYMBOLS, NEW_YORK, exDateStart, invalidOption, makeBar, makeCorporateAction, nyse, zonedTimeToEpoch } from '@feed/core';
import type { BarFileFormat } from '@feed/csv';
import { actionFilePath, barFilePath, readBarsFromCsv, writeActionsCsv, writeBarsFile } from '@feed/csv';
import { generateLeveraged, specFromConfig } from './leverage.js';
import { Random } from './random.js';
import { simulateMarket } from './simulator.js';
import { VOL_MODELS, generateVolEtf } from './vol-model.js';

/**
 * The chance that a fund has no bar in a minute (no trade on IEX), measured on the real files of
 * April-October 2025: SDS lacks 1 618, UVXY 36 and SVIX 2 776 of 53 779 minutes. The others trade
 * every minute.
 */
export const DEFAULT_NO_TRADE_CHANCE: Readonly<Record<string, number>> = Object.freeze({ SDS: 1618 / 53_779, UVXY: 36 / 53_779, SVIX: 2776 / 53_779 });

/**
 * Drops each bar with probability `chance` (seeded), as a thinly traded fund has no bar in some
 * minutes; the first bar after a gap in the input (the open of each session) is always kept.
 */
export function thinTrading(bars: readonly Bar[], chance: number, seed: number): Bar[] {
  if (!(chance > 0)) return [...bars];
  const random = new Random(seed);
  const out: Bar[] = [];
  let prevStart = Number.NEGATIVE_INFINITY;
  for (const b of bars) {
    const first = b.start - prevStart !== b.end - b.start;
    prevStart = b.start;
    if (first || random.next() >= chance) out.push(b);
  }
  return out;
}

/** Where generated funds start: plausible 2025 levels (their returns, not their level, come from the models). */
export const DEFAULT_START_PRICES: Readonly<Record<string, number>> = { TQQQ: 60, SQQQ: 30, UPRO: 80, SDS: 20, UVXY: 20, SVIX: 18 };

/** Options of `generateFiles`. */
export interface GenerateOptions {
  /** Directory the files are written to (created if needed). */
  outDir: string;
  /**
   * `csv` (the real-data format) or `arrow` (Arrow IPC, for pandas, polars, DuckDB).
   * @default 'csv'
   */
  format?: BarFileFormat;
  /** First and last New York dates, inclusive. Required when simulating; a filter otherwise. */
  from?: string | undefined;
  to?: string | undefined;
  /** Seed of the simulator and the volatility-ETF noise. @default 1 */
  seed?: number;
  /** Symbols to generate. @default the six ETFs */
  symbols?: readonly string[] | undefined;
  /** Symbol configuration (leverage, underlying, expense ratio). @default the six-ETF universe */
  config?: SymbolConfig;
  /** CSV files of the underlyings by symbol (`{ SPY: 'SPY.csv', QQQ: 'QQQ.csv' }`); the rest are simulated. */
  baseFiles?: Readonly<Record<string, string>>;
  /**
   * Per fund, the chance of no bar in a minute (thin trading); `{}` for a bar every minute.
   * @default DEFAULT_NO_TRADE_CHANCE (SDS, UVXY and SVIX, as measured on the real files)
   */
  noTradeChance?: Readonly<Record<string, number>>;
  /** Start prices of the generated funds. @default DEFAULT_START_PRICES (else 50) */
  startPrices?: Readonly<Record<string, number>>;
  /**
   * Splits to place in the generated funds: from each ex-date on, the fund trades on the new basis
   * (prices divided by the ratio, volumes times it: a 1-for-10 reverse split, ratio 0.1, makes them
   * ten times the price), and the split is written beside the fund's file (`UVXY.actions.csv`), so a
   * replay announces it and a data manager rebases its history. Raw files, as traded.
   * @default none
   */
  splits?: readonly SyntheticSplit[];
  /** Told after each file is written. */
  onProgress?: (event: { symbol: string; path: string; bars: number; done: number; total: number; source: string }) => void;
}

/** A split placed in generated data: `ratio` new shares per old (2 forward, 0.1 a 1-for-10 reverse). */
export interface SyntheticSplit {
  readonly symbol: string;
  /** New York date, `YYYY-MM-DD`. */
  readonly exDate: string;
  readonly ratio: number;
}

/** `bars` as traded across the splits of their symbol: from each ex-date on, prices / ratio and volume * ratio. */
export function applySplits(bars: readonly Bar[], splits: readonly SyntheticSplit[]): Bar[] {
  if (splits.length === 0) return [...bars];
  const steps = splits.map((s) => ({ at: exDateStart(s.exDate), ratio: s.ratio })).sort((a, b) => a.at - b.at);
  return bars.map((b) => {
    let price = 1;
    let volume = 1;
    for (const s of steps) {
      if (b.start < s.at) break;
      price /= s.ratio;
      volume *= s.ratio;
    }
    if (price === 1) return b;
    return makeBar({ symbol: b.symbol, start: b.start, open: b.open * price, high: b.high * price, low: b.low * price, close: b.close * price, volume: Math.round(b.volume * volume), ...(b.vwap === undefined ? {} : { vwap: b.vwap * price }), ...(b.tradeCount === undefined ? {} : { tradeCount: b.tradeCount }), receivedAt: b.receivedAt });
  });
}

/** One file `generateFiles` wrote, and where its bars came from. */
export interface GeneratedFile {
  readonly symbol: string;
  readonly path: string;
  readonly bars: number;
  /** Where it came from, for example `3x SPY (daily reset)` or `simulated`. */
  readonly source: string;
}

const VOLATILITY_UNDERLYING = 'VIX_FUTURES';


function nyMidnight(date: string, plusDays = 0): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + plusDays));
  return zonedTimeToEpoch(NEW_YORK, t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/**
 * Writes the base files (simulated or given) and the requested ETFs for a date range into a
 * directory, in the real-data CSV format. Leveraged funds follow the daily-reset model on their
 * underlying; volatility funds follow their calibrated model on SPY.
 */
export async function generateFiles(options: GenerateOptions): Promise<GeneratedFile[]> {
  const config = options.config ?? DEFAULT_SYMBOL_CONFIG;
  const symbols = options.symbols ?? DEFAULT_SYMBOLS;
  const seed = options.seed ?? 1;
  for (const s of symbols) if (config.symbols[s] === undefined) throw invalidOption('symbols', `'${s}' is not in the symbol configuration`);
  const { from, to } = options;
  if ((from === undefined) !== (to === undefined)) throw invalidOption(from === undefined ? 'from' : 'to', 'give both --from and --to, or neither');
  if (from !== undefined && to !== undefined) {
    if (to < from) throw invalidOption('to', `the date range ${from} .. ${to} is empty`);
    if (nyse.sessionsBetween(from, to).length === 0) throw invalidOption('from', `no NYSE session between ${from} and ${to}`);
  }
  // Which underlyings are needed.
  const needed = new Set<string>();
  for (const s of symbols) {
    const u = (config.symbols[s] as { underlying: string }).underlying;
    needed.add(u === VOLATILITY_UNDERLYING ? 'SPY' : u);
  }
  const base: Record<string, Bar[]> = {};
  const sources: Record<string, string> = {};
  const given = options.baseFiles ?? {};
  for (const u of needed) {
    const path = given[u];
    if (path === undefined) continue;
    let bars = (await readBarsFromCsv(u, path)).bars;
    if (from !== undefined && to !== undefined) {
      const lo = nyMidnight(from);
      const hi = nyMidnight(to, 1);
      const first = bars[0];
      const last = bars.at(-1);
      const sessions = nyse.sessionsBetween(from, to);
      if (first === undefined || last === undefined || first.start > (sessions[0]?.open ?? lo) || last.start < (sessions.at(-1)?.close ?? hi) - 60_000) {
        const span = first && last ? `${nyse.dateOf(first.start)} .. ${nyse.dateOf(last.start)}` : 'nothing';
        throw invalidOption('from', `${path} covers ${span}, not ${from} .. ${to}`);
      }
      bars = bars.filter((b) => b.start >= lo && b.start < hi);
    }
    base[u] = bars;
    sources[u] = path;
  }
  const missing = [...needed].filter((u) => base[u] === undefined);
  if (missing.length > 0) {
    if (from === undefined || to === undefined) {
      throw invalidOption('from', `simulating ${missing.join(' and ')} needs a date range (--from and --to), or give ${missing.map((m) => `--${m.toLowerCase()} FILE`).join(' and ')}`);
    }
    const sim = simulateMarket({ from, to, seed });
    for (const u of missing) {
      const bars = sim[u];
      if (bars === undefined) throw invalidOption('symbols', `the simulator makes SPY and QQQ; no base for ${u}`);
      base[u] = bars;
      sources[u] = 'simulated';
    }
  }
  await mkdir(options.outDir, { recursive: true });
  const out: GeneratedFile[] = [];
  const total = Object.keys(base).length + symbols.length;
  const noTrade = options.noTradeChance ?? DEFAULT_NO_TRADE_CHANCE;
  const writeFund = async (symbol: string, bars: Bar[], source: string, index: number): Promise<void> => {
    const chance = noTrade[symbol] ?? 0;
    if (!(chance > 0)) return write(symbol, bars, source);
    return write(symbol, thinTrading(bars, chance, seed * 1009 + index), `${source}, no trade in ${(chance * 100).toFixed(chance < 0.01 ? 2 : 1)} % of minutes`);
  };
  const write = async (symbol: string, unsplit: Bar[], source: string): Promise<void> => {
    const path = barFilePath(options.outDir, symbol, options.format ?? 'csv');
    const splits = (options.splits ?? []).filter((s) => s.symbol === symbol);
    const bars = applySplits(unsplit, splits);
    const n = await writeBarsFile(path, bars, options.format ?? 'csv');
    if (splits.length > 0) {
      await writeActionsCsv(
        actionFilePath(path),
        splits.map((s) => makeCorporateAction({ symbol, kind: s.ratio > 1 ? 'forward_split' : 'reverse_split', exDate: s.exDate, ratio: s.ratio, source: 'synth' })),
      );
      source = `${source}, ${splits.map((s) => `split ${s.ratio > 1 ? `${s.ratio}-for-1` : `1-for-${Math.round(1 / s.ratio)}`} on ${s.exDate}`).join(', ')}`;
    }
    out.push({ symbol, path, bars: n, source });
    options.onProgress?.({ symbol, path, bars: n, done: out.length, total, source });
  };
  for (const [u, bars] of Object.entries(base)) await write(u, bars, sources[u] === 'simulated' ? 'simulated' : `copied from ${sources[u]}`);
  for (const [index, s] of symbols.entries()) {
    const info = config.symbols[s] as { underlying: string; leverage: number };
    const price = options.startPrices?.[s] ?? DEFAULT_START_PRICES[s] ?? 50;
    if (info.underlying === VOLATILITY_UNDERLYING) {
      const model = VOL_MODELS[s];
      if (model === undefined) throw invalidOption('symbols', `no volatility model for ${s} (calibrated: ${Object.keys(VOL_MODELS).join(', ')})`);
      await writeFund(s, generateVolEtf(base.SPY as Bar[], { symbol: s, model, initialPrice: price, seed }), `volatility model on SPY (seed ${seed})`, index);
    } else {
      const u = base[info.underlying] as Bar[];
      await writeFund(s, generateLeveraged(u, specFromConfig(config, s, price)), `${info.leverage}x ${info.underlying} (daily reset)`, index);
    }
  }
  return out;
}
