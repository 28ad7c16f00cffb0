import { CsvError } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { realCsv, writeFiles, OPEN, MIN } from '../test/fixtures.js';
import { readBarsFromCsv } from './index.js';

describe('readBarsFromCsv', () => {
  it('reads a whole file into frozen bars, receivedAt at each end', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1]) });
    const { bars, report } = await readBarsFromCsv('TQQQ', f['a.csv']!);
    expect(bars.map((b) => [b.start, b.close, b.receivedAt])).toEqual([
      [OPEN, 100.25, OPEN + MIN],
      [OPEN + MIN, 101.25, OPEN + 2 * MIN],
    ]);
    expect(Object.isFrozen(bars[0])).toBe(true);
    expect(report.rows).toBe(2);
  });
  it('fails on the first bad row by default, naming file and line', async () => {
    const f = writeFiles({ 'b.csv': 'ts_utc,ts_nyt_epoch,open,high,low,close,volume\nx,1743514200,1,1,1,1,1\nx,1743514260,1,1,1,1,-3\n' });
    await expect(readBarsFromCsv('X', f['b.csv']!)).rejects.toSatisfy((e: unknown) => CsvError.isInstance(e) && e.line === 3);
  });
});
