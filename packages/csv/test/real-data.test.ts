import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBars } from '../src/index.js';
import { rawStarts, realDataDir } from './real-data.js';

const dir = realDataDir();
if (dir === undefined && process.env.FEED_REQUIRE_REAL_DATA === '1') {
  throw new Error('FEED_REQUIRE_REAL_DATA=1 but no real data: set FEED_REAL_DATA_DIR or put shared/data/real beside the repository');
}

const ROWS = { TQQQ: 53_779, SQQQ: 53_779, SDS: 52_161, UVXY: 53_743, SVIX: 51_003, SPY: 48_000 };

describe.skipIf(dir === undefined)('real data: the six files through the reader and the Arrow cache', () => {
  it('reads every row of each file, from CSV and from the cache alike, starts equal to the raw text', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'feed-csv-real-'));
    for (const [symbol, n] of Object.entries(ROWS)) {
      const file = join(dir as string, `${symbol}.csv`);
      const csv = await loadBars(symbol, file, { cache });
      const cached = await loadBars(symbol, file, { cache });
      expect([csv.report.source, cached.report.source]).toEqual(['csv', 'cache']);
      expect(csv.report).toMatchObject({ rows: n, loaded: n, badRows: 0, format: 'real' });
      expect(cached.bars.length).toBe(n);
      const raw = rawStarts(file).map((s) => s * 1000);
      expect(Array.from(csv.bars.start)).toEqual(raw);
      for (const k of ['start', 'open', 'high', 'low', 'close', 'volume'] as const) {
        expect(Buffer.compare(Buffer.from(cached.bars[k].buffer, cached.bars[k].byteOffset, n * 8), Buffer.from(csv.bars[k].buffer, csv.bars[k].byteOffset, n * 8)), `${symbol} ${k}`).toBe(0);
      }
    }
  }, 120_000);
});
