import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, CsvError, makeBar } from '@feed/core';
import { barFilePath, fileInside } from './paths.js';
import { writeBarsFile } from './writer.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('paths: nothing is written outside the output folder', () => {
  it('barFilePath: a ticker becomes a file inside the folder; a pair writes its / as _', () => {
    expect(barFilePath('/data', 'TQQQ', 'csv')).toBe('/data/TQQQ.csv');
    expect(barFilePath('/data', 'BTC/USD', 'arrow')).toBe('/data/BTC_USD.arrow');
  });

  it('refuses every name that would leave the folder, with a ConfigError', () => {
    for (const s of ['../PWNED', '../../etc/passwd', '/ETC', 'A/B/C', '..', '.', '']) expect(() => barFilePath('/data', s, 'csv'), s).toThrow(ConfigError);
    for (const n of ['../x.csv', '/abs.csv', 'a/b.csv', '..', '.', '']) expect(() => fileInside('/data', n), n).toThrow(ConfigError);
    expect(fileInside('/data/', 'x.csv')).toBe('/data/x.csv');
  });

  it('writeBarsFile into a folder that does not exist: a CsvError naming the file and the folder, not the temporary name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'feed-paths-'));
    dirs.push(dir);
    const path = join(dir, 'missing', 'SPY.arrow');
    const bar = makeBar({ symbol: 'SPY', start: Date.UTC(2025, 9, 16, 13, 30), open: 1, high: 1, low: 1, close: 1, volume: 1, receivedAt: 0 });
    const error = await writeBarsFile(path, [bar], 'arrow').catch((e: unknown) => e);
    expect(CsvError.isInstance(error)).toBe(true);
    expect((error as CsvError).message).toBe(`${path}: cannot write: its folder ${join(dir, 'missing')} does not exist`);
    expect((error as CsvError).message).not.toMatch(/\.tmp/);
    expect(await readdir(dir)).toEqual([]);
  });
});
