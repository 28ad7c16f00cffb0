import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bar } from '@feed/core';
import { nyse, sameBarData } from '@feed/core';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { describe, expect, it } from 'vitest';
import { ARROW_BATCH_ROWS } from '@feed/csv';
import { MockMultiSymbolFeed } from '../src/index.js';
import { rawStarts, realDataDir } from './real-data.js';

const dir = realDataDir();
if (dir === undefined && process.env.FEED_REQUIRE_REAL_DATA === '1') {
  throw new Error('FEED_REQUIRE_REAL_DATA=1 but no real data: set FEED_REAL_DATA_DIR or put shared/data/real beside the repository');
}

const ETFS = ['TQQQ', 'SQQQ', 'SDS', 'UVXY', 'SVIX'] as const;
const ROWS = { TQQQ: 53_779, SQQQ: 53_779, SDS: 52_161, UVXY: 53_743, SVIX: 51_003 };

describe.skipIf(dir === undefined)('real data: the five ETF files replayed at speed 0 into a data manager', () => {
  it(
    'delivers exactly the rows in the files, one slice per distinct minute, and forward fills where SDS and SVIX have gaps',
    async () => {
      const files = Object.fromEntries(ETFS.map((s) => [s, join(dir as string, `${s}.csv`)]));
      const feed = new MockMultiSymbolFeed({ files, speed: 0 });
      const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock });
      let slices = 0;
      let lastAsOf = 0;
      let outOfOrder = 0;
      dm.on('slice', (e) => {
        if (e.slice.asOf <= lastAsOf) outOfOrder++;
        lastAsOf = e.slice.asOf;
        slices++;
      });
      dm.attach(feed);
      await feed.connect();
      await feed.start();
      await feed.whenDone();

      // Independent figures, from the raw text.
      const starts = Object.fromEntries(ETFS.map((s) => [s, rawStarts(files[s] as string)])) as Record<(typeof ETFS)[number], number[]>;
      const minutes = [...new Set(ETFS.flatMap((s) => starts[s]))].sort((a, b) => a - b);
      const stats = dm.stats();
      for (const s of ETFS) {
        expect(starts[s]).toHaveLength(ROWS[s]);
        expect(feed.stats().barsBySymbol[s]).toBe(ROWS[s]);
        expect(stats.bySymbol[s]).toMatchObject({ accepted: ROWS[s], rejected: 0, duplicates: 0, revisions: 0 });
      }
      expect(feed.stats().badRows).toBe(0);
      expect(slices).toBe(minutes.length);
      expect(outOfOrder).toBe(0);
      expect(stats.slicesEmitted).toBe(minutes.length);

      // Forward fills: at each slice boundary, 1 to 5 open-market intervals since the symbol's last bar.
      const expectedFills = (s: (typeof ETFS)[number]): number => {
        const own = starts[s];
        let j = -1;
        let fills = 0;
        for (const m of minutes) {
          const boundary = (m + 60) * 1000;
          while (j + 1 < own.length && ((own[j + 1] as number) + 60) * 1000 <= boundary) j++;
          if (j < 0) continue;
          const k = Math.floor(nyse.openMsBetween(((own[j] as number) + 60) * 1000, boundary) / 60_000);
          if (k >= 1 && k <= 5) fills++;
        }
        return fills;
      };
      for (const s of ETFS) expect(stats.bySymbol[s]?.forwardFilledIntervals).toBe(expectedFills(s));
      expect(stats.bySymbol.SDS?.forwardFilledIntervals).toBeGreaterThan(1000);
      expect(stats.bySymbol.SVIX?.forwardFilledIntervals).toBeGreaterThan(1500);
      expect(stats.bySymbol.TQQQ?.forwardFilledIntervals).toBe(0);
      console.log(
        `real data: ${minutes.length} slices; forward-filled intervals ${ETFS.map((s) => `${s} ${stats.bySymbol[s]?.forwardFilledIntervals ?? 0}`).join(', ')}`,
      );
    },
    120_000,
  );

  it(
    'delivers exactly 53 779 / 53 779 / 52 161 / 53 743 / 51 003 / 48 000 bars from the CSV files and from their Arrow cache, field by field equal',
    async () => {
      const SIX = { ...ROWS, SPY: 48_000 };
      const files = Object.fromEntries(Object.keys(SIX).map((s) => [s, join(dir as string, `${s}.csv`)]));
      const cache = mkdtempSync(join(tmpdir(), 'feed-real-cache-'));
      const replay = async (): Promise<{ bars: Bar[]; sources: string[] }> => {
        const feed = new MockMultiSymbolFeed({ files, speed: 0, cache });
        const bars: Bar[] = [];
        const sources: string[] = [];
        feed.on('bar', (e) => bars.push(e.bar));
        feed.on('loaded', (e) => sources.push(...e.files.map((f) => f.source)));
        await feed.connect();
        await feed.start();
        await feed.whenDone();
        for (const [s, n] of Object.entries(SIX)) expect(feed.stats().barsBySymbol[s]).toBe(n);
        return { bars, sources };
      };
      const fromCsv = await replay();
      const fromCache = await replay();
      expect(fromCsv.sources).toEqual(['csv', 'csv', 'csv', 'csv', 'csv', 'csv']);
      expect(fromCache.sources).toEqual(['cache', 'cache', 'cache', 'cache', 'cache', 'cache']);
      expect(fromCache.bars).toHaveLength(fromCsv.bars.length);
      let different = 0;
      for (let i = 0; i < fromCsv.bars.length; i++) if (!sameBarData(fromCsv.bars[i] as Bar, fromCache.bars[i] as Bar)) different++;
      expect(different).toBe(0);
    },
    120_000,
  );

  it.each([
    ['every row', undefined],
    ['a range cutting batches at both ends', { from: '2025-03-03', to: '2025-06-13' }],
  ] as const)(
    "streaming by record batches, merged in the replay's thread or in a worker (thread: true), equals the replay loaded whole, slice by slice, history and statistics field by field (%s)",
    async (_name, dates) => {
      const SIX = [...ETFS, 'SPY'];
      const files = Object.fromEntries(SIX.map((s) => [s, join(dir as string, `${s}.csv`)]));
      const cache = mkdtempSync(join(tmpdir(), 'feed-real-stream-'));
      const replay = async (stream: boolean, thread = false): Promise<{ slices: unknown[]; history: Record<string, Bar[]>; stats: unknown; coverage: unknown; feed: MockMultiSymbolFeed; bars: number }> => {
        // Loaded whole straight from the CSV text (no cache), streamed from the Arrow cache.
        const feed = new MockMultiSymbolFeed({ files, speed: 0, stream, thread, cache: stream ? cache : false, ...(dates === undefined ? {} : { dates }) });
        const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock, historySize: 100_000 });
        const slices: unknown[] = [];
        let bars = 0;
        feed.on('bar', () => bars++);
        dm.on('slice', (e) => slices.push(e.slice.toJSON()));
        dm.attach(feed);
        await feed.connect();
        await feed.start();
        await feed.whenDone();
        const history = Object.fromEntries(SIX.map((s) => [s, dm.history(s)]));
        return { slices, history, stats: dm.stats(), coverage: dm.coverage(), feed, bars };
      };
      const whole = await replay(false);
      await replay(true); // builds the cache
      const streamed = await replay(true);
      const threaded = await replay(true, true);
      expect(whole.feed.stats().streaming).toBe(false);
      expect(streamed.feed.stats().streaming).toBe(true);
      expect(streamed.feed.fileReports().map((r) => r.source)).toEqual(SIX.map(() => 'cache'));
      expect(streamed.bars).toBe(whole.bars);
      expect(streamed.feed.stats().barsLoaded).toBe(whole.feed.stats().barsLoaded);
      expect(streamed.slices.length).toBe(whole.slices.length);
      expect(streamed.slices).toEqual(whole.slices);
      expect(streamed.history).toEqual(whole.history);
      expect(streamed.stats).toEqual(whole.stats);
      expect(streamed.coverage).toEqual(whole.coverage);
      expect(threaded.bars).toBe(whole.bars);
      expect(threaded.slices).toEqual(whole.slices);
      expect(threaded.history).toEqual(whole.history);
      expect(threaded.stats).toEqual(whole.stats);
      expect(threaded.coverage).toEqual(whole.coverage);
      // Held at once: the batch being replayed per symbol, against every bar loaded whole.
      expect(streamed.feed.stats().peakBarsHeld).toBeLessThanOrEqual(ARROW_BATCH_ROWS * SIX.length);
      expect(whole.feed.stats().peakBarsHeld).toBe(whole.bars);
    },
    240_000,
  );
});

