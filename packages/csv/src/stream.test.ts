import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, RecordBatch, Schema, Table, makeData, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { MIN, OPEN, realCsv, writeFiles } from '../test/fixtures.js';
import type { BarStream } from './index.js';
import { CsvError } from '@feed/core';
import { BarColumns, encodeArrow, loadBars, openBarStream } from './index.js';

const folder = (): string => mkdtempSync(join(tmpdir(), 'feed-stream-'));

/** `n` one-minute bars from OPEN, close = row number. */
function columns(n: number, from = 0): BarColumns {
  const b = new BarColumns(n);
  for (let i = from; i < from + n; i++) b.push(OPEN + i * MIN, 10 + i, 11 + i, 9 + i, i, 100 + i, Number.NaN, -1);
  return b;
}

async function drain(s: BarStream): Promise<{ starts: number[]; closes: number[]; chunkSizes: number[] }> {
  const starts: number[] = [];
  const closes: number[] = [];
  const chunkSizes: number[] = [];
  for (let c = await s.next(); c !== undefined; c = await s.next()) {
    chunkSizes.push(c.length);
    for (let i = 0; i < c.length; i++) {
      starts.push(c.start[i] as number);
      closes.push(c.close[i] as number);
    }
  }
  return { starts, closes, chunkSizes };
}

describe('openBarStream', () => {
  it('reads an Arrow file one record batch at a time, only the batches of the range, with exact counts before any bar is read', async () => {
    const path = join(folder(), 'A.arrow');
    writeFileSync(path, encodeArrow(columns(1000), { version: 1, symbol: 'A' }, { batchRows: 100 }));
    // [250, 725): cuts the third and the eighth batch.
    const from = OPEN + 250 * MIN;
    const to = OPEN + 725 * MIN;
    const s = await openBarStream('A', path, { from, to });
    expect(s.mode).toBe('batches');
    expect([s.length, s.first, s.last]).toEqual([475, from, OPEN + 724 * MIN]);
    expect(s.report).toMatchObject({ source: 'arrow', rows: 1000, loaded: 475, filtered: 525, badRows: 0 });
    const got = await drain(s);
    expect(got.chunkSizes).toEqual([50, 100, 100, 100, 100, 25]);
    const whole = (await loadBars('A', path, { from, to })).bars;
    expect(got.starts).toEqual(Array.from(whole.start));
    expect(got.closes).toEqual(Array.from(whole.close));
    // Rewound, the same rows again (a looping replay).
    s.rewind();
    expect((await drain(s)).starts).toEqual(got.starts);
    await s.close();
  });

  it('lists the batches of an Arrow file another tool wrote (no index in the metadata) and refuses rows out of order, naming the row', async () => {
    const dir = folder();
    const batch = (starts: number[]): RecordBatch => {
      const d = (v: number[]) => makeData({ type: new Float64(), length: v.length, data: Float64Array.from(v) });
      return new RecordBatch({ start: d(starts), open: d(starts.map(() => 1)), high: d(starts.map(() => 2)), low: d(starts.map(() => 0.5)), close: d(starts.map((_, i) => i)), volume: d(starts.map(() => 5)) });
    };
    const write = (name: string, batches: RecordBatch[]): string => {
      const schema = new Schema((batches[0] as RecordBatch).schema.fields);
      const p = join(dir, name);
      writeFileSync(p, tableToIPC(new Table(schema, batches.map((b) => new RecordBatch(schema, b.data))), 'file'));
      return p;
    };
    const good = write('good.arrow', [batch([OPEN, OPEN + MIN]), batch([OPEN + 2 * MIN, OPEN + 3 * MIN, OPEN + 4 * MIN])]);
    const s = await openBarStream('G', good, { from: OPEN + MIN });
    expect([s.mode, s.length, s.first, s.last]).toEqual(['batches', 4, OPEN + MIN, OPEN + 4 * MIN]);
    expect((await drain(s)).chunkSizes).toEqual([1, 3]);
    const bad = write('bad.arrow', [batch([OPEN, OPEN + MIN]), batch([OPEN + 2 * MIN, OPEN + MIN])]);
    const error = await openBarStream('B', bad).catch((e: unknown) => e);
    expect(CsvError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'csv_row', file: bad, line: 4 });
  });

  it('streams a CSV from its Arrow cache: built on first use, then read by batches; bad rows with file and line as loadBars reports them', async () => {
    const n = 5000;
    const text = realCsv(Array.from({ length: n }, (_, i) => i));
    const lines = text.trimEnd().split('\n');
    lines.splice(3000, 0, 'x,bad,1,1,1,1,1');
    const f = writeFiles({ 'a.csv': `${lines.join('\n')}\n` });
    const cache = folder();
    const first = await openBarStream('A', f['a.csv']!, { cache });
    expect(first.mode).toBe('batches');
    expect(first.report).toMatchObject({ source: 'csv', rows: n + 1, badRows: 1, loaded: n });
    const second = await openBarStream('A', f['a.csv']!, { cache, from: OPEN + 100 * MIN });
    expect(second.report).toMatchObject({ source: 'cache', rows: n + 1, badRows: 1, loaded: n - 100, filtered: 100 });
    expect(second.report.errors.map((e) => [e.file, e.line])).toEqual([[f['a.csv'], 3001]]);
    const got = await drain(second);
    expect(Math.max(...got.chunkSizes)).toBeLessThanOrEqual(2048);
    expect(got.starts).toEqual(Array.from({ length: n - 100 }, (_, i) => OPEN + (i + 100) * MIN));
    // Without the cache: the file is loaded whole, one chunk, the same rows.
    const whole = await openBarStream('A', f['a.csv']!, { cache: false, from: OPEN + 100 * MIN });
    expect(whole.mode).toBe('memory');
    expect((await drain(whole)).starts).toEqual(got.starts);
    await Promise.all([first.close(), second.close(), whole.close()]);
  });
});
