import { appendFileSync, existsSync, mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBar } from '@feed/core';
import { tableFromIPC } from 'apache-arrow';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN, OPEN, realCsv, writeFiles } from '../test/fixtures.js';
import { clearCache, defaultCacheDir, loadBars, writeBarsFile } from './index.js';

const cacheDir = (): string => mkdtempSync(join(tmpdir(), 'feed-cache-'));
const rows = (b: { start: Float64Array; close: Float64Array; length: number }): number[][] =>
  Array.from({ length: b.length }, (_, i) => [b.start[i] as number, b.close[i] as number]);

describe('the Arrow cache', () => {
  it('the first load parses and writes the cache; the second reads the same columns and the same report from it', async () => {
    const f = writeFiles({ 'a.csv': `${realCsv([0, 1, 2]).trimEnd()}\nx,bad,1,1,1,1,1\n` });
    const cache = cacheDir();
    const first = await loadBars('A', f['a.csv']!, { cache });
    expect(first.report).toMatchObject({ source: 'csv', loaded: 3, badRows: 1, rows: 4 });
    expect(first.report.cacheFile).toBeDefined();
    expect(existsSync(first.report.cacheFile!)).toBe(true);
    const second = await loadBars('A', f['a.csv']!, { cache });
    expect(second.report).toMatchObject({ source: 'cache', loaded: 3, badRows: 1, rows: 4, badByReason: { unparseable_time: 1 } });
    expect(rows(second.bars)).toEqual(rows(first.bars));
    expect(second.report.errors.map((e) => [e.line, e.message])).toEqual(first.report.errors.map((e) => [e.line, e.message]));
  });

  it('a changed source is never served stale: an appended row (same mtime) is read', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1]) });
    const cache = cacheDir();
    await loadBars('A', f['a.csv']!, { cache });
    const { mtime, atime } = { mtime: new Date(1_700_000_000_000), atime: new Date(1_700_000_000_000) };
    utimesSync(f['a.csv']!, atime, mtime);
    expect((await loadBars('A', f['a.csv']!, { cache })).report.source).toBe('csv'); // a new mtime is a new key
    expect((await loadBars('A', f['a.csv']!, { cache })).report.source).toBe('cache');
    appendFileSync(f['a.csv']!, realCsv([2]).split('\n')[1]! + '\n');
    utimesSync(f['a.csv']!, atime, mtime); // same mtime: the size and the tail hash still differ
    const again = await loadBars('A', f['a.csv']!, { cache });
    expect(again.report.source).toBe('csv');
    expect(again.report.loaded).toBe(3);
    // One cache file per source: the older versions were removed.
    expect(readdirSync(cache)).toHaveLength(1);
  });

  it('is bounded: the least recently used cache files go first; clearCache() removes only its own files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-cache-bound-'));
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2]), 'b.csv': realCsv([0, 1, 2]), 'c.csv': realCsv([0, 1, 2]), [join('..', 'x-keep.txt')]: 'not a cache file' });
    const a = await loadBars('A', f['a.csv']!, { cache: dir });
    const size = readFileSync(a.report.cacheFile!).length;
    const b = await loadBars('B', f['b.csv']!, { cache: dir });
    // Oldest first by use: A was written first, but reading it again makes B the least recently used.
    utimesSync(a.report.cacheFile!, new Date(1000), new Date(1000));
    utimesSync(b.report.cacheFile!, new Date(500), new Date(500));
    expect((await loadBars('A', f['a.csv']!, { cache: dir })).report.source).toBe('cache');
    const c = await loadBars('C', f['c.csv']!, { cache: dir, cacheMaxBytes: 2 * size + 10 });
    const left = readdirSync(dir).sort();
    expect(left).toHaveLength(2);
    expect(existsSync(b.report.cacheFile!)).toBe(false);
    expect(existsSync(a.report.cacheFile!) && existsSync(c.report.cacheFile!)).toBe(true);
    appendFileSync(join(dir, 'notes.txt'), 'mine');
    const bytes = readFileSync(a.report.cacheFile!).length + readFileSync(c.report.cacheFile!).length;
    expect(await clearCache(dir)).toEqual({ files: 2, bytes });
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('goes by default to FEED_CACHE_DIR, else the platform cache folder, never node_modules', () => {
    expect(defaultCacheDir({ FEED_CACHE_DIR: '/srv/feed-cache' }, 'linux')).toBe('/srv/feed-cache');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/home/u/.xdg' }, 'linux')).toBe('/home/u/.xdg/feed');
    expect(defaultCacheDir({}, 'linux')).toMatch(/\/\.cache\/feed$/);
    expect(defaultCacheDir({}, 'darwin')).toMatch(/\/Library\/Caches\/feed$/);
    expect(defaultCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32')).toContain(join('feed', 'Cache'));
    expect(defaultCacheDir()).not.toContain('node_modules');
  });

  it('cache: false parses every time and writes nothing', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0]) });
    const r = await loadBars('A', f['a.csv']!, { cache: false });
    expect(r.report).toMatchObject({ source: 'csv', cacheFile: undefined });
  });

  it('an unwritable cache directory is reported in the report and the load goes on', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0]), 'blocker': 'a file where a directory should be' });
    const r = await loadBars('A', f['a.csv']!, { cache: join(f['blocker']!, 'sub') });
    expect(r.report.loaded).toBe(1);
    expect(r.report.cacheError).toMatch(/cannot write the cache/);
  });

  it('the date filter is applied to the cached columns as views', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2, 3]) });
    const cache = cacheDir();
    await loadBars('A', f['a.csv']!, { cache });
    const r = await loadBars('A', f['a.csv']!, { cache, from: OPEN + MIN, to: OPEN + 3 * MIN });
    expect(r.report).toMatchObject({ source: 'cache', loaded: 2, filtered: 2 });
    expect(rows(r.bars).map(([s]) => ((s as number) - OPEN) / MIN)).toEqual([1, 2]);
  });
});

describe('Arrow files as input and output', () => {
  it('writeBarsFile(..., "arrow") writes a timestamp column that reads back to the same bars', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-arrow-'));
    const bars = [0, 1, 2].map((m) =>
      makeBar({ symbol: 'TQQQ', start: OPEN + m * MIN, open: 1 + m, high: 2 + m, low: 0.5 + m, close: 1.5 + m, volume: 100 * m, vwap: m === 1 ? undefined : 1.2, tradeCount: m === 2 ? 7 : undefined, receivedAt: 0 }),
    );
    const path = join(dir, 'TQQQ.arrow');
    expect(await writeBarsFile(path, bars, 'arrow')).toBe(3);
    const table = tableFromIPC(readFileSync(path));
    expect(String(table.schema.fields.find((f) => f.name === 'start')?.type)).toBe('Timestamp<MILLISECOND, UTC>');
    expect(table.schema.fields.map((f) => f.name)).toEqual(['start', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count']);
    const r = await loadBars('TQQQ', path);
    expect(r.report).toMatchObject({ source: 'arrow', loaded: 3 });
    const back = Array.from({ length: 3 }, (_, i) => r.bars.bar(i, 'TQQQ', MIN, 0));
    expect(back).toEqual(bars);
  });
});
