import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, CsvError, DEFAULT_SYMBOL_CONFIG, nyse, parseSymbolConfig } from '@feed/core';
import { actionFilePath, loadBars, parseCsv, readActionsCsv, readBarsFromCsv } from '@feed/csv';
import { describe, expect, it } from 'vitest';
import { generateFiles } from './index.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'feed-synth-gen-'));
const read = async (path: string): Promise<{ start: Float64Array; close: Float64Array; length: number }> =>
  (await parseCsv('X', path, { onBadRow: 'fail' })).bars;

describe('generateFiles', () => {
  it('simulates the bases and writes the six ETFs and SPY, QQQ for a date range, readable by @feed/csv', async () => {
    const out = tmp();
    const progress: string[] = [];
    const files = await generateFiles({ outDir: out, from: '2025-11-26', to: '2025-11-28', seed: 9, noTradeChance: {}, onProgress: (e) => progress.push(`${e.done}/${e.total} ${e.symbol}`) });
    expect(files.map((f) => f.symbol)).toEqual(['QQQ', 'SPY', 'TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX']);
    expect(progress.at(-1)).toBe('8/8 SVIX');
    // 2025-11-26 full day (391), 27 Thanksgiving, 28 early close (211).
    for (const f of files) {
      expect(f.bars).toBe(391 + 211);
      const back = await read(f.path);
      expect(back.length).toBe(f.bars);
    }
    // TQQQ follows 3x QQQ from the first bar's open (the first session's reference) at 60.
    const qqq = await read(join(out, 'QQQ.csv'));
    const tqqq = await read(join(out, 'TQQQ.csv'));
    const firstOpen = Number(readFileSync(join(out, 'QQQ.csv'), 'utf8').split('\n')[1]!.split(',')[2]);
    expect(tqqq.close[10]).toBeCloseTo(60 * (1 + 3 * ((qqq.close[10] as number) / firstOpen - 1)), 3);
    expect(files.find((f) => f.symbol === 'UVXY')?.source).toBe('volatility model on SPY (seed 9)');
  });

  it('--format arrow: the same bars as Arrow files', async () => {
    const csvDir = tmp();
    const arrowDir = tmp();
    await generateFiles({ outDir: csvDir, from: '2025-11-26', to: '2025-11-26', seed: 3, symbols: ['TQQQ'] });
    const files = await generateFiles({ outDir: arrowDir, from: '2025-11-26', to: '2025-11-26', seed: 3, symbols: ['TQQQ'], format: 'arrow' });
    expect(files.map((f) => f.path.slice(arrowDir.length + 1))).toEqual(['QQQ.arrow', 'TQQQ.arrow']);
    const a = await loadBars('TQQQ', join(arrowDir, 'TQQQ.arrow'));
    const c = await read(join(csvDir, 'TQQQ.csv'));
    expect(a.report.source).toBe('arrow');
    expect(Array.from(a.bars.close)).toEqual(Array.from(c.close.subarray(0, c.length)));
  });

  it('thins the thin funds by default, as measured on the real files, keeping each session\'s first bar', async () => {
    const out = tmp();
    const files = await generateFiles({ outDir: out, from: '2025-06-02', to: '2025-06-27', seed: 3 });
    const sessions = nyse.sessionsBetween('2025-06-02', '2025-06-27').length; // 19: Juneteenth is a holiday
    const minutes = sessions * 391;
    const bars = Object.fromEntries(files.map((f) => [f.symbol, f.bars]));
    expect(bars.TQQQ).toBe(minutes);
    expect(bars.SQQQ).toBe(minutes);
    expect(bars.UPRO).toBe(minutes);
    // SDS ~3.0 % and SVIX ~5.2 % missing: within 4 standard deviations of the expected count.
    for (const [s, p] of [['SDS', 1618 / 53_779], ['SVIX', 2776 / 53_779]] as const) {
      const missing = minutes - (bars[s] as number);
      const sd = Math.sqrt(minutes * p * (1 - p));
      expect(Math.abs(missing - minutes * p), s).toBeLessThan(4 * sd);
    }
    expect(files.find((f) => f.symbol === 'SVIX')?.source).toMatch(/no trade in 5\.2 % of minutes$/);
    const svix = await read(join(out, 'SVIX.csv'));
    // Every session's 09:30 bar is there.
    let opens = 0;
    for (let i = 0; i < svix.length; i++) if (((svix.start[i] as number) / 1000 - 4 * 3600) % 86_400 === 9.5 * 3600) opens++; // EDT: UTC-4
    expect(opens).toBe(sessions);
    // The same seed gives the same files.
    const again = await generateFiles({ outDir: tmp(), from: '2025-06-02', to: '2025-06-27', seed: 3, symbols: ['SVIX'] });
    expect(again.find((f) => f.symbol === 'SVIX')?.bars).toBe(bars.SVIX);
  });

  it('uses a given base file, and names the file when it does not cover the range', async () => {
    const dir = tmp();
    const spy = join(dir, 'SPY.csv');
    const open = 1743514200; // 2025-04-01 09:30 New York
    writeFileSync(spy, ['ts_utc,ts_nyt_epoch,open,high,low,close,volume', ...[0, 1, 2].map((m) => `x,${open + m * 60},500,501,499,500.5,1000`)].join('\n'));
    const files = await generateFiles({ outDir: join(dir, 'out'), symbols: ['UPRO'], baseFiles: { SPY: spy } });
    expect(files.map((f) => [f.symbol, f.bars, f.source])).toEqual([
      ['SPY', 3, `copied from ${spy}`],
      ['UPRO', 3, '3x SPY (daily reset)'],
    ]);
    await expect(generateFiles({ outDir: join(dir, 'o2'), symbols: ['UPRO'], baseFiles: { SPY: spy }, from: '2025-04-01', to: '2025-04-02' })).rejects.toThrowError(
      new RegExp(`${spy.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} covers 2025-04-01 \\.\\. 2025-04-01, not 2025-04-01 \\.\\. 2025-04-02`),
    );
  });

  it('gives clear errors: empty range, missing or malformed input, unknown symbol, missing model', async () => {
    const dir = tmp();
    await expect(generateFiles({ outDir: dir, from: '2025-10-18', to: '2025-10-19' })).rejects.toThrowError(/no NYSE session between 2025-10-18 and 2025-10-19/);
    await expect(generateFiles({ outDir: dir, from: '2025-10-20', to: '2025-10-17' })).rejects.toThrowError(/the date range 2025-10-20 \.\. 2025-10-17 is empty/);
    await expect(generateFiles({ outDir: dir, symbols: ['UPRO'], baseFiles: { SPY: join(dir, 'none.csv') } })).rejects.toSatisfy(
      (e: unknown) => CsvError.isInstance(e) && e.code === 'csv_file',
    );
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'ts_utc,ts_nyt_epoch,open,high,low,close,volume\nx,1743514200,500,501,499,500.5,1000\nx,1743514260,5OO,501,499,500,1\n');
    await expect(generateFiles({ outDir: dir, symbols: ['SDS'], baseFiles: { SPY: bad } })).rejects.toSatisfy(
      (e: unknown) => CsvError.isInstance(e) && e.line === 3 && e.column === 'open',
    );
    await expect(generateFiles({ outDir: dir, symbols: ['SSO'], from: '2025-10-16', to: '2025-10-16' })).rejects.toSatisfy(
      (e: unknown) => ConfigError.isInstance(e) && /'SSO' is not in the symbol configuration/.test(e.message),
    );
    const config = parseSymbolConfig({
      version: 1,
      symbols: { ...DEFAULT_SYMBOL_CONFIG.symbols, VIXY: { description: 'x', underlying: 'VIX_FUTURES', leverage: 1, expenseRatio: 0.0085 } },
    });
    await expect(generateFiles({ outDir: dir, symbols: ['VIXY'], config, from: '2025-10-16', to: '2025-10-16' })).rejects.toThrowError(/no volatility model for VIXY/);
  });

  it('takes others from the configuration: SSO = 2x SPY', async () => {
    const config = parseSymbolConfig({ version: 1, symbols: { SSO: { description: 'ProShares Ultra S&P 500', underlying: 'SPY', leverage: 2, expenseRatio: 0.0089 } } });
    const files = await generateFiles({ outDir: tmp(), symbols: ['SSO'], config, from: '2025-10-16', to: '2025-10-16', startPrices: { SSO: 95 } });
    expect(files.map((f) => [f.symbol, f.source])).toEqual([
      ['SPY', 'simulated'],
      ['SSO', '2x SPY (daily reset)'],
    ]);
  });
});

describe('synthetic splits', () => {
  it('places a 1-for-10 reverse split: the fund trades on the new basis from the ex-date on, and the split is written beside its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-synth-split-'));
    const plain = mkdtempSync(join(tmpdir(), 'feed-synth-plain-'));
    const opts = { from: '2025-10-15', to: '2025-10-16', seed: 3, symbols: ['UVXY'] };
    const files = await generateFiles({ ...opts, outDir: dir, splits: [{ symbol: 'UVXY', exDate: '2025-10-16', ratio: 0.1 }] });
    const base = await generateFiles({ ...opts, outDir: plain });
    const uvxy = files.find((f) => f.symbol === 'UVXY')!;
    expect(uvxy.source).toMatch(/split 1-for-10 on 2025-10-16/);
    const split = (await readBarsFromCsv('UVXY', uvxy.path)).bars;
    const unsplit = (await readBarsFromCsv('UVXY', base.find((f) => f.symbol === 'UVXY')!.path)).bars;
    const ex = Date.UTC(2025, 9, 16, 4);
    expect(split.length).toBe(unsplit.length);
    for (let i = 0; i < split.length; i++) {
      const k = unsplit[i]!.start >= ex ? 10 : 1;
      expect(split[i]!.close).toBeCloseTo(unsplit[i]!.close * k, 2);
    }
    const { actions } = await readActionsCsv(actionFilePath(uvxy.path));
    expect(actions).toEqual([{ symbol: 'UVXY', kind: 'reverse_split', exDate: '2025-10-16', ratio: 0.1, source: 'synth' }]);
  });
});
