import { existsSync, readFileSync } from 'node:fs';
import type { Adjustment } from '@feed/core';
import { ADJUSTMENTS, ConfigError, CsvError } from '@feed/core';
import { writeAtomically } from './arrow.js';

/**
 * What a bar file holds, recorded beside it (`TQQQ.basis.json`) by a download: the provider, its
 * feed (`iex`, `sip`, ...) and the adjustment the prices carry (`raw` unless asked otherwise). A
 * replay checks that its files agree, so that raw and adjusted bars, or IEX and SIP bars, are never
 * mixed silently.
 */
export interface FileBasis {
  readonly provider: string;
  readonly feed?: string;
  readonly adjustment: Adjustment;
}

/** The basis file of a bar file: `dir/TQQQ.csv` -> `dir/TQQQ.basis.json`. */
export function basisFilePath(barFile: string): string {
  return barFile.replace(/\.(csv|arrow)$/i, '') + '.basis.json';
}

/** Writes a bar file's basis (atomically). */
export async function writeBasis(barFile: string, basis: FileBasis): Promise<void> {
  await writeAtomically(basisFilePath(barFile), `${JSON.stringify({ provider: basis.provider, ...(basis.feed === undefined ? {} : { feed: basis.feed }), adjustment: basis.adjustment }, null, 2)}\n`);
}

/** A bar file's basis, or `undefined` when it has none (a file of unknown origin); a malformed one is a `CsvError`. */
export function readBasis(barFile: string): FileBasis | undefined {
  const path = basisFilePath(barFile);
  if (!existsSync(path)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CsvError({ code: 'csv_file', message: `not a basis file (${(error as Error).message.slice(0, 80)})`, file: path, cause: error });
  }
  const b = v as Partial<Record<keyof FileBasis, unknown>>;
  if (typeof v !== 'object' || v === null || typeof b.provider !== 'string' || !ADJUSTMENTS.includes(b.adjustment as Adjustment) || (b.feed !== undefined && typeof b.feed !== 'string')) {
    throw new CsvError({ code: 'csv_file', message: 'not a basis file: it needs provider (a string), adjustment (raw, split, dividend or all) and optionally feed', file: path });
  }
  return { provider: b.provider, adjustment: b.adjustment as Adjustment, ...(typeof b.feed === 'string' ? { feed: b.feed } : {}) };
}

/**
 * Checks that the files of one replay hold bars of one basis: the same adjustment and the same
 * feed wherever recorded; and, when the replay adjusts (`adjustment` other than `raw`), that none
 * is adjusted already. A file without a basis file passes. A mix is a `ConfigError` naming both files.
 */
export function checkBases(files: Readonly<Record<string, string>>, adjustment: Adjustment): void {
  let first: { file: string; basis: FileBasis } | undefined;
  for (const file of Object.values(files)) {
    const basis = readBasis(file);
    if (basis === undefined) continue;
    if (adjustment !== 'raw' && basis.adjustment !== 'raw') {
      throw new ConfigError({ code: 'invalid_option', message: `${file} holds ${basis.adjustment}-adjusted bars (${basisFilePath(file)}): the replay would adjust them again; replay it with adjustment: 'raw', or download it raw`, issues: [{ path: 'adjustment', message: `${file} is ${basis.adjustment}-adjusted` }] });
    }
    if (first === undefined) {
      first = { file, basis };
      continue;
    }
    const a = first.basis;
    if (a.adjustment !== basis.adjustment || (a.feed !== undefined && basis.feed !== undefined && a.feed !== basis.feed)) {
      const what = (f: string, x: FileBasis): string => `${f} (${x.provider}${x.feed === undefined ? '' : ` ${x.feed}`}, ${x.adjustment})`;
      throw new ConfigError({ code: 'invalid_option', message: `refused to mix bars of two bases: ${what(first.file, a)} and ${what(file, basis)}`, issues: [{ path: 'files', message: 'bars of different feeds or adjustments' }] });
    }
  }
}
