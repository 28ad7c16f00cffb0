import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bar } from '@feed/core';
import { CsvError, ManualClock, ReplayClock, StateError } from '@feed/core';
import { BarColumns, encodeArrow } from '@feed/csv';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MIN, OPEN, realCsv, writeFiles } from '../test/fixtures.js';
import type { MockFeedOptions, ProgressEvent } from './index.js';
import { MockMultiSymbolFeed } from './index.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Runs a feed to completion at speed 0 and returns what it delivered, with the clock at delivery. */
async function runAll(options: MockFeedOptions): Promise<{ feed: MockMultiSymbolFeed; bars: Bar[]; clockAt: number[] }> {
  const feed = new MockMultiSymbolFeed({ speed: 0, ...options });
  const bars: Bar[] = [];
  const clockAt: number[] = [];
  feed.on('bar', (e) => {
    bars.push(e.bar);
    clockAt.push(feed.clock.now());
  });
  await feed.connect();
  await feed.start();
  await feed.whenDone();
  return { feed, bars, clockAt };
}

describe('synchronization', () => {
  it('delivers the bars of one start together across files with different gaps, in symbol order', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2, 3]), 'b.csv': realCsv([0, 2, 3]), 'c.csv': realCsv([1, 3]) });
    const { bars, clockAt, feed } = await runAll({ files: { A: f['a.csv']!, B: f['b.csv']!, C: f['c.csv']! } });
    expect(bars.map((b) => `${(b.start - OPEN) / MIN}${b.symbol}`)).toEqual(['0A', '0B', '1A', '1C', '2A', '2B', '3A', '3B', '3C']);
    // The clock is at each bar's end when it is delivered: never before (no look-ahead).
    expect(clockAt).toEqual(bars.map((b) => b.end));
    expect(bars.every((b) => b.receivedAt === b.end)).toBe(true);
    expect(feed.state).toBe('stopped');
    expect(feed.stats()).toMatchObject({ barsReceived: 9, barsLoaded: 9, barsBySymbol: { A: 4, B: 3, C: 2 } });
  });

  it('pause() holds the replay before its next minute (clock included) until resume(); stop() ends a paused replay', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2, 3]) });
    const feed = new MockMultiSymbolFeed({ speed: 0, files: { A: f['a.csv']! } });
    const bars: Bar[] = [];
    feed.on('bar', (e) => {
      bars.push(e.bar);
      if (bars.length === 2) feed.pause();
    });
    await feed.connect();
    await feed.start();
    await vi.waitFor(() => expect(bars).toHaveLength(2));
    // Held: many turns of the event loop, and nothing more arrives; the clock stays at the second minute.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(bars).toHaveLength(2);
    expect(feed.isPaused).toBe(true);
    const at = feed.clock.now();
    expect(at).toBeLessThan(OPEN + 3 * MIN);
    feed.resume();
    await feed.whenDone();
    expect(bars.map((b) => (b.start - OPEN) / MIN)).toEqual([0, 1, 2, 3]);
    const again = new MockMultiSymbolFeed({ speed: 0, files: { A: f['a.csv']! } });
    again.on('bar', () => again.pause());
    await again.connect();
    await again.start();
    await vi.waitFor(() => expect(again.isPaused).toBe(true));
    await again.stop();
    expect(again.state).toBe('stopped');
  });

  it('without syncTimestamps, each bar is its own step', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1]), 'b.csv': realCsv([0, 1]) });
    const { bars } = await runAll({ files: { A: f['a.csv']!, B: f['b.csv']! }, syncTimestamps: false });
    expect(bars.map((b) => `${(b.start - OPEN) / MIN}${b.symbol}`)).toEqual(['0A', '0B', '1A', '1B']);
  });

  it('carries prices, volume and times exactly', async () => {
    const f = writeFiles({ 'a.csv': realCsv([5]) });
    const { bars } = await runAll({ files: { TQQQ: f['a.csv']! } });
    expect(bars[0]).toEqual({
      symbol: 'TQQQ',
      start: OPEN + 5 * MIN,
      end: OPEN + 6 * MIN,
      open: 105,
      high: 105.5,
      low: 104.5,
      close: 105.25,
      volume: 1005,
      receivedAt: OPEN + 6 * MIN,
    });
    expect(Object.isFrozen(bars[0])).toBe(true);
  });
});

describe('speed', () => {
  /**
   * Runs a started replay to its end on a manual pacing clock: whenever the replay waits, the
   * clock jumps to its timer. Returns the pacing time that passed.
   */
  async function drive(feed: MockMultiSymbolFeed, pacing: ManualClock): Promise<number> {
    const t0 = pacing.now();
    let done = false;
    const finished = feed.whenDone().then(() => {
      done = true;
    });
    while (!done) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      pacing.runNextTimer();
    }
    await finished;
    return pacing.now() - t0;
  }

  /** Replays into a data manager, paced by a manual clock. */
  async function replayAt(speed: number): Promise<{ slices: unknown[]; history: Bar[][]; stats: unknown; sleptMs: number }> {
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2, 5, 6]), 'b.csv': realCsv([0, 2, 3, 6], 50) });
    const clock = new ReplayClock();
    const pacingClock = new ManualClock(0);
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']!, B: f['b.csv']! }, speed, clock, pacingClock });
    const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock });
    const slices: unknown[] = [];
    dm.on('slice', (e) => slices.push(structuredClone(e.slice.toJSON())));
    dm.attach(feed);
    await feed.connect();
    await feed.start();
    const sleptMs = await drive(feed, pacingClock);
    return { slices, history: ['A', 'B'].map((s) => dm.history(s)), stats: dm.stats(), sleptMs };
  }

  it('after whenDone() the clock is one interval past the last bar: snapshots read one minute old (0.368), the last slice and a snapshot as of it fresh (1.000)', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2]), 'b.csv': realCsv([0, 1, 2], 50) });
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']!, B: f['b.csv']! }, speed: 0 });
    const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock });
    let last: { asOf: number; weights: number[] } | undefined;
    dm.on('slice', ({ slice }) => (last = { asOf: slice.asOf, weights: slice.entries.map((e) => e.stalenessWeight) }));
    dm.attach(feed);
    await feed.connect();
    await feed.start();
    await feed.whenDone();
    const lastEnd = OPEN + 3 * MIN;
    expect(feed.clock.now()).toBe(lastEnd + MIN);
    expect(last).toEqual({ asOf: lastEnd, weights: [1, 1] });
    const now = dm.getLatestSnapshot();
    expect(now.symbols.A).toMatchObject({ ageMs: MIN, valid: true });
    expect(now.symbols.A?.stalenessWeight).toBeCloseTo(Math.exp(-1), 12);
    expect(dm.getLatestSnapshot(last?.asOf).entries.map((e) => e.stalenessWeight)).toEqual([1, 1]);
  });

  it('speed 0, 1 and 39 reach the same data-manager state and the same slices', async () => {
    const fast = await replayAt(0);
    const real = await replayAt(1);
    const x39 = await replayAt(39);
    expect(fast.slices).toHaveLength(6);
    expect(real.slices).toEqual(fast.slices);
    expect(x39.slices).toEqual(fast.slices);
    expect(real.history).toEqual(fast.history);
    expect(x39.history).toEqual(fast.history);
    expect(real.stats).toEqual(fast.stats);
    expect(x39.stats).toEqual(fast.stats);
    // Pacing: 5 gaps, one of 3 minutes capped at one interval: 5 minutes of replay time.
    expect(real.sleptMs).toBe(5 * MIN);
    expect(x39.sleptMs).toBeCloseTo((5 * MIN) / 39, 6);
  });

  it('caps an overnight gap at one interval (configurable)', async () => {
    const day2 = 24 * 60; // minutes
    const f = writeFiles({ 'a.csv': realCsv([0, day2]) });
    const pacingClock = new ManualClock(0);
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']! }, speed: 1, maxGapMs: 2 * MIN, pacingClock });
    await feed.connect();
    await feed.start();
    expect(await drive(feed, pacingClock)).toBe(2 * MIN);
  });
});

describe('lifecycle', () => {
  it('stop() takes effect within one timestamp, and start() resumes', async () => {
    vi.useFakeTimers();
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2, 3, 4]), 'b.csv': realCsv([0, 1, 2, 3, 4]) });
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']!, B: f['b.csv']! }, speed: 1 });
    const got: number[] = [];
    feed.on('bar', (e) => got.push((e.bar.start - OPEN) / MIN));
    await feed.connect();
    await feed.start();
    await vi.advanceTimersByTimeAsync(MIN + 1);
    expect(got).toEqual([0, 0, 1, 1]);
    await feed.stop();
    expect(feed.state).toBe('stopped');
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(got).toEqual([0, 0, 1, 1]);
    await feed.start();
    const done = feed.whenDone();
    await vi.runAllTimersAsync();
    await done;
    expect(got).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('at speed 0 yields to the event loop, so a timer can stop it midway', async () => {
    const minutes = Array.from({ length: 2000 }, (_, i) => i);
    const f = writeFiles({ 'a.csv': realCsv(minutes) });
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']! }, speed: 0, yieldEvery: 16 });
    let n = 0;
    feed.on('bar', () => n++);
    await feed.connect();
    await feed.start();
    await new Promise<void>((resolve) => setImmediate(resolve));
    await feed.stop();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(2000);
  });

  it('calls out of order get a typed error, not a hang', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0]) });
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']! } });
    await expect(feed.start()).rejects.toSatisfy((e: unknown) => StateError.isInstance(e));
    await feed.connect();
    await expect(feed.connect()).rejects.toSatisfy((e: unknown) => StateError.isInstance(e));
    await feed.disconnect();
    await expect(feed.start()).rejects.toThrowError(/state 'closed'/);
  });

  it('loops, shifting each pass forward by whole weeks so time keeps increasing', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1]) });
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']! }, speed: 0, loop: true, yieldEvery: 1 });
    const starts: number[] = [];
    const completes: number[] = [];
    feed.on('bar', (e) => starts.push(e.bar.start));
    feed.on('complete', (e) => completes.push(e.passes));
    await feed.connect();
    await feed.start();
    while (completes.length < 3) await new Promise<void>((resolve) => setImmediate(resolve));
    await feed.stop();
    const week = 7 * 24 * 3_600_000;
    expect(starts.slice(0, 6)).toEqual([OPEN, OPEN + MIN, OPEN + week, OPEN + week + MIN, OPEN + 2 * week, OPEN + 2 * week + MIN]);
    expect(completes.slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('disconnect() frees the data', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1]) });
    const { feed } = await runAll({ files: { A: f['a.csv']! } });
    await feed.disconnect();
    expect(feed.state).toBe('closed');
    expect(feed['streams']).toEqual([]);
    expect(feed.stats()).toMatchObject({ barsHeld: 0 });
  });
});

describe('date filter and progress', () => {
  const day = 24 * 60;
  it('replays one session, or a range of New York dates', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1, day, day + 1, 2 * day]) });
    const one = await runAll({ files: { A: f['a.csv']! }, dates: '2025-04-02' });
    expect(one.bars.map((b) => (b.start - OPEN) / MIN)).toEqual([day, day + 1]);
    const range = await runAll({ files: { A: f['a.csv']! }, dates: { from: '2025-04-02', to: '2025-04-03' } });
    expect(range.bars.map((b) => (b.start - OPEN) / MIN)).toEqual([day, day + 1, 2 * day]);
    expect(range.feed.fileReports()[0]).toMatchObject({ rows: 5, loaded: 3, filtered: 2 });
  });

  it('says what it will not deliver: a range without a session, a file without bars in it, a file that ends early or begins late', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1]), 'b.csv': realCsv([day, 2 * day]), 'c.csv': realCsv([7 * day]) });
    const files = { A: f['a.csv']!, B: f['b.csv']!, C: f['c.csv']! };
    const feed = new MockMultiSymbolFeed({ files, speed: 0, dates: { from: '2025-04-01', to: '2025-04-03' } });
    const seen: string[] = [];
    feed.on('warning', (w) => seen.push(`${w.code} ${w.symbol ?? '-'}`));
    await feed.connect();
    expect(seen).toEqual(['ends_early A', 'starts_late B', 'no_data C']);
    expect(feed.warnings()[0]).toMatchObject({ symbol: 'A', file: files.A, range: { from: '2025-04-01', to: '2025-04-03' }, data: { first: '2025-04-01', last: '2025-04-01' } });
    expect(feed.warnings()[0]?.message).toBe(`A: ${files.A} ends on 2025-04-01, before the last session of 2025-04-01..2025-04-03 (2025-04-03): its replay is partial`);
    expect(feed.warnings()[2]?.message).toBe(`C: ${files.C} holds no bar in 2025-04-01..2025-04-03`);
    expect(feed.stats().warnings).toBe(3);
    await feed.start();
    await feed.whenDone();
    expect(feed.stats().barsReceived).toBe(4);

    // A Saturday and a holiday: one warning each, with the reason; the replay still ends cleanly.
    for (const [date, why] of [['2025-04-05', 'a weekend'], ['2025-04-18', 'Good Friday']] as const) {
      const r = await runAll({ files, dates: date });
      expect(r.bars).toEqual([]);
      expect(r.feed.warnings().map((w) => w.message)).toEqual([`no NYSE session in ${date} (${why}): nothing to replay`]);
    }
    // Data covering the range: no warning.
    expect((await runAll({ files: { A: f['a.csv']! }, dates: '2025-04-01' })).feed.warnings()).toEqual([]);
  });

  it('reports progress: bars replayed, total, percent, current time', async () => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2, 3]) });
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']! }, speed: 0 });
    const seen: ProgressEvent[] = [];
    feed.on('progress', (e) => seen.push(e));
    await feed.connect();
    await feed.start();
    await feed.whenDone();
    expect(seen.map((e) => [e.barsReplayed, e.totalBars, e.percent, (e.currentTime - OPEN) / MIN])).toEqual([
      [1, 4, 25, 1],
      [2, 4, 50, 2],
      [3, 4, 75, 3],
      [4, 4, 100, 4],
    ]);
  });
});

describe('CSV formats', () => {
  it("reads the original design's format with epoch ms, epoch s and ISO 8601 times", async () => {
    const t = OPEN;
    const text = [
      'timestamp,open,high,low,close,volume',
      `${t},1,1,1,1,10`,
      `${(t + MIN) / 1000},2,2,2,2,20`,
      `2025-04-01T13:32:00Z,3,3,3,3,30`,
      `2025-04-01T09:33:00-04:00,4,4,4,4,40`,
      `2025-04-01 09:34:00,5,5,5,5,50`, // no offset: New York wall time
    ].join('\n');
    const f = writeFiles({ 'o.csv': text });
    const { bars } = await runAll({ files: { X: f['o.csv']! } });
    expect(bars.map((b) => [(b.start - OPEN) / MIN, b.close])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
  });

  it("reads Alpaca's t,o,h,l,c,v,vw,n with vwap and trade count", async () => {
    const text = 't,o,h,l,c,v,vw,n\n2025-04-01T13:30:00Z,10,11,9,10.5,300,10.2,42\n';
    const f = writeFiles({ 'al.csv': text });
    const { bars } = await runAll({ files: { X: f['al.csv']! } });
    expect(bars[0]).toMatchObject({ start: OPEN, open: 10, high: 11, low: 9, close: 10.5, volume: 300, vwap: 10.2, tradeCount: 42 });
  });

  it('accepts CRLF, a BOM, extra columns, other column orders and blank trailing lines', async () => {
    const text = '\uFEFFextra,ts_nyt_epoch,volume,close,low,high,open,ts_utc\r\nx,1743514200,5,2,1,3,2,?\r\n\r\n\r\n';
    const f = writeFiles({ 'w.csv': text });
    const { bars, feed } = await runAll({ files: { X: f['w.csv']! } });
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatchObject({ open: 2, high: 3, low: 1, close: 2, volume: 5 });
    expect(feed.fileReports()[0]?.badRows).toBe(0);
  });
});

describe('bad input', () => {
  async function connectError(options: MockFeedOptions): Promise<CsvError> {
    const feed = new MockMultiSymbolFeed(options);
    try {
      await feed.connect();
    } catch (e) {
      expect(CsvError.isInstance(e)).toBe(true);
      expect(feed.state).toBe('idle');
      return e as CsvError;
    }
    throw new Error('connect() should have failed');
  }

  it('a missing file: csv_file naming the file', async () => {
    const e = await connectError({ files: { A: '/nonexistent/TQQQ.csv' } });
    expect(e).toMatchObject({ code: 'csv_file', file: '/nonexistent/TQQQ.csv', line: undefined });
    expect(e.message).toMatch(/^\/nonexistent\/TQQQ\.csv: cannot open: .*ENOENT/);
  });

  it('a missing column: csv_column naming the file, line 1 and the column', async () => {
    const f = writeFiles({ 'm.csv': 'ts_utc,ts_nyt_epoch,open,high,low,close\n2025,1743514200,1,1,1,1\n' });
    const e = await connectError({ files: { A: f['m.csv']! } });
    expect(e).toMatchObject({ code: 'csv_column', file: f['m.csv'], line: 1, column: 'volume' });
    expect(e.message).toContain("missing column 'volume'");
  });

  it('an empty file: csv_column, no header', async () => {
    const f = writeFiles({ 'e.csv': '' });
    expect(await connectError({ files: { A: f['e.csv']! } })).toMatchObject({ code: 'csv_column', line: 1 });
  });

  const badRows = [
    'ts_utc,ts_nyt_epoch,open,high,low,close,volume',
    'a,1743514200,1,1,1,1,1', // line 2 ok
    'b,1743514260,1,1,x,1,1', // line 3 unparseable number (low)
    'c,not-a-time,1,1,1,1,1', // line 4 unparseable time
    'd,1743514380,1,1,1,1,', // line 5 empty volume
    'e,1743514440,1,0.5,1,1,1', // line 6 inconsistent OHLC
    'f,1743514320,1,1,1,1,1', // line 7 out of order (before line 6? no: after 1743514260)
    'g,1743514500,1,1,1,1,1', // line 8 ok
    'h,1743514500,1,1,1,1,1', // line 9 duplicate time
    'i,1743514440,1,1,1,1,1', // line 10 out of order
    'j,1743514560,1,1,1,1,1', // line 11 ok
  ].join('\n');

  it("with onBadRow 'fail', the first bad row rejects connect() with its file and line", async () => {
    const f = writeFiles({ 'b.csv': badRows });
    const e = await connectError({ files: { A: f['b.csv']! }, onBadRow: 'fail' });
    expect(e).toMatchObject({ code: 'csv_row', file: f['b.csv'], line: 3, column: 'low' });
    expect(e.message).toContain(`${f['b.csv']}:3: cannot read low 'x' as a decimal number`);
  });

  it("with onBadRow 'skip' (default), bad rows are counted and reported per file with lines, and the rest replays", async () => {
    const f = writeFiles({ 'b.csv': badRows, 'ok.csv': realCsv([0]) });
    const errors: CsvError[] = [];
    const feed = new MockMultiSymbolFeed({ files: { A: f['b.csv']!, B: f['ok.csv']! }, speed: 0 });
    feed.on('error', (e) => errors.push(e.error as CsvError));
    const bars: Bar[] = [];
    feed.on('bar', (e) => bars.push(e.bar));
    await feed.connect();
    const report = feed.fileReports()[0]!;
    expect(report).toMatchObject({
      rows: 10,
      loaded: 4,
      badRows: 6,
      badByReason: { unparseable_number: 2, unparseable_time: 1, inconsistent_ohlc: 1, duplicate_time: 1, out_of_order: 1 },
    });
    expect(errors.map((e) => [e.line, e.column])).toEqual([
      [3, 'low'],
      [4, 'ts_nyt_epoch'],
      [5, 'volume'],
      [6, undefined],
      [9, 'ts_nyt_epoch'],
      [10, 'ts_nyt_epoch'],
    ]);
    expect(errors.every((e) => e.file === f['b.csv'] && e.code === 'csv_row')).toBe(true);
    expect(feed.stats().errorsByCode).toEqual({ csv_row: 6 });
    await feed.start();
    await feed.whenDone();
    expect(bars.filter((b) => b.symbol === 'A').map((b) => b.start / 1000)).toEqual([1743514200, 1743514320, 1743514500, 1743514560]);
  });

  it('rejects bad options with a ConfigError naming each', () => {
    expect(() => new MockMultiSymbolFeed({ files: {}, speed: -1 })).toThrowError(/files: must name at least one file; speed: must be >= 0/);
    expect(() => new MockMultiSymbolFeed({ files: { A: 'a.csv' }, dates: '16/10/2025' })).toThrowError(/dates/);
  });
});

describe('a listener that throws', () => {
  it.each(['tick', 'bar', 'progress'] as const)('a %s listener: an error event with code listener, the replay ends, whenDone() rejects, stop() resolves', async (kind) => {
    const f = writeFiles({ 'a.csv': realCsv([0, 1, 2, 3, 4, 5]) });
    const clock = new ReplayClock();
    const feed = new MockMultiSymbolFeed({ files: { A: f['a.csv']! }, speed: 0, clock, cache: false });
    const errors: string[] = [];
    feed.on('error', (e) => errors.push(e.error.code));
    let n = 0;
    const boom = (): void => {
      if (++n === 3) throw new Error(`${kind} listener failed`);
    };
    if (kind === 'tick') clock.onTick(boom);
    else if (kind === 'bar') feed.on('bar', boom);
    else feed.on('progress', boom);
    const bars: number[] = [];
    feed.on('bar', (e) => bars.push(e.bar.start));
    await feed.connect();
    await feed.start();
    const error = await feed.whenDone().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'listener' });
    expect((error as Error).message).toMatch(new RegExp(`${kind} listener failed`));
    expect(errors).toEqual(['listener']);
    expect(bars.length).toBeLessThan(6);
    expect(feed.state).toBe('stopped');
    await expect(feed.stop()).resolves.toBeUndefined();
    await feed.disconnect();
  });
});

describe('trading statuses from sidecar files', () => {
  const sidecar = (lines: string[]): string =>
    ['at,symbol,kind,effect,code,message,reason_code,reason_message,limit_up,limit_down,tape', ...lines].join('\n') + '\n';
  const iso = (minute: number, s = 0): string => new Date(OPEN + minute * MIN + s * 1000).toISOString();

  it('hands each status over when the replay clock reaches its time, between the minutes\' bars, as live; a data manager marks the halt', async () => {
    const f = writeFiles({
      'A.csv': realCsv([0, 1, 2, 3, 7, 8, 9]),
      'A.statuses.csv': sidecar([`${iso(3, 30)},A,status,halt,H,Trading Halt,LUDP,,,,C`, `${iso(6, 30)},A,status,resume,T,Trading Resumption,,,,,C`]),
      'B.csv': realCsv([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    });
    const feed = new MockMultiSymbolFeed({ speed: 0, files: { A: f['A.csv']!, B: f['B.csv']! } });
    const dm = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock: feed.clock });
    dm.attach(feed);
    const log: string[] = [];
    feed.on('bar', (e) => log.push(`${(e.bar.start - OPEN) / MIN}${e.bar.symbol}`));
    feed.on('tradingStatus', (e) => log.push(`${e.status.effect}@${(e.status.at - OPEN) / 1000}s clock ${(feed.clock.now() - OPEN) / 1000}s`));
    const halted: string[][] = [];
    dm.on('slice', ({ slice }) => halted.push([...slice.halted]));
    await feed.connect();
    await feed.start();
    await feed.whenDone();
    // The 09:33 minute's bars arrive at 09:34: the halt at 09:33:30 comes before them.
    expect(log.slice(6, 14)).toEqual(['halt@210s clock 210s', '3A', '3B', '4B', '5B', 'resume@390s clock 390s', '6B', '7A']);
    // Slices as of 09:34, 09:35 and 09:36 see A halted (the halt 09:33:30 to 09:36:30).
    expect(halted.map((h) => h.length)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0]);
    expect(feed.stats()).toMatchObject({ statusesLoaded: 2, statusesReplayed: 2 });
    expect(dm.stats().bySymbol.A?.haltedSlices).toBe(3);
  });

  it('a bad sidecar line is reported with file and line; the other statuses replay; statuses: false replays none', async () => {
    const f = writeFiles({ 'A.csv': realCsv([0, 1, 2]), 'A.statuses.csv': sidecar([`${iso(0, 10)},A,status,halt,H,,,,,,C`, `${iso(1, 10)},A,status,sometimes,H,,,,,,C`]) });
    const errors: CsvError[] = [];
    const feed = new MockMultiSymbolFeed({ speed: 0, files: { A: f['A.csv']! } });
    feed.on('error', (e) => errors.push(e.error as CsvError));
    await feed.connect();
    expect(errors.map((e) => [e.code, e.line])).toEqual([['csv_row', 3]]);
    expect(errors[0]?.file).toBe(f['A.statuses.csv']);
    expect(feed.stats().statusesLoaded).toBe(1);
    const off = new MockMultiSymbolFeed({ speed: 0, files: { A: f['A.csv']! }, statuses: false });
    await off.connect();
    expect(off.stats().statusesLoaded).toBe(0);
  });
});

describe('warm-up in replay', () => {
  it('warmUp() once the replay has started: a StateError (the seam would be behind bars already delivered)', async () => {
    const day2 = 24 * 60; // 2025-04-02 09:30
    const f = writeFiles({ 'A.csv': realCsv([...Array.from({ length: 390 }, (_, m) => m), ...Array.from({ length: 10 }, (_, m) => day2 + m)]) });
    const feed = new MockMultiSymbolFeed({ speed: 0, files: { A: f['A.csv']! }, dates: '2025-04-02', cache: false });
    const dm = new MultiSymbolDataManager({ symbols: ['A'], clock: feed.clock, historySize: 1000 });
    dm.attach(feed);
    await feed.connect();
    await expect(feed.start().then(() => feed.stop()).then(() => feed.warmUp({ bars: 1 }))).rejects.toBeInstanceOf(StateError);
  });

  it('warmUp({ bars }) loads the newest regular-hours bars before the replayed range, then the replay goes on with no gap and no duplicate', async () => {
    const day2 = 24 * 60;
    const f = writeFiles({ 'A.csv': realCsv([...Array.from({ length: 390 }, (_, m) => m), ...Array.from({ length: 10 }, (_, m) => day2 + m)]) });
    const feed = new MockMultiSymbolFeed({ speed: 0, files: { A: f['A.csv']! }, dates: '2025-04-02', cache: false });
    const dm = new MultiSymbolDataManager({ symbols: ['A'], clock: feed.clock, historySize: 1000 });
    dm.attach(feed);
    await feed.connect();
    const r = await feed.warmUp({ bars: 100 });
    expect(r).toMatchObject({ counts: { A: 100 }, short: [], to: OPEN + day2 * MIN - MIN, requested: { bars: 100 } });
    expect(dm.history('A').map((b) => (b.start - OPEN) / MIN)).toEqual(Array.from({ length: 100 }, (_, k) => 290 + k));
    await feed.start();
    await feed.whenDone();
    const minutes = dm.history('A').map((b) => (b.start - OPEN) / MIN);
    expect(minutes).toEqual([...Array.from({ length: 100 }, (_, k) => 290 + k), ...Array.from({ length: 10 }, (_, k) => day2 + k)]);
    expect(dm.stats().bySymbol.A).toMatchObject({ warmUpBars: 100, accepted: 10, duplicates: 0, rejected: 0 });
    // More than the files hold: the symbol is named as short, never silently capped.
    const again = new MockMultiSymbolFeed({ speed: 0, files: { A: f['A.csv']! }, dates: '2025-04-02', cache: false });
    const errors: string[] = [];
    again.on('error', (e) => errors.push(e.error.code));
    await again.connect();
    const short = await again.warmUp({ bars: 500, maxSessions: 5 });
    expect(short).toMatchObject({ counts: { A: 390 }, short: ['A'] });
    expect(errors).toEqual(['warmup_short']);
  });
});

describe('corporate actions in replay', () => {
  // Two sessions of one symbol: 2025-04-01 around 5.00, 2025-04-02 around 50.00 (a 1:10 reverse split, ex 04-02).
  const DAY2 = 24 * 60;
  const csv = (rows: [number, number][]): string => {
    const lines = rows.map(([m, p]) => {
      const t = OPEN / 1000 + m * 60;
      const iso = new Date((t - 4 * 3600) * 1000).toISOString().slice(0, 19) + '-04:00';
      return `${iso},${t},${p},${p + 0.02},${p - 0.02},${p + 0.01},${1000 + m}.0`;
    });
    return ['ts_utc,ts_nyt_epoch,open,high,low,close,volume', ...lines].join('\n') + '\n';
  };
  const rows = (scale: number): [number, number][] => [
    ...Array.from({ length: 5 }, (_, m): [number, number] => [385 + m, 5 + m * 0.01]),
    ...Array.from({ length: 5 }, (_, m): [number, number] => [DAY2 + m, (5 + m * 0.01) * scale]),
  ];
  const actionsLine = (kind: string, ratio: string, amount = '', before = ''): string => `symbol,kind,ex_date,ratio,amount,price_before,source\nUVXY,${kind},2025-04-02,${ratio},${amount},${before},test\n`;

  async function run(files: Record<string, string>, extra: Partial<MockFeedOptions> = {}, dmExtra: { maxPriceJump?: number } = {}) {
    const feed = new MockMultiSymbolFeed({ speed: 0, files: { UVXY: files['UVXY.csv']! }, ...extra });
    const dm = new MultiSymbolDataManager({ symbols: ['UVXY'], clock: feed.clock, ...dmExtra });
    dm.attach(feed);
    const log: string[] = [];
    feed.on('corporateAction', (e) => log.push(`action ${e.action.kind} ${e.action.exDate}`));
    feed.on('bar', (e) => log.push(`bar ${(e.bar.start - OPEN) / MIN}`));
    const rebased: number[] = [];
    dm.on('corporateAction', (e) => rebased.push(e.rebased));
    await feed.connect();
    await feed.start();
    await feed.whenDone();
    return { feed, dm, log, rebased };
  }

  it('a 1:10 reverse split inside the replayed range: announced before the first bar of its ex-date, history rebased, no rejection', async () => {
    const f = writeFiles({ 'UVXY.csv': csv(rows(10)), 'UVXY.actions.csv': actionsLine('reverse_split', '0.1') });
    const { feed, dm, log, rebased } = await run(f, {}, { maxPriceJump: 0.5 });
    expect(log.slice(4, 7)).toEqual(['bar 389', `action reverse_split 2025-04-02`, `bar ${DAY2}`]);
    expect(rebased).toEqual([5]);
    const h = dm.history('UVXY');
    expect(h).toHaveLength(10);
    // Day 1 on the new basis: its closes times 10, volumes divided by 10; day 2 as traded.
    expect(h[0]?.close).toBeCloseTo(50.1, 9);
    expect(h[0]?.volume).toBeCloseTo((1000 + 385) / 10, 9);
    expect(h[5]?.close).toBeCloseTo(50.01, 9);
    expect(dm.stats().bySymbol.UVXY).toMatchObject({ rejected: 0, corporateActions: 1, accepted: 10 });
    expect(feed.stats()).toMatchObject({ corporateActions: 1, corporateActionsAnnounced: 1 });
  });

  it('the same split not announced (no actions file): the price-jump rule rejects the new basis, each rejection counted', async () => {
    const f = writeFiles({ 'UVXY.csv': csv(rows(10)) });
    const { dm } = await run(f, {}, { maxPriceJump: 0.5 });
    expect(dm.stats().bySymbol.UVXY).toMatchObject({ rejected: 5, rejectedByReason: { price_jump: 5 }, corporateActions: 0 });
  });

  it('a 2:1 forward split: the history before it halves, its volume doubles', async () => {
    const f = writeFiles({ 'UVXY.csv': csv(rows(0.5)), 'UVXY.actions.csv': actionsLine('forward_split', '2') });
    const { dm } = await run(f, {}, { maxPriceJump: 0.3 });
    const h = dm.history('UVXY');
    expect(h[4]?.close).toBeCloseTo((5.04 + 0.01) / 2, 9);
    expect(h[4]?.volume).toBeCloseTo((1000 + 389) * 2, 9);
    expect(dm.stats().bySymbol.UVXY?.rejected).toBe(0);
  });

  it("a fixed asOf: bars adjusted as of it, with 'dividend' and 'all' (factor 1 - amount / the close before), nothing announced; a later split invisible", async () => {
    const f = writeFiles({ 'UVXY.csv': csv(rows(10)), 'UVXY.actions.csv': 'symbol,kind,ex_date,ratio,amount,price_before,source\nUVXY,reverse_split,2025-04-02,0.1,,,test\nUVXY,cash_dividend,2025-04-02,,0.5,,test\n' });
    const lastClose = 5.04 + 0.01;
    const all = await run(f, { asOf: '2025-04-02', adjustment: 'all' });
    // Written out by hand: the split's factor 10, the dividend's (lastClose - 0.5) / lastClose, in ex-date order.
    const factor = (1 / 0.1) * (1 - 0.5 / lastClose);
    expect(all.dm.history('UVXY')[0]?.close).toBe((5 + 0.01) * factor);
    expect(all.log.filter((l) => l.startsWith('action'))).toEqual([]);
    const div = await run(f, { asOf: '2025-04-02', adjustment: 'dividend' });
    expect(div.dm.history('UVXY')[0]?.close).toBe((5 + 0.01) * (1 - 0.5 / lastClose));
    expect(div.dm.history('UVXY')[0]?.volume).toBe(1000 + 385);
    // As of the day before the split: nothing of it is seen (no look-ahead), the day-2 bars rejected as a jump.
    const before = await run(f, { asOf: '2025-04-01', adjustment: 'all' }, { maxPriceJump: 0.5 });
    expect(before.dm.history('UVXY')[0]?.close).toBe(5 + 0.01);
    expect(before.dm.stats().bySymbol.UVXY?.rejectedByReason).toEqual({ price_jump: 5 });
  });

  it('a cache built before a new action is rebuilt: the adjusted columns are cached under the actions\' digest and the adjustment', async () => {
    const cache = writeFiles({ keep: '' }).keep!.replace(/keep$/, 'cache-adj');
    const f = writeFiles({ 'UVXY.csv': csv(rows(10)), 'UVXY.actions.csv': 'symbol,kind,ex_date,ratio,amount,price_before,source\nUVXY,cash_dividend,2025-04-02,,0.5,,test\n' });
    const opts = { cache, asOf: '2025-04-02', adjustment: 'all' as const };
    const first = await run(f, opts);
    expect(first.feed.fileReports()[0]?.adjusted).toMatchObject({ source: 'built', adjustment: 'all', asOf: '2025-04-02' });
    const again = await run(f, opts);
    expect(again.feed.fileReports()[0]?.adjusted?.source).toBe('cache');
    expect(again.dm.history('UVXY')[0]?.close).toBe(first.dm.history('UVXY')[0]?.close);
    // A split of the same ex-date becomes known: the digest changes, the adjusted cache is built again.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f['UVXY.actions.csv']!, 'symbol,kind,ex_date,ratio,amount,price_before,source\nUVXY,reverse_split,2025-04-02,0.1,,,test\nUVXY,cash_dividend,2025-04-02,,0.5,,test\n');
    const rebuilt = await run(f, opts);
    const r = rebuilt.feed.fileReports()[0]!;
    expect(r.source).toBe('cache'); // the raw columns' cache is still good
    expect(r.adjusted?.source).toBe('built');
    expect(r.adjusted?.actionsDigest).not.toBe(first.feed.fileReports()[0]?.adjusted?.actionsDigest);
    expect(rebuilt.dm.history('UVXY')[0]?.close).toBeCloseTo((first.dm.history('UVXY')[0]?.close as number) * 10, 9);
    // The adjusted cache file says what it holds: the adjustment, the date, the actions.
    const { readArrowFile } = await import('@feed/csv');
    const meta = (await readArrowFile(r.adjusted?.cacheFile as string)).metadata;
    expect(meta).toMatchObject({ adjustment: 'all', asOf: '2025-04-02', actionsDigest: r.adjusted?.actionsDigest });
    expect((meta?.actions as unknown[]).length).toBe(2);
  });

  it('an action added after the cache was built applies at once: the cache holds raw columns keyed by the source, the adjustment comes after', async () => {
    const cache = writeFiles({ keep: '' }).keep!.replace(/keep$/, 'cache');
    const f = writeFiles({ 'UVXY.csv': csv(rows(10)) });
    const first = await run(f, { cache });
    expect(first.feed.fileReports()[0]?.cacheFile).toBeDefined();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f['UVXY.csv']!.replace(/\.csv$/, '.actions.csv'), actionsLine('reverse_split', '0.1'));
    const second = await run(f, { cache });
    expect(second.feed.fileReports()[0]?.source).toBe('cache');
    expect(second.dm.history('UVXY')[0]?.close).toBeCloseTo(50.1, 9);
    expect(first.dm.history('UVXY')[0]?.close).toBeCloseTo(5.01, 9);
  });
});

describe("files' basis (provider, feed, adjustment) recorded beside them", () => {
  const basis = (provider: string, feed: string, adjustment: string): string => JSON.stringify({ provider, feed, adjustment });

  it('a raw file mixed with an adjusted one is refused, naming both; so are IEX and SIP bars', async () => {
    const f = writeFiles({ 'A.csv': realCsv([0, 1]), 'A.basis.json': basis('alpaca', 'iex', 'raw'), 'B.csv': realCsv([0, 1]), 'B.basis.json': basis('alpaca', 'iex', 'split'), 'C.csv': realCsv([0, 1]), 'C.basis.json': basis('alpaca', 'sip', 'raw') });
    const mixed = new MockMultiSymbolFeed({ speed: 0, files: { A: f['A.csv']!, B: f['B.csv']! }, adjustment: 'raw' });
    await expect(mixed.connect()).rejects.toThrow(/refused to mix bars of two bases: .*A\.csv \(alpaca iex, raw\) and .*B\.csv \(alpaca iex, split\)/);
    const feeds = new MockMultiSymbolFeed({ speed: 0, files: { A: f['A.csv']!, C: f['C.csv']! } });
    await expect(feeds.connect()).rejects.toThrow(/A\.csv \(alpaca iex, raw\) and .*C\.csv \(alpaca sip, raw\)/);
    // An adjusted file replayed with an adjustment would be adjusted twice: refused too; raw replay of it alone passes.
    await expect(new MockMultiSymbolFeed({ speed: 0, files: { B: f['B.csv']! } }).connect()).rejects.toThrow(/split-adjusted .* adjust them again/);
    await new MockMultiSymbolFeed({ speed: 0, files: { B: f['B.csv']! }, adjustment: 'raw' }).connect();
  });
});

describe('streaming replay', () => {
  /** A symbol's file of `n` one-minute bars every `every` minutes from OPEN, in record batches of `batchRows`. */
  function arrowFile(dir: string, symbol: string, n: number, every: number, batchRows: number): string {
    const b = new BarColumns(n);
    for (let i = 0; i < n; i++) b.push(OPEN + i * every * MIN, 10, 11, 9, 10 + (i % 7), 100, Number.NaN, -1);
    const path = join(dir, `${symbol}.arrow`);
    writeFileSync(path, encodeArrow(b, { version: 1, symbol }, { batchRows }));
    return path;
  }

  it('holds at most one record batch per symbol, whatever the range: 60 000 bars in batches of 500', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-streaming-'));
    // Three symbols at different paces, so their batches run out at different minutes.
    const files = { A: arrowFile(dir, 'A', 30_000, 1, 500), B: arrowFile(dir, 'B', 20_000, 2, 500), C: arrowFile(dir, 'C', 10_000, 3, 500) };
    const feed = new MockMultiSymbolFeed({ files, speed: 0 });
    let last = 0;
    let outOfOrder = 0;
    let maxHeldSeen = 0;
    const perSymbol = { A: 0, B: 0, C: 0 } as Record<string, number>;
    feed.on('bar', (e) => {
      if (e.bar.start < last) outOfOrder++;
      last = e.bar.start;
      perSymbol[e.bar.symbol] = (perSymbol[e.bar.symbol] ?? 0) + 1;
      maxHeldSeen = Math.max(maxHeldSeen, feed.stats().barsHeld);
    });
    await feed.connect();
    expect(feed.stats()).toMatchObject({ barsLoaded: 60_000, streaming: true });
    // connect() read the first batch of each, not the files.
    expect(feed.stats().barsHeld).toBe(3 * 500);
    await feed.start();
    await feed.whenDone();
    expect(perSymbol).toEqual({ A: 30_000, B: 20_000, C: 10_000 });
    expect(outOfOrder).toBe(0);
    expect(feed.stats().peakBarsHeld).toBe(500 * 3);
    expect(maxHeldSeen).toBeLessThanOrEqual(500 * 3);
    expect(feed.stats().barsHeld).toBe(0);
    // The same files loaded whole hold every bar.
    const whole = new MockMultiSymbolFeed({ files, speed: 0, stream: false });
    await whole.connect();
    expect(whole.stats()).toMatchObject({ barsHeld: 60_000, streaming: false });
    await whole.disconnect();
  });

  // Batches of 7-10 rows, and of 45-48 (longer than the 32 rows the replay stages at a time: edges inside a batch too).
  it.each([
    [true, 7],
    [false, 7],
    [true, 45],
    [false, 45],
  ])('merges symbols with gaps across many batches in (start, file order), whatever the batch and staging edges (syncTimestamps %s, batches of %i+ rows)', async (sync, rows) => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-streaming-'));
    // Four patterns: every minute, every other, a gap of 5 every 11, and minutes of a seeded draw.
    let seed = 3;
    const draw = (): number => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const patterns: number[][] = [
      Array.from({ length: 400 }, (_, m) => m),
      Array.from({ length: 200 }, (_, m) => 2 * m),
      Array.from({ length: 400 }, (_, m) => m).filter((m) => m % 11 < 6),
      Array.from({ length: 400 }, (_, m) => m).filter(() => draw() < 0.4),
    ];
    const files: Record<string, string> = {};
    patterns.forEach((minutes, k) => {
      const b = new BarColumns(minutes.length);
      for (const m of minutes) b.push(OPEN + m * MIN, 10, 11, 9, 10, 100 + k, Number.NaN, -1);
      const path = join(dir, `S${k}.arrow`);
      writeFileSync(path, encodeArrow(b, { version: 1, symbol: `S${k}` }, { batchRows: rows + k }));
      files[`S${k}`] = path;
    });
    const expected = patterns.flatMap((minutes, k) => minutes.map((m) => [OPEN + m * MIN, k] as const)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const { bars, feed } = await runAll({ files, syncTimestamps: sync });
    expect(bars.map((b) => [b.start, Number(b.symbol.slice(1))])).toEqual(expected);
    expect(feed.stats().peakBarsHeld).toBeLessThanOrEqual(4 * rows + 6);
  });

  it('a looping streamed replay reads the files again, pass after pass, in the same bounded memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-streaming-'));
    const files = { A: arrowFile(dir, 'A', 1_000, 1, 100), B: arrowFile(dir, 'B', 500, 2, 100) };
    const feed = new MockMultiSymbolFeed({ files, speed: 0, loop: true });
    const completes: number[] = [];
    let bars = 0;
    feed.on('bar', () => bars++);
    feed.on('complete', (e) => completes.push(e.barsReplayed));
    await feed.connect();
    await feed.start();
    while (completes.length < 3) await new Promise<void>((resolve) => setImmediate(resolve));
    await feed.stop();
    expect(completes.slice(0, 3)).toEqual([1_500, 3_000, 4_500]);
    expect(feed.stats().peakBarsHeld).toBeLessThanOrEqual(100 * 2);
    await feed.disconnect();
  });
});
