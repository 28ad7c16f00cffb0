import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bar, MarketSession, SymbolConfig } from '@feed/core';
import { FeedError, actionKey, isSymbol, nyse } from '@feed/core';
import { AlpacaCorporateActionsClient, AlpacaHistoricalClient, resolveCredentials } from '@feed/alpaca';
import { downloadBars } from '@feed/live';
import { KEY_VARIABLE as POLYGON_KEY, PolygonCorporateActionsClient, PolygonHistoricalClient } from '@feed/polygon';
import { actionFilePath, barFilePath, readActionsCsv, readBarsFromCsv, readBasis, writeActionsCsv, writeBasis, writeRealDataCsv } from '@feed/csv';
import { generateFiles } from '@feed/synth';

/** Fewest regular-hours bars a file must hold for each target session to count. */
export const MIN_BARS_PER_SESSION = 200;

type FileSource = 'existing' | 'downloaded' | 'synthetic';

export interface PreparedFile {
  readonly symbol: string;
  readonly path: string;
  readonly source: FileSource;
  /** Regular-hours bars of the file in the target sessions. */
  readonly bars: number;
  /** How it was made, for the printout. */
  readonly note: string;
}

export interface PrepareOptions {
  /** The target sessions (one, or a range). */
  readonly sessions: readonly MarketSession[];
  /** The symbols to make sure of (the six ETFs). */
  readonly symbols: readonly string[];
  readonly config: SymbolConfig;
  /** Where existing files are looked for first (never written to). */
  readonly dataDir: string | undefined;
  /** Where downloads (`OUT/SYMBOL.csv`) and synthetic files (`OUT/synthetic/SYMBOL.csv`) go. */
  readonly outDir: string;
  /** Where keys are read from; with keys, missing files are downloaded first. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Alpaca's data API (a fake server in tests). */
  readonly restUrl?: string | undefined;
  /**
   * Where downloads come from: `alpaca` (keys APCA_*), `polygon` (POLYGON_API_KEY), or, by default,
   * Alpaca when its keys are set, else Polygon when only its key is.
   */
  readonly source?: 'alpaca' | 'polygon' | undefined;
  /** Polygon's REST host (a fake server in tests). */
  readonly polygonUrl?: string | undefined;
  readonly seed?: number;
  readonly log: (line: string) => void;
}

/** A file's bars (none for a missing or unreadable file). */
async function readBars(symbol: string, path: string): Promise<Bar[]> {
  if (!existsSync(path)) return [];
  try {
    return (await readBarsFromCsv(symbol, path, { onBadRow: 'skip' })).bars;
  } catch {
    return [];
  }
}

/** Regular-hours bars (with the closing-auction bar) in each target session, in one pass. */
function barsPerSession(bars: readonly Bar[], sessions: readonly MarketSession[]): number[] {
  const index = new Map(sessions.map((s, i) => [s.date, i]));
  const counts = sessions.map(() => 0);
  for (const b of bars) {
    const i = index.get(nyse.sessionOfBar(b.start)?.date ?? '');
    if (i !== undefined) counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

const enough = (counts: readonly number[]): boolean => counts.every((n) => n >= MIN_BARS_PER_SESSION);
const sum = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);

/** Writes `bars` into `path`, keeping the bars of other days already there (real data is merged, never dropped). */
async function mergeInto(symbol: string, path: string, bars: readonly Bar[]): Promise<void> {
  const byStart = new Map<number, Bar>();
  for (const b of await readBars(symbol, path)) byStart.set(b.start, b);
  for (const b of bars) byStart.set(b.start, b);
  await writeRealDataCsv(path, [...byStart.values()].sort((a, b) => a.start - b.start));
}

/**
 * The original design's download_and_prepare_6_symbols.sh: for each symbol, a CSV with at least 200
 * regular-hours bars in every target session, from (in order) an existing file, a download from Alpaca
 * when keys are set, or `@feed/synth` from SPY and QQQ (themselves existing, downloaded or simulated).
 * Synthetic files go to `OUT/synthetic/`, so real data is never overwritten by synthetic data.
 */
export async function prepareData(o: PrepareOptions): Promise<PreparedFile[]> {
  const sessions = o.sessions;
  const first = sessions[0];
  const last = sessions[sessions.length - 1];
  if (first === undefined || last === undefined) throw new FeedError({ code: 'calendar', message: 'no target session' });
  const range = first.date === last.date ? first.date : `${first.date}..${last.date}`;
  const result = new Map<string, PreparedFile>();
  const candidates = (symbol: string): string[] => [
    ...(o.dataDir === undefined ? [] : [barFilePath(o.dataDir, symbol, 'csv')]),
    barFilePath(o.outDir, symbol, 'csv'),
  ];
  /** The first existing file with enough bars, if any. */
  const existing = async (symbol: string): Promise<{ path: string; bars: number } | undefined> => {
    for (const path of candidates(symbol)) {
      const counts = barsPerSession(await readBars(symbol, path), sessions);
      if (enough(counts)) return { path, bars: sum(counts) };
    }
    return undefined;
  };

  // 1. Existing files, for the symbols and then for the underlyings of those still missing.
  const baseOf = (s: string): string | undefined => {
    const u = o.config.symbols[s]?.underlying;
    // An underlying is free text in a configuration: only a ticker can name a file or a download.
    const base = u === 'VIX_FUTURES' ? 'SPY' : u;
    return base !== undefined && isSymbol(base) ? base : undefined;
  };
  for (const symbol of o.symbols) {
    const found = await existing(symbol);
    if (found !== undefined) result.set(symbol, { symbol, path: found.path, source: 'existing', bars: found.bars, note: `existing file, ${found.bars} bars in ${range}` });
  }
  const bases = [...new Set(o.symbols.filter((s) => !result.has(s)).map(baseOf).filter((u): u is string => u !== undefined))];
  const baseFiles: Record<string, string> = {};
  for (const base of bases) {
    const found = await existing(base);
    if (found !== undefined) baseFiles[base] = found.path;
  }

  // 2. Downloads, when keys are set: Alpaca's, else Polygon's (or the one asked for).
  const wanted = [...o.symbols.filter((s) => !result.has(s)), ...bases.filter((b) => baseFiles[b] === undefined)];
  let keys;
  try {
    keys = resolveCredentials(undefined, o.env);
  } catch (error) {
    o.log(`keys: ${(error as Error).message}; not downloading from Alpaca`);
  }
  const polygonKey = o.env[POLYGON_KEY] === '' ? undefined : o.env[POLYGON_KEY];
  const source = o.source ?? (keys !== undefined ? 'alpaca' : polygonKey !== undefined ? 'polygon' : undefined);
  const canDownload = source === 'alpaca' ? keys !== undefined : source === 'polygon' ? polygonKey !== undefined : false;
  if (wanted.length > 0 && !canDownload) {
    const missingBases = bases.filter((b) => baseFiles[b] === undefined);
    const funds = o.symbols.filter((s) => !result.has(s));
    const set = source === 'polygon' ? `set ${POLYGON_KEY}` : `set APCA_API_KEY_ID and APCA_API_SECRET_KEY (or ${POLYGON_KEY})`;
    o.log(`no ${source === 'polygon' ? 'Polygon key' : 'Alpaca keys'}: ${funds.join(', ')} will be synthesized${missingBases.length > 0 ? ` (${missingBases.join(' and ')} simulated)` : ''}; ${set} to download`);
  }
  if (wanted.length > 0 && canDownload) {
    const tmp = await mkdtemp(join(o.outDir, '.download-'));
    const provider = source === 'polygon' ? 'Polygon' : 'Alpaca';
    try {
      o.log(`downloading ${wanted.join(', ')} for ${range} from ${provider} ...`);
      const from = { symbols: wanted, from: first.date, to: last.date, outDir: tmp };
      // Raw bars, recorded as such, with the corporate actions to adjust them (a year before the range included).
      const polygonBase = o.polygonUrl === undefined ? {} : { baseUrl: o.polygonUrl };
      const alpacaBase = o.restUrl === undefined ? {} : { baseUrl: o.restUrl };
      const report =
        source === 'polygon'
          ? await downloadBars({ ...from, history: new PolygonHistoricalClient({ apiKey: polygonKey as string, ...polygonBase }), basis: { provider: 'polygon', feed: 'sip', adjustment: 'raw' }, corporateActions: new PolygonCorporateActionsClient({ apiKey: polygonKey as string, ...polygonBase }) })
          : await downloadBars({ ...from, history: new AlpacaHistoricalClient({ keys: keys as NonNullable<typeof keys>, ...alpacaBase }), basis: { provider: 'alpaca', feed: 'iex', adjustment: 'raw' }, corporateActions: new AlpacaCorporateActionsClient({ keys: keys as NonNullable<typeof keys>, ...alpacaBase }) });
      if (report.actionsError !== undefined) o.log(`  corporate actions could not be read (${report.actionsError.message}); the files have none`);
      for (const f of report.files) {
        const bars = await readBars(f.symbol, f.path);
        const counts = barsPerSession(bars, sessions);
        if (!enough(counts)) {
          o.log(`  ${f.symbol}: downloaded only ${sum(counts)} bars (fewer than ${MIN_BARS_PER_SESSION} in a session); not used`);
          continue;
        }
        const path = barFilePath(o.outDir, f.symbol, 'csv');
        const had = readBasis(path);
        const got = readBasis(f.path);
        if (had !== undefined && got !== undefined && (had.adjustment !== got.adjustment || had.feed !== got.feed)) {
          o.log(`  ${f.symbol}: ${path} holds ${had.provider} ${had.feed ?? ''} ${had.adjustment} bars, the download ${got.provider} ${got.feed ?? ''} ${got.adjustment}: not mixed, the existing file kept`);
          continue;
        }
        await mergeInto(f.symbol, path, bars);
        if (got !== undefined) await writeBasis(path, got);
        // The download's actions joined to those already beside the file.
        if (existsSync(actionFilePath(f.path))) {
          const fresh = (await readActionsCsv(actionFilePath(f.path))).actions;
          const old = existsSync(actionFilePath(path)) ? (await readActionsCsv(actionFilePath(path))).actions : [];
          const merged = new Map([...old, ...fresh].map((a) => [actionKey(a), a]));
          await writeActionsCsv(actionFilePath(path), [...merged.values()]);
        }
        if (bases.includes(f.symbol)) baseFiles[f.symbol] = path;
        if (o.symbols.includes(f.symbol)) result.set(f.symbol, { symbol: f.symbol, path, source: 'downloaded', bars: sum(counts), note: `downloaded from ${provider}, ${sum(counts)} bars in ${range}` });
      }
    } catch (error) {
      o.log(`download failed (${FeedError.isInstance(error) ? error.code : 'error'}: ${(error as Error).message}); falling back to synthetic data`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  // 3. Synthetic, from SPY and QQQ (existing, downloaded, or simulated).
  const rest = o.symbols.filter((s) => !result.has(s));
  if (rest.length > 0) {
    const synthDir = join(o.outDir, 'synthetic');
    const generate = (given: Record<string, string>) =>
      // Synthetic UVXY reverse-splits 1-for-5 on the last session (as the fund does every year or two):
      // the demo and the tests meet a corporate action without any network.
      generateFiles({ outDir: synthDir, from: first.date, to: last.date, seed: o.seed ?? 1, symbols: rest, config: o.config, baseFiles: given, splits: rest.includes('UVXY') ? [{ symbol: 'UVXY', exDate: last.date, ratio: 0.2 }] : [] });
    let files;
    try {
      files = await generate(baseFiles);
    } catch (error) {
      // A base file that does not cover the whole range: simulate the bases instead.
      o.log(`base files ${Object.values(baseFiles).join(', ')} do not cover ${range} (${(error as Error).message}); simulating SPY and QQQ`);
      files = await generate({});
    }
    const sourceOf = new Map(files.map((f) => [f.symbol, f.source]));
    for (const f of files) {
      if (!rest.includes(f.symbol)) continue;
      const info = o.config.symbols[f.symbol];
      const base = info?.underlying === 'VIX_FUTURES' ? 'SPY' : (info?.underlying ?? '?');
      const baseSource = sourceOf.get(base) ?? '';
      const from = baseSource === 'simulated' ? `simulated ${base}` : `${base} from ${baseSource.replace(/^copied from /, '')}`;
      result.set(f.symbol, { symbol: f.symbol, path: f.path, source: 'synthetic', bars: f.bars, note: `synthetic: ${f.source}, on ${from}` });
    }
  }
  return o.symbols.map((s) => result.get(s)).filter((f): f is PreparedFile => f !== undefined);
}

/** The target sessions of a `date` or `from..to` argument, or the most recent complete session at `now`. */
export function targetSessions(arg: string | undefined, now: number): MarketSession[] {
  if (arg === undefined) return [nyse.mostRecentCompleteSession(now)];
  const [from, to] = arg.split('..') as [string, string | undefined];
  return nyse.sessionsBetween(from, to ?? from);
}

/** Why a date range holds no NYSE session: a weekend, a named holiday, or an empty range. */
export function noSessionReason(from: string, to: string): string {
  if (to < from) return 'the range is empty';
  if (from !== to) return 'weekends and holidays only';
  const holiday = nyse.holidayName(from);
  if (holiday !== undefined) return `${holiday}, an exchange holiday`;
  const day = new Date(`${from}T12:00:00Z`).getUTCDay();
  return day === 0 || day === 6 ? `a ${day === 0 ? 'Sunday' : 'Saturday'}` : 'not a trading day';
}
