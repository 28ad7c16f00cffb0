import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '@feed/data-manager';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { MockMultiSymbolFeed } from '@feed/mock';

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
  options: { speed: number; date: string | undefined; print: (line: string) => void },
): Promise<ReplayResult> {
  const files: Record<string, string> = {};
  const missingFiles: string[] = [];
  for (const s of symbols) {
    const path = join(dir, `${s}.csv`);
    if (existsSync(path)) files[s] = path;
    else missingFiles.push(s);
  }
  if (Object.keys(files).length === 0) return { lines: [`no CSV file for ${symbols.join(', ')} in ${dir}`], missingFiles, lastSlice: undefined };
  const [from, to] = options.date?.split('..') ?? [];
  const feed = new MockMultiSymbolFeed({
    files,
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
  if (missingFiles.length > 0) lines.push(`no file for ${missingFiles.join(', ')}: missing in every slice (synthesis comes with @feed/synth)`);
  await feed.disconnect();
  dm.dispose();
  return { lines, missingFiles, lastSlice };
}
