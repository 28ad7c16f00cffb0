import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CsvError } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { MIN, OPEN, writeFiles } from '../test/fixtures.js';
import type { ParseReport } from './index.js';
import { parseCsv, readLines } from './index.js';

const HEADER = 'ts_utc,ts_nyt_epoch,open,high,low,close,volume';
const OPEN_S = OPEN / 1000;
/** One good real-data line for minute `m`. */
const row = (m: number, epoch: string | number = OPEN_S + m * 60): string => {
  const c = 100 + m;
  return `2025-04-01T09:30:00-04:00,${epoch},${c},${c + 0.5},${c - 0.5},${c + 0.25},${1000 + m}.0`;
};
async function parse(text: string, options: Parameters<typeof parseCsv>[2] = {}): Promise<{ minutes: number[]; report: ParseReport; lines: [number | undefined, string][] }> {
  const f = writeFiles({ 'x.csv': text });
  const { bars, report } = await parseCsv('X', f['x.csv']!, options);
  return {
    minutes: Array.from(bars.start.subarray(0, bars.length), (s) => (s - OPEN) / MIN),
    report,
    lines: report.errors.map((e) => [e.line, (e.detail?.reason as string) ?? '']),
  };
}

describe('one physical line, one record: bad lines are reported and skipped, every good line delivered', () => {
  it('an epoch with an extra digit on line 12 of 100 rows: line 12 is implausible_time, the 99 others (89 after it) delivered', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => (i === 10 ? row(i, `${OPEN_S + i * 60}0`) : row(i)));
    const { minutes, report, lines } = await parse([HEADER, ...rows].join('\n'));
    expect(lines).toEqual([[12, 'implausible_time']]);
    expect(minutes).toHaveLength(99);
    expect(minutes).not.toContain(10);
    expect(report.errors[0]!.message).toMatch(/outside 1990-01-01\.\.2100-01-01/);
  });

  it('microsecond epochs are implausible, not the year 57242', async () => {
    const { minutes, lines } = await parse([HEADER, row(0), row(1, `${(OPEN_S + 60) * 1_000_000}`), row(2)].join('\n'));
    expect(minutes).toEqual([0, 2]);
    expect(lines).toEqual([[3, 'implausible_time']]);
  });

  it('an implausible time is never the reference for ordering: out_of_order compares with the last accepted row', async () => {
    const { minutes, lines } = await parse([HEADER, row(0), row(1, '99999999999'), row(1), row(2), row(1)].join('\n'));
    expect(minutes).toEqual([0, 1, 2]);
    expect(lines).toEqual([[3, 'implausible_time'], [6, 'out_of_order']]);
  });

  it('blank and white-space-only lines are skipped, not reported', async () => {
    const { minutes, report } = await parse(`${HEADER}\n\n${row(0)}\n          \n\t\n${row(1)}\n`);
    expect(minutes).toEqual([0, 1]);
    expect(report).toMatchObject({ rows: 2, badRows: 0 });
  });

  it('CRLF with some LF-only lines: every good row delivered, nothing reported', async () => {
    const { minutes, report } = await parse(`${HEADER}\r\n${row(0)}\r\n${row(1)}\n${row(2)}\r\n${row(3)}\n`);
    expect(minutes).toEqual([0, 1, 2, 3]);
    expect(report.badRows).toBe(0);
  });

  it('classic-Mac CR line endings and a CRLF split between two chunks read as lines too', async () => {
    const { minutes } = await parse(`${HEADER}\r${row(0)}\r${row(1)}\r`);
    expect(minutes).toEqual([0, 1]);
    const seen: [string, number][] = [];
    await readLines(Readable.from([Buffer.from('a,b\r'), Buffer.from('\nc,d\r'), Buffer.from('\r\ne')]), (t, n) => void seen.push([t, n]));
    expect(seen).toEqual([['a,b', 1], ['c,d', 2], ['', 3], ['e', 4]]);
  });

  it('a quote opening on line 3 and closing on line 6: lines 3 and 6 reported, the 2 good rows between them delivered', async () => {
    const { minutes, lines } = await parse([HEADER, row(0), `"${row(1)}`, row(2), row(3), `${row(4)}"`, row(5)].join('\n'));
    expect(minutes).toEqual([0, 2, 3, 5]);
    expect(lines).toEqual([[3, 'quote'], [6, 'quote']]);
  });

  it("one unclosed quote with onBadRow 'skip' rejects nothing but its own line", async () => {
    const { minutes, lines } = await parse([HEADER, row(0), `2025-04-01T09:31:00-04:00,"${OPEN_S + 60},1,1,1,1,1`, row(2)].join('\n'), { onBadRow: 'skip' });
    expect(minutes).toEqual([0, 2]);
    expect(lines).toEqual([[3, 'quote']]);
  });

  it('properly quoted fields on one line are read (csv-parse handles the quoting)', async () => {
    const { minutes, report } = await parse([HEADER, `"2025-04-01T09:30:00-04:00","${OPEN_S}","100","100.5","99.5","100.25","1000.0"`].join('\n'));
    expect(minutes).toEqual([0]);
    expect(report.badRows).toBe(0);
  });

  it('a wrong column count is reported with the counts', async () => {
    const { minutes, report, lines } = await parse([HEADER, row(0), `${OPEN_S + 60},1,1,1`, `${row(2)},extra`, row(3)].join('\n'));
    expect(minutes).toEqual([0, 3]);
    expect(lines).toEqual([[3, 'column_count'], [4, 'column_count']]);
    expect(report.errors[0]!.message).toMatch(/4 fields where the header has 7/);
  });

  it('a 10 MB line gives an error that quotes at most 200 characters of it', async () => {
    const huge = `${OPEN_S + 60},${'9'.repeat(10_000_000)},1,1,1,1,1`;
    const { minutes, report } = await parse([HEADER, row(0), huge, row(2)].join('\n'));
    expect(minutes).toEqual([0, 2]);
    expect(report.errors[0]!.message.length).toBeLessThan(400);
    expect(report.errors[0]!.message).toMatch(/\(10000\d{3} characters\)/);
  });

  it('numbers are decimal only: 0x21C and 0b101 are unparseable_number', async () => {
    const { minutes, lines, report } = await parse([HEADER, row(0), `x,${OPEN_S + 60},0x21C,600,500,550,1`, `x,${OPEN_S + 120},1,1,1,1,0b101`, row(3)].join('\n'));
    expect(minutes).toEqual([0, 3]);
    expect(lines).toEqual([[3, 'unparseable_number'], [4, 'unparseable_number']]);
    expect(report.errors[0]!).toMatchObject({ column: 'open' });
  });

  it('only regular files are read: a FIFO with no writer is a csv_file error, not a hang', async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'feed-csv-')), 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    const error = await parseCsv('X', fifo).catch((e: unknown) => e);
    expect(CsvError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'csv_file' });
    expect((error as Error).message).toMatch(/cannot read a FIFO: only regular files are read/);
  });

  it("onBadRow 'fail' rejects with the first bad line, named by file and line", async () => {
    const f = writeFiles({ 'y.csv': [HEADER, row(0), `x,${OPEN_S + 60},nope,1,1,1,1`, row(2)].join('\n') });
    const error = await parseCsv('X', f['y.csv']!, { onBadRow: 'fail' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'csv_row', line: 3, column: 'open' });
    expect((error as Error).message).toContain(`${f['y.csv']}:3: cannot read open 'nope' as a decimal number [unparseable_number]`);
  });
});
