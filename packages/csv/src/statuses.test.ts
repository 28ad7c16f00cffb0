import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvError, makeTradingStatus } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { STATUS_COLUMNS, parseStatusesCsv, readStatusesCsv, statusFilePath, writeStatusesCsv } from './index.js';

const T = Date.UTC(2025, 9, 16, 14, 0, 30, 123);

describe('trading-status sidecar files', () => {
  it('sits beside its bar file', () => {
    expect(statusFilePath('/data/TQQQ.csv')).toBe('/data/TQQQ.statuses.csv');
    expect(statusFilePath('/data/BTC_USD.arrow')).toBe('/data/BTC_USD.statuses.csv');
  });

  it('writes and reads back every field, text with commas and quotes included, in time order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-statuses-'));
    const path = join(dir, 'TQQQ.statuses.csv');
    const statuses = [
      makeTradingStatus({ symbol: 'TQQQ', at: T + 300_000, kind: 'status', effect: 'resume', code: 'T', message: 'Trading Resumption', tape: 'C', receivedAt: 1 }),
      makeTradingStatus({ symbol: 'TQQQ', at: T, kind: 'status', effect: 'halt', code: 'H', message: 'Trading Halt', reasonCode: 'T12', reasonMessage: 'Trading Halted; For information requested by NASDAQ, "quoted", and more', tape: 'C', receivedAt: 2 }),
      makeTradingStatus({ symbol: 'TQQQ', at: T + 1, kind: 'luld', effect: 'none', code: 'B', limitUp: 52.25, limitDown: 47.75, tape: 'C', receivedAt: 3 }),
    ];
    await writeStatusesCsv(path, statuses);
    const { statuses: back, errors } = await readStatusesCsv(path);
    expect(errors).toEqual([]);
    const expected = [...statuses].sort((a, b) => a.at - b.at).map((s) => ({ ...s, receivedAt: s.at }));
    expect(back).toEqual(expected);
  });

  it('bad lines: each a CsvError with file and line and column, the good lines kept', () => {
    const good = '2025-10-16T14:00:30.000Z,TQQQ,status,halt,H,Trading Halt,LUDP,,,,C';
    const text = [
      STATUS_COLUMNS.join(','),
      good,
      'yesterday,TQQQ,status,halt,H,,,,,,C',
      '2025-10-16T14:00:31.000Z,TQQQ,status,explode,H,,,,,,C',
      '2025-10-16T14:00:32.000Z,TQQQ,weird,halt,H,,,,,,C',
      '2025-10-16T14:00:33.000Z,TQQQ,luld,none,B,,,,-1,2,C',
      '2025-10-16T14:00:34.000Z,TQQQ,status',
      '2025-10-16T14:00:35.000Z,,status,halt,H,,,,,,C',
      '2025-10-16T14:00:36.000Z,TQQQ,status,halt,"H,,,,,,C',
      '2025-10-16T14:05:30.000Z,TQQQ,status,resume,T,,,,,,C',
    ].join('\n');
    const { statuses, errors } = parseStatusesCsv(text, 'TQQQ.statuses.csv');
    expect(statuses.map((s) => s.effect)).toEqual(['halt', 'resume']);
    expect(errors.map((e) => [e.line, e.column])).toEqual([
      [3, 'at'],
      [4, 'effect'],
      [5, 'kind'],
      [6, 'limit_up'],
      [7, undefined],
      [8, 'symbol'],
      [9, undefined],
    ]);
    expect(errors.every((e) => CsvError.isInstance(e) && e.code === 'csv_row' && e.message.startsWith('TQQQ.statuses.csv:'))).toBe(true);
  });

  it('a file that is not a status file: a csv_column error naming the header', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-statuses-'));
    const path = join(dir, 'X.statuses.csv');
    writeFileSync(path, 'ts_utc,open,high\n1,2,3\n');
    await expect(readStatusesCsv(path)).rejects.toMatchObject({ code: 'csv_column', line: 1 });
    await expect(readStatusesCsv(join(dir, 'none.csv'))).rejects.toMatchObject({ code: 'csv_file' });
  });
});
