import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SymbolConfig } from '@feed/core';
import { generateLeveraged, specFromConfig } from '@feed/synth';
import { readBarsFromCsv, writeRealDataCsv } from '@feed/csv';
import { runTempDir } from './paths.js';

export interface ResolvedFiles {
  /** Symbol -> CSV path, in the configured order. */
  readonly files: Record<string, string>;
  /** Symbols with no file and no underlying file to synthesize one from. */
  readonly missing: string[];
  /** Symbols synthesized from their underlying's file. */
  readonly synthetic: string[];
}

/**
 * DIR/<SYMBOL>.csv for each symbol; a leveraged fund without a file is synthesized from its
 * underlying's file in DIR (UPRO = 3x SPY) into a temporary file.
 */
export async function resolveFiles(dir: string, symbols: readonly string[], config: SymbolConfig, print: (line: string) => void): Promise<ResolvedFiles> {
  const files: Record<string, string> = {};
  const missing: string[] = [];
  const synthetic: string[] = [];
  for (const s of symbols) {
    const path = join(dir, `${s}.csv`);
    if (existsSync(path)) files[s] = path;
    else {
      const synthesized = await synthesize(dir, s, config);
      if (synthesized === undefined) missing.push(s);
      else {
        files[s] = synthesized.path;
        synthetic.push(s);
        print(synthesized.note);
      }
    }
  }
  return { files, missing, synthetic };
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
  const path = join(runTempDir(), `${symbol}.csv`);
  await writeRealDataCsv(path, bars);
  const lev = `${info.leverage > 0 ? '' : '-'}${Math.abs(info.leverage)}x`;
  return {
    path,
    note: `${symbol}: no file; synthesized ${bars.length.toLocaleString('en-US')} bars from ${info.underlying}.csv (${lev} daily reset, from ${SYNTHETIC_START_PRICE}) -> ${path}`,
  };
}
