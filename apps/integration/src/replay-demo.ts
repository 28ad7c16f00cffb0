import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SymbolConfig } from '@feed/core';
import { generateLeveraged, specFromConfig, writeRealDataCsv } from '@feed/synth';
import { MockMultiSymbolFeed, readBarsFromCsv } from '@feed/mock';
import type { Snapshot } from '@feed/data-manager';
import { MultiSymbolDataManager } from '@feed/data-manager';

export interface ReplayResult {
  lines: string[];
  missingFiles: string[];
  lastSlice: Snapshot | undefined;
}

const pad = (s: string, n: number): string => s.padStart(n);

/** Replays DIR/<SYMBOL>.csv for the symbols that have a file, into a data manager; returns the report lines. */
export async function replayDemo(
  dir: string,
  symbols: readonly string[],
  options: { speed: number; date: string | undefined; config: SymbolConfig; print: (line: string) => void },
): Promise<ReplayResult> {
  const files: Record<string, string> = {};
  const missingFiles: string[] = [];
  for (const s of symbols) {
    const path = join(dir, `${s}.csv`);
    if (existsSync(path)) files[s] = path;
    else {
      const synthesized = await synthesize(dir, s, options.config);
      if (synthesized === undefined) missingFiles.push(s);
      else {
        files[s] = synthesized.path;
        options.print(synthesized.note);
      }
    }
  }
  // Keep the configured order: a synthesized file is replayed in its symbol's place.
  const ordered: Record<string, string> = {};
  for (const s of symbols) if (files[s] !== undefined) ordered[s] = files[s];
  if (Object.keys(files).length === 0) return { lines: [`no CSV file for ${symbols.join(', ')} in ${dir}`], missingFiles, lastSlice: undefined };
  const [from, to] = options.date?.split('..') ?? [];
  const feed = new MockMultiSymbolFeed({
    files: ordered,
    speed: options.speed,
    ...(from === undefined ? {} : { dates: { from, to: to ?? from } }),
  });
  // The data manager tracks every configured symbol: one without a file stays missing, as live.
  const dm = new MultiSymbolDataManager({ symbols, clock: feed.clock });
  let lastSlice: Snapshot | undefined;
  dm.on('slice', (e) => {
    lastSlice = e.slice;
  });
  dm.attach(feed);
  let lastShown = -10;
  feed.on('progress', (p) => {
    if (p.percent >= lastShown + 10 || p.percent === 100) {
      lastShown = p.percent;
      const bar = '#'.repeat(Math.round(p.percent / 5)).padEnd(20, '.');
      options.print(`  [${bar}] ${String(p.percent).padStart(3)}%  ${p.barsReplayed.toLocaleString('en-US')} bars  ${new Date(p.currentTime).toISOString().slice(0, 16)}Z`);
    }
  });
  await feed.connect();
  const reports = feed.fileReports();
  options.print(`replaying ${reports.map((r) => `${r.symbol} ${r.loaded.toLocaleString('en-US')}`).join(', ')} bars at speed ${options.speed}`);
  await feed.start();
  await feed.whenDone();

  const q = dm.stats();
  const lines = [
    '',
    `${'symbol'.padEnd(7)}${pad('bars', 9)}${pad('rejected', 10)}${pad('bad rows', 10)}${pad('fwd-filled', 12)}${pad('avg age s', 11)}${pad('price', 11)}${pad('weight', 8)}  valid`,
  ];
  for (const s of symbols) {
    const st = q.bySymbol[s];
    const e = lastSlice?.symbols[s];
    const bad = reports.find((r) => r.symbol === s)?.badRows ?? 0;
    lines.push(
      `${s.padEnd(7)}${pad((st?.accepted ?? 0).toLocaleString('en-US'), 9)}${pad(String(st?.rejected ?? 0), 10)}${pad(String(bad), 10)}${pad(String(st?.forwardFilledIntervals ?? 0), 12)}${pad(st?.avgAgeMs === undefined || st.avgAgeMs === null ? '-' : (st.avgAgeMs / 1000).toFixed(1), 11)}${pad(e?.price === undefined || e.price === null ? '-' : e.price.toFixed(2), 11)}${pad(e ? e.stalenessWeight.toFixed(3) : '-', 8)}  ${e?.valid ? 'yes' : 'no'}`,
    );
  }
  lines.push('', `${q.slicesEmitted.toLocaleString('en-US')} slices; last as of ${lastSlice ? new Date(lastSlice.asOf).toISOString() : '-'}; usable: ${lastSlice?.usable ? 'yes' : 'no'}`);
  if (missingFiles.length > 0) lines.push(`no file for ${missingFiles.join(', ')}, and no underlying file to synthesize from: missing in every slice`);
  await feed.disconnect();
  dm.dispose();
  return { lines, missingFiles, lastSlice };
}

/** The level a synthesized fund starts at: its returns, not its price, come from the model. */
const SYNTHETIC_START_PRICE = 100;

/**
 * A leveraged fund whose file is missing, generated from its underlying's file in the same
 * directory (UPRO = 3x SPY, daily reset) into a temporary file; `undefined` when that is impossible.
 */
async function synthesize(dir: string, symbol: string, config: SymbolConfig): Promise<{ path: string; note: string } | undefined> {
  const info = config.symbols[symbol];
  if (info === undefined) return undefined;
  const basePath = join(dir, `${info.underlying}.csv`);
  if (!existsSync(basePath)) return undefined;
  const { bars: base } = await readBarsFromCsv(info.underlying, basePath, { onBadRow: 'skip' });
  if (base.length === 0) return undefined;
  const bars = generateLeveraged(base, specFromConfig(config, symbol, SYNTHETIC_START_PRICE));
  const path = join(mkdtempSync(join(tmpdir(), 'feed-demo-')), `${symbol}.csv`);
  await writeRealDataCsv(path, bars);
  const lev = `${info.leverage > 0 ? '' : '-'}${Math.abs(info.leverage)}x`;
  return {
    path,
    note: `${symbol}: no file; synthesized ${bars.length.toLocaleString('en-US')} bars from ${info.underlying}.csv (${lev} daily reset, from ${SYNTHETIC_START_PRICE}) -> ${path}`,
  };
}
