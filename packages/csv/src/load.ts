import { createHash } from 'node:crypto';
import { mkdir, open, readdir, stat, unlink, utimes } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Adjustment, CorporateAction } from '@feed/core';
import { CsvError, actionsDigest, adjustmentSegments } from '@feed/core';
import { ARROW_METADATA_KEY, encodeArrow, isArrowPath, readArrowFile, writeAtomically } from './arrow.js';
import { arrowLibrary, hasArrowLibrary } from './arrow-library.js';
import { fileInside } from './paths.js';
import type { BarColumns } from './columns.js';
import type { ParseReport } from './reader.js';
import { parseCsv } from './reader.js';

/** Bumped when the parse or the cache layout changes: older cache files are then not read. */
const CACHE_VERSION = 3;
/** Bytes of the head and of the tail of a source that go into its cache key. */
const SAMPLE_BYTES = 65_536;

/** What loading one file found. */
export interface FileReport extends ParseReport {
  /** Rows loaded (after the date filter). */
  readonly loaded: number;
  /** Rows outside the date filter. */
  readonly filtered: number;
  /** Where the columns came from: parsing the CSV, the Arrow cache of that CSV, or an Arrow file given as input. */
  readonly source: 'csv' | 'cache' | 'arrow';
  /** The cache file read or written; `undefined` with the cache off or for Arrow input. */
  readonly cacheFile?: string | undefined;
  /** Why the cache could not be written (the load itself went on), if it could not. */
  readonly cacheError?: string | undefined;
  /**
   * With `adjust`: the adjustment applied, as of when, the digest of the actions that made it, and
   * whether its own cache file was read (`cache`) or built (`built`, also after a new action).
   */
  readonly adjusted?: { readonly adjustment: Adjustment; readonly asOf: string; readonly actionsDigest: string; readonly source: 'cache' | 'built' | 'computed'; readonly cacheFile?: string | undefined } | undefined;
}

/** Options of `loadBars`. */
export interface LoadOptions {
  /**
   * `skip`: bad rows are counted and reported and the rest loads; `fail`: the first bad row rejects.
   * @default 'skip'
   */
  onBadRow?: 'skip' | 'fail';
  /**
   * Bar interval.
   * @default 60000
   */
  intervalMs?: number;
  /**
   * Adjust the bars as of a date (`adjustmentSegments` of `@feed/core`: only actions with ex-date <=
   * `asOf`). The adjusted columns have a cache file of their own, keyed by the source's key, the
   * adjustment, the date and the digest of the symbol's actions (a new action builds a new one), the
   * actions in its metadata; the raw columns' cache file is kept as it is.
   */
  adjust?: { readonly actions: readonly CorporateAction[]; readonly adjustment: Adjustment; readonly asOf: string };
  /** Keep bars whose start is in [from, to). @default everything */
  from?: number;
  to?: number;
  /**
   * Bad rows kept with their file and line (all are counted).
   * @default 20
   */
  maxReportedErrors?: number;
  /**
   * The Arrow cache of parsed columns: a directory, or `false`. The first load of a CSV writes its
   * columns there; later loads read them without parsing. A cache file is keyed by the source's
   * path, size, modification time and a hash of its first and last 64 KiB, so a changed source is
   * never served stale. Needs `apache-arrow` (an optional peer): without it the cache is off and
   * the report's `cacheError` says so.
   * @default defaultCacheDir(): `FEED_CACHE_DIR`, else the platform's cache folder (`$XDG_CACHE_HOME/feed`, `~/.cache/feed`; `~/Library/Caches/feed` on macOS; `%LOCALAPPDATA%\feed\Cache` on Windows)
   */
  cache?: string | false;
  /**
   * The cache's bound: after a write, the least recently used cache files go until the folder's
   * cache files hold at most this many bytes (a read counts as a use).
   * @default 536870912 (512 MiB)
   */
  cacheMaxBytes?: number;
  /** Opens a file as a byte stream (tests; turns the cache off). */
  open?: (path: string) => Readable;
}

/**
 * The default cache directory: `FEED_CACHE_DIR` when set, else the platform's cache folder:
 * `$XDG_CACHE_HOME/feed` or `~/.cache/feed` (Linux and others), `~/Library/Caches/feed` (macOS),
 * `%LOCALAPPDATA%\feed\Cache` (Windows).
 */
export function defaultCacheDir(env: Readonly<Record<string, string | undefined>> = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.FEED_CACHE_DIR) return resolve(env.FEED_CACHE_DIR);
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'feed', 'Cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'feed');
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'feed');
}

/** The cache files of a folder (`<SYMBOL>-<path hash>-<key>.arrow`): nothing else there is touched. */
const CACHE_FILE = /^[A-Za-z0-9._-]+-[0-9a-f]{12}-[0-9a-f]{32}\.arrow$/;

async function cacheFiles(dir: string): Promise<{ path: string; size: number; used: number }[]> {
  const out: { path: string; size: number; used: number }[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!CACHE_FILE.test(name)) continue;
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (s?.isFile()) out.push({ path: join(dir, name), size: s.size, used: s.mtimeMs });
  }
  return out;
}

/** Removes the least recently used cache files until those left hold at most `maxBytes`. */
async function boundCache(dir: string, maxBytes: number, keep: string): Promise<void> {
  const files = (await cacheFiles(dir)).sort((a, b) => a.used - b.used);
  let total = files.reduce((a, f) => a + f.size, 0);
  for (const f of files) {
    if (total <= maxBytes) break;
    if (f.path === keep) continue;
    await unlink(f.path).catch(() => undefined);
    total -= f.size;
  }
}

/**
 * Empties the Arrow cache (only its own files: `<SYMBOL>-<hash>-<key>.arrow`); returns what it
 * removed. The next load of each CSV parses it again.
 */
export async function clearCache(dir: string = defaultCacheDir()): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const f of await cacheFiles(dir)) {
    await unlink(f.path);
    files++;
    bytes += f.size;
  }
  return { files, bytes };
}

/** The cache key of a source file: its path, size, mtime and a hash of its head and tail. */
export async function cacheKey(file: string, intervalMs: number): Promise<string> {
  const path = resolve(file);
  const s = await stat(path);
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: CACHE_VERSION, path, size: s.size, mtime: s.mtimeMs, intervalMs }));
  const fd = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(SAMPLE_BYTES, s.size));
    await fd.read(head, 0, head.length, 0);
    h.update(head);
    if (s.size > SAMPLE_BYTES) {
      const tail = Buffer.alloc(Math.min(SAMPLE_BYTES, s.size - SAMPLE_BYTES));
      await fd.read(tail, 0, tail.length, s.size - tail.length);
      h.update(tail);
    }
  } finally {
    await fd.close();
  }
  return h.digest('hex').slice(0, 32);
}

/** Cache files of one symbol's source share a prefix: `SYMBOL-<hash of the path>-`. */
function cachePrefix(symbol: string, file: string): string {
  const pathHash = createHash('sha256').update(resolve(file)).digest('hex').slice(0, 12);
  return `${symbol.slice(0, 40).replace(/[^A-Za-z0-9._-]/g, '_')}-${pathHash}-`;
}

/** Keeps one cache file per source: older versions of the same source's columns are removed. */
async function pruneCache(dir: string, prefix: string, keep: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (name.startsWith(prefix) && name.endsWith('.arrow') && path !== keep) await unlink(path).catch(() => undefined);
  }
}

interface StoredError {
  readonly message: string;
  readonly line: number | undefined;
  readonly column: string | undefined;
  readonly reason: string | undefined;
}

function storeReport(report: ParseReport): Record<string, unknown> {
  const prefix = (e: CsvError): string => `${e.file}${e.line === undefined ? '' : `:${e.line}`}: `;
  return {
    format: report.format,
    rows: report.rows,
    badRows: report.badRows,
    badByReason: report.badByReason,
    errors: report.errors.map((e): StoredError => ({ message: e.message.slice(prefix(e).length), line: e.line, column: e.column, reason: e.detail?.reason as string | undefined })),
  };
}

/** A parse report as stored in a cache file's metadata, with its errors as `CsvError`s again. */
export function restoreReport(symbol: string, file: string, stored: Record<string, unknown>): ParseReport {
  const errors = (stored.errors as StoredError[]).map(
    (e) => new CsvError({ code: 'csv_row', message: e.message, file, line: e.line, column: e.column, detail: { reason: e.reason } }),
  );
  return {
    symbol,
    file,
    format: stored.format as ParseReport['format'],
    rows: stored.rows as number,
    badRows: stored.badRows as number,
    badByReason: stored.badByReason as ParseReport['badByReason'],
    errors,
  };
}

/** The cache directory `options` name, or undefined when the cache is off for them. */
function cacheDirOf(options: LoadOptions): string | undefined {
  if (options.open !== undefined || options.cache === false || !hasArrowLibrary()) return undefined;
  return options.cache ?? defaultCacheDir();
}

/** The adjusted cache file of a raw cache file (keyed by the adjustment, the date and the actions' digest). */
function adjustedCacheFile(dir: string, symbol: string, file: string, rawCacheFile: string, adj: NonNullable<LoadOptions['adjust']>): { path: string; prefix: string; digest: string } {
  const digest = actionsDigest(adj.actions.filter((a) => a.symbol === symbol));
  const prefix = cachePrefix(`${symbol}.adj`, file);
  const key = createHash('sha256').update(`${rawCacheFile}|${adj.adjustment}|${adj.asOf}|${digest}`).digest('hex').slice(0, 32);
  return { path: fileInside(dir, `${prefix}${key}.arrow`), prefix, digest };
}

/**
 * The cache file that holds a CSV's columns (adjusted as `options.adjust` says), when it exists:
 * its path and what is known without reading bars. A stream then reads it by batches (and checks its
 * metadata); undefined when there is none yet (or the cache is off).
 */
export async function cacheFileOf(symbol: string, file: string, options: LoadOptions = {}): Promise<{ path: string; report: FileReport } | undefined> {
  const dir = cacheDirOf(options);
  if (dir === undefined || isArrowPath(file)) return undefined;
  const intervalMs = options.intervalMs ?? 60_000;
  let raw: string;
  try {
    raw = fileInside(dir, `${cachePrefix(symbol, file)}${await cacheKey(file, intervalMs)}.arrow`);
  } catch {
    return undefined;
  }
  const adj = options.adjust;
  const adjusted = adj !== undefined && adj.adjustment !== 'raw' ? adjustedCacheFile(dir, symbol, file, raw, adj) : undefined;
  const path = adjusted?.path ?? raw;
  // Both must be there: the raw file carries the parse report.
  const s = await stat(raw).catch(() => undefined);
  const a = adjusted === undefined ? s : await stat(adjusted.path).catch(() => undefined);
  if (s?.isFile() !== true || a?.isFile() !== true) return undefined;
  // A read is a use (the bound removes the least recently used first); file-system metadata, not market time.
  // eslint-disable-next-line no-restricted-syntax -- see above
  const now = new Date();
  await utimes(raw, now, now).catch(() => undefined);
  const report: FileReport = {
    symbol,
    file,
    format: undefined,
    rows: 0,
    badRows: 0,
    badByReason: {},
    errors: [],
    loaded: 0,
    filtered: 0,
    source: 'cache',
    cacheFile: raw,
    ...(adj === undefined || adjusted === undefined ? {} : { adjusted: { adjustment: adj.adjustment, asOf: adj.asOf, actionsDigest: adjusted.digest, source: 'cache' as const, cacheFile: adjusted.path } }),
  };
  if (adjusted === undefined) return { path, report };
  // The parse report lives in the raw cache file's metadata: read from its footer only.
  const { RecordBatchReader } = arrowLibrary('reading the Arrow cache');
  const fh = await open(raw, 'r');
  try {
    const reader = await RecordBatchReader.from(fh);
    await reader.open();
    const meta = reader.schema.metadata.get(ARROW_METADATA_KEY);
    const stored = meta === undefined ? undefined : ((JSON.parse(meta) as Record<string, unknown>).report as Record<string, unknown> | undefined);
    if (stored === undefined) return undefined;
    return { path, report: { ...report, ...restoreReport(symbol, file, stored) } };
  } catch {
    return undefined;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Loads one symbol's bars for replay: an Arrow file as it is, or a CSV through the Arrow cache
 * (parsed once, then read back as columns without parsing). The date filter is applied last, as
 * views of the loaded columns. Bad rows are reported exactly as a parse reports them, from the
 * cache too.
 */
export async function loadBars(symbol: string, file: string, options: LoadOptions = {}): Promise<{ bars: BarColumns; report: FileReport }> {
  const intervalMs = options.intervalMs ?? 60_000;
  const onBadRow = options.onBadRow ?? 'skip';
  let bars: BarColumns;
  let report: ParseReport;
  let source: FileReport['source'];
  let cacheFile: string | undefined;
  let cacheError: string | undefined;
  if (isArrowPath(file)) {
    const r = await readArrowFile(file);
    bars = r.bars;
    for (let i = 1; i < bars.length; i++) {
      if ((bars.start[i] as number) <= (bars.start[i - 1] as number)) {
        throw new CsvError({ code: 'csv_row', message: `Arrow rows are not in increasing time order at row ${i}`, file, line: i + 1 });
      }
    }
    report = { symbol, file, format: 'arrow', rows: bars.length, badRows: 0, badByReason: {}, errors: [] };
    source = 'arrow';
  } else {
    let dir = options.open !== undefined || options.cache === false ? undefined : (options.cache ?? defaultCacheDir());
    if (dir !== undefined && !hasArrowLibrary()) {
      cacheError = 'the cache is off: it needs apache-arrow, an optional peer dependency of @feed/csv (npm install apache-arrow)';
      dir = undefined;
    }
    let cached: { bars: BarColumns; report: ParseReport } | undefined;
    if (dir !== undefined) {
      try {
        cacheFile = fileInside(dir, `${cachePrefix(symbol, file)}${await cacheKey(file, intervalMs)}.arrow`);
        const r = await readArrowFile(cacheFile).catch(() => undefined);
        const stored = r?.metadata?.report as Record<string, unknown> | undefined;
        if (r !== undefined && stored !== undefined) {
          cached = { bars: r.bars, report: restoreReport(symbol, file, stored) };
          // A read is a use: the bound removes the least recently used first.
          // File-system metadata for the bound, not market time: the one wall-clock read here.
          // eslint-disable-next-line no-restricted-syntax -- see above
          const now = new Date();
          await utimes(cacheFile, now, now).catch(() => undefined);
        }
      } catch (error) {
        // The source itself cannot be read: the parse below says so with the right error.
        cacheFile = undefined;
        cacheError = (error as Error).message;
      }
    }
    if (cached !== undefined) {
      ({ bars, report } = cached);
      source = 'cache';
      if (onBadRow === 'fail' && report.errors[0] !== undefined) throw report.errors[0];
    } else {
      const parsed = await parseCsv(symbol, file, { onBadRow, intervalMs, maxReportedErrors: options.maxReportedErrors ?? 20, ...(options.open ? { open: options.open } : {}) });
      ({ bars, report } = parsed);
      source = 'csv';
      if (dir !== undefined && cacheFile !== undefined) {
        try {
          await mkdir(dir, { recursive: true });
          await writeAtomically(cacheFile, encodeArrow(bars, { version: 1, symbol, intervalMs, source: resolve(file), report: storeReport(report) }, { startAs: 'float64' }));
          await pruneCache(dir, cachePrefix(symbol, file), cacheFile);
          await boundCache(dir, options.cacheMaxBytes ?? 512 * 1024 * 1024, cacheFile);
        } catch (error) {
          cacheError = `cannot write the cache: ${(error as Error).message}`;
          cacheFile = undefined;
        }
      }
    }
  }
  let adjusted: FileReport['adjusted'];
  const adj = options.adjust;
  if (adj !== undefined && adj.adjustment !== 'raw') {
    const mine = adj.actions.filter((a) => a.symbol === symbol);
    const digest = actionsDigest(mine);
    const raw = bars;
    const closeBefore = (t: number): number | undefined => {
      const k = raw.lowerBound(t) - 1;
      return k >= 0 ? (raw.close[k]) : undefined;
    };
    const compute = (): BarColumns => raw.adjusted(adjustmentSegments(mine, { symbol, adjustment: adj.adjustment, asOf: adj.asOf, closeBefore }).segments);
    const dir = cacheDirOf(options);
    if (dir === undefined || cacheFile === undefined) {
      bars = compute();
      adjusted = { adjustment: adj.adjustment, asOf: adj.asOf, actionsDigest: digest, source: 'computed' };
    } else {
      // The same name `cacheFileOf` finds for a stream.
      const { path: adjFile, prefix } = adjustedCacheFile(dir, symbol, file, cacheFile, adj);
      const hit = await readArrowFile(adjFile).catch(() => undefined);
      if (hit !== undefined && hit.metadata?.actionsDigest === digest) {
        bars = hit.bars;
        adjusted = { adjustment: adj.adjustment, asOf: adj.asOf, actionsDigest: digest, source: 'cache', cacheFile: adjFile };
      } else {
        bars = compute();
        adjusted = { adjustment: adj.adjustment, asOf: adj.asOf, actionsDigest: digest, source: 'built', cacheFile: adjFile };
        try {
          const actions = mine.map((a) => ({ ...a }));
          await writeAtomically(adjFile, encodeArrow(bars, { version: 1, symbol, intervalMs, source: resolve(file), adjustment: adj.adjustment, asOf: adj.asOf, actionsDigest: digest, actions }, { startAs: 'float64' }));
          await pruneCache(dir, prefix, adjFile);
        } catch (error) {
          cacheError = `cannot write the adjusted cache: ${(error as Error).message}`;
        }
      }
    }
  }
  const from = options.from ?? Number.NEGATIVE_INFINITY;
  const to = options.to ?? Number.POSITIVE_INFINITY;
  const lo = from === Number.NEGATIVE_INFINITY ? 0 : bars.lowerBound(from);
  const hi = to === Number.POSITIVE_INFINITY ? bars.length : bars.lowerBound(to);
  const kept = lo === 0 && hi === bars.length ? bars : bars.slice(lo, Math.max(lo, hi));
  return {
    bars: kept,
    report: { ...report, loaded: kept.length, filtered: bars.length - kept.length, source, cacheFile, cacheError, ...(adjusted === undefined ? {} : { adjusted }) },
  };
}
