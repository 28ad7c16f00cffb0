import { copyFileSync, createReadStream, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { ConfigError } from '@feed/core';
import { BarColumns, encodeArrow } from '@feed/csv';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { describe, expect, it } from 'vitest';
import { MIN, OPEN, realCsv, writeFiles } from '../test/fixtures.js';
import type { MockFeedOptions } from './index.js';
import { AUTO_THREAD_FILES, MockMultiSymbolFeed } from './index.js';
import { mergeWorkerEntry } from './merge-thread.js';

// `thread: true` merges the files in a worker thread: everything a listener sees must be what the
// same replay without it gives, event by event (tested here against the replay in one thread).

/** Everything observable of a replay into a data manager with a slice listener, in order. */
async function record(options: MockFeedOptions, until?: (feed: MockMultiSymbolFeed) => boolean) {
  const feed = new MockMultiSymbolFeed({ speed: 0, ...options });
  const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock });
  dm.attach(feed);
  const events: unknown[] = [];
  feed.on('bar', (e) => events.push(['bar', e.bar, feed.clock.now()]));
  feed.on('tradingStatus', (e) => events.push(['status', e.status, feed.clock.now()]));
  feed.on('corporateAction', (e) => events.push(['action', e.action.symbol, e.action.exDate, feed.clock.now()]));
  feed.on('complete', (e) => events.push(['complete', e.barsReplayed, e.passes, feed.clock.now()]));
  feed.on('error', (e) => events.push(['error', e.error.code]));
  dm.on('slice', ({ slice }) => events.push(['slice', structuredClone(slice.toJSON())]));
  try {
    await feed.connect();
    await feed.start();
    if (until === undefined) await feed.whenDone();
    else {
      while (!until(feed)) await new Promise<void>((resolve) => setImmediate(resolve));
      await feed.stop();
    }
    const s = feed.stats();
    return {
      events,
      history: feed.symbols.map((sym) => dm.history(sym)),
      dm: dm.stats(),
      feed: { bars: s.barsReceived, passes: s.passes, statuses: s.statusesReplayed, actions: s.corporateActionsAnnounced, loaded: s.barsLoaded, errors: s.errors },
      clock: feed.clock.now(),
      state: feed.state,
      thread: s.thread,
    };
  } finally {
    await feed.disconnect();
  }
}

/** Arrow files of symbols with gaps (every minute, every other, a gap of 5 every 11, a seeded draw), in batches of `rows`+. */
function gappyFiles(rows: number, minutes = 400): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'feed-thread-'));
  let seed = 3;
  const draw = (): number => {
    seed = (seed * 48_271) % 2_147_483_647;
    return seed / 2_147_483_647;
  };
  const all = Array.from({ length: minutes }, (_, m) => m);
  const patterns = [all, all.filter((m) => m % 2 === 0), all.filter((m) => m % 11 < 6), all.filter(() => draw() < 0.4)];
  const files: Record<string, string> = {};
  patterns.forEach((list, k) => {
    const b = new BarColumns(list.length);
    for (const m of list) b.push(OPEN + m * MIN, 10 + k, 11 + k, 9 + k, 10 + k + (m % 7) / 100, 100 + m, k === 1 ? 10.5 : Number.NaN, k === 1 ? 7 : -1);
    const path = join(dir, `S${k}.arrow`);
    writeFileSync(path, encodeArrow(b, { version: 1, symbol: `S${k}` }, { batchRows: rows + k }));
    files[`S${k}`] = path;
  });
  return files;
}

// A thread starts in ~0.2 s (more from sources, through tsx) and replays run whole: more time than
// vitest's default 5 s on a loaded machine.
describe('thread: true (the merge in a worker thread)', { timeout: 60_000 }, () => {
  it.each([
    [true, 7],
    [false, 7],
    [true, 45],
    [false, 45],
  ])('gives every bar, slice, clock reading and statistic of the replay in one thread (syncTimestamps %s, batches of %i+ rows)', async (sync, rows) => {
    const files = gappyFiles(rows);
    const one = await record({ files, syncTimestamps: sync });
    const two = await record({ files, syncTimestamps: sync, thread: true });
    expect(one.feed.bars).toBe(one.feed.loaded);
    expect(one.feed.bars).toBeGreaterThan(900);
    expect([one.thread, two.thread]).toEqual([false, true]);
    expect({ ...two, thread: false }).toEqual(one);
  });

  it('with trading statuses and a corporate action: the same events in the same order, at the same clock', async () => {
    const DAY2 = 24 * 60;
    const sidecar = ['at,symbol,kind,effect,code,message,reason_code,reason_message,limit_up,limit_down,tape', `${new Date(OPEN + 3.5 * MIN).toISOString()},A,status,halt,H,Trading Halt,LUDP,,,,C`, `${new Date(OPEN + 6.5 * MIN).toISOString()},A,status,resume,T,Trading Resumption,,,,,C`].join('\n') + '\n';
    const f = writeFiles({
      'A.csv': realCsv([0, 1, 2, 3, 7, 8, 9, DAY2, DAY2 + 1]),
      'A.statuses.csv': sidecar,
      'B.csv': realCsv([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, DAY2, DAY2 + 1, DAY2 + 2]),
      'B.actions.csv': 'symbol,kind,ex_date,ratio,amount,price_before,source\nB,forward_split,2025-04-02,2,,,test\n',
    });
    const cache = mkdtempSync(join(tmpdir(), 'feed-thread-cache-'));
    const options = { files: { A: f['A.csv']!, B: f['B.csv']! }, cache };
    const one = await record(options);
    const two = await record({ ...options, thread: true });
    expect(one.feed).toMatchObject({ statuses: 2, actions: 1, bars: 22 });
    expect([one.thread, two.thread]).toEqual([false, true]);
    expect({ ...two, thread: false }).toEqual(one);
  });

  it('loops pass after pass, shifted by whole weeks, as the replay in one thread', async () => {
    const files = gappyFiles(45, 120);
    const three = (feed: MockMultiSymbolFeed): boolean => feed.stats().passes >= 3;
    const one = await record({ files, loop: true }, three);
    const two = await record({ files, loop: true, thread: true }, three);
    // Compared up to the third pass's end (stop() lands a little later in either).
    const cut = (events: unknown[]): unknown[] => events.slice(0, events.findIndex((e) => (e as unknown[])[0] === 'complete' && (e as unknown[])[2] === 3) + 1);
    expect(cut(one.events).length).toBeGreaterThan(3 * 396);
    expect(cut(two.events)).toEqual(cut(one.events));
  });

  it('stop() midway and start() again: no bar lost or repeated; stop() returns while the merge thread waits for room', async () => {
    // More rows than the thread's ring holds (65 536), so that its writer waits for room when stopped.
    const files = gappyFiles(2048, 40_000);
    const whole = await record({ files, thread: true });
    const feed = new MockMultiSymbolFeed({ files, speed: 0, thread: true });
    const starts: number[] = [];
    feed.on('bar', (e) => starts.push(e.bar.start));
    await feed.connect();
    await feed.start();
    while (starts.length < 20_000) await new Promise<void>((resolve) => setImmediate(resolve));
    await feed.stop();
    const atStop = starts.length;
    expect(atStop).toBeLessThan(whole.feed.bars);
    await feed.start();
    await feed.whenDone();
    expect(starts).toEqual(whole.events.filter((e) => (e as unknown[])[0] === 'bar').map((e) => ((e as unknown[])[1] as { start: number }).start));
    expect(feed.stats().peakBarsHeld).toBeLessThanOrEqual(4 * 2051 + 65_536);
    // Done: nothing held in the thread, nothing left in the ring.
    expect(feed.stats().barsHeld).toBe(0);
    await feed.disconnect();
  });

  it('a file cut short under the replay: the merge thread reports it (csv_file), the other symbols replay, the replay ends', async () => {
    const files = gappyFiles(2048, 40_000);
    const run = async (thread: boolean) => {
      const feed = new MockMultiSymbolFeed({ files: { ...files }, speed: 0, thread });
      const codes: string[] = [];
      let bars = 0;
      feed.on('error', (e) => codes.push(e.error.code));
      feed.on('bar', () => bars++);
      await feed.connect();
      const loaded = feed.stats().barsLoaded;
      // The first symbol's file loses its later batches after connect() (the merge reads them later).
      truncateSync(files.S0 as string, 4096);
      await feed.start();
      await feed.whenDone();
      await feed.disconnect();
      return { codes, bars, loaded, state: feed.state };
    };
    const thread = await run(true);
    expect(thread.codes).toContain('csv_file');
    // The other symbols' bars all came (S0's first 40 000 minutes hold less than half of them).
    expect(thread.bars).toBeGreaterThan(thread.loaded - 40_000);
    expect(thread.bars).toBeLessThan(thread.loaded);
  });

  it('is refused with `open` (a function cannot cross to a thread), with a ConfigError naming the option', () => {
    const open = (path: string): Readable => Readable.from([`no ${path}`]);
    expect(() => new MockMultiSymbolFeed({ files: { A: 'a.csv' }, thread: true, open })).toThrow(ConfigError);
    expect(() => new MockMultiSymbolFeed({ files: { A: 'a.csv' }, thread: true, open })).toThrow(/thread/);
  });

  it('a file that cannot be opened rejects connect() as without the thread', async () => {
    const files = { ...gappyFiles(7, 50), X: join(tmpdir(), 'feed-thread-missing', 'X.arrow') };
    await expect(new MockMultiSymbolFeed({ files, speed: 0 }).connect()).rejects.toMatchObject({ code: 'csv_file' });
    const feed = new MockMultiSymbolFeed({ files, speed: 0, thread: true });
    await expect(feed.connect()).rejects.toMatchObject({ code: 'csv_file' });
  });
});

/** `count` small Arrow files (40 minutes each, symbol k missing the minutes where (m + k) % 9 === 0). */
function manyFiles(count: number): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'feed-thread-many-'));
  const files: Record<string, string> = {};
  for (let k = 0; k < count; k++) {
    const b = new BarColumns(40);
    for (let m = 0; m < 40; m++) if (m === 0 || (m + k) % 9 !== 0) b.push(OPEN + m * MIN, 10 + k, 11 + k, 9 + k, 10 + k + m / 100, 100 + m, Number.NaN, -1);
    const symbol = `M${String(k).padStart(3, '0')}`;
    const path = join(dir, `${symbol}.arrow`);
    writeFileSync(path, encodeArrow(b, { version: 1, symbol }, { batchRows: 16 }));
    files[symbol] = path;
  }
  return files;
}

describe("thread: 'auto' (the default)", { timeout: 60_000 }, () => {
  it(`merges in a worker thread at speed 0 from ${AUTO_THREAD_FILES} files, with everything the replay in one thread gives`, async () => {
    const files = manyFiles(AUTO_THREAD_FILES);
    const auto = await record({ files });
    const one = await record({ files, thread: false });
    expect([auto.thread, one.thread]).toEqual([true, false]);
    expect(one.feed.bars).toBeGreaterThan(AUTO_THREAD_FILES * 35);
    expect({ ...auto, thread: false }).toEqual(one);
  });

  it('merges in one thread with fewer files, at a speed above 0, or with `open` (no error)', async () => {
    const files = manyFiles(AUTO_THREAD_FILES);
    const fewer = Object.fromEntries(Object.entries(files).slice(1));
    // CSV files on disk, read through `open`: a merge thread (which cannot take `open`) could read them too.
    const written = writeFiles(Object.fromEntries(Object.keys(files).map((sym, k) => [`${sym}.csv`, realCsv([0, 1, 2, 4], 10 + k)])));
    const csvs = Object.fromEntries(Object.keys(files).map((sym) => [sym, written[`${sym}.csv`] as string]));
    const cases: [string, MockFeedOptions][] = [
      ['fewer files', { files: fewer, speed: 0 }],
      ['speed 1', { files, speed: 1 }],
      ['open', { files: csvs, speed: 0, open: (path) => createReadStream(path), cache: false }],
    ];
    const seen: [string, boolean, number][] = [];
    for (const [name, options] of cases) {
      const feed = new MockMultiSymbolFeed(options);
      await feed.connect();
      seen.push([name, feed.stats().thread, feed.stats().barsLoaded > 0 ? 1 : 0]);
      await feed.disconnect();
    }
    expect(seen).toEqual([
      ['fewer files', false, 1],
      ['speed 1', false, 1],
      ['open', false, 1],
    ]);
  });

  it("finds the worker's module beside this one, and nothing where a bundle left it out", () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-thread-bundle-'));
    expect(mergeWorkerEntry(pathToFileURL(join(dir, 'bundle.js')).href)).toBeUndefined();
    expect(mergeWorkerEntry(pathToFileURL(join(dir, 'bundle.cjs')).href)).toBeUndefined();
    expect(mergeWorkerEntry(pathToFileURL(join(dir, 'bundle.ts')).href)).toBeUndefined();
    writeFileSync(join(dir, 'merge-worker.js'), '');
    copyFileSync(join(dir, 'merge-worker.js'), join(dir, 'merge-worker.cjs'));
    expect(mergeWorkerEntry(pathToFileURL(join(dir, 'bundle.js')).href)?.url.href).toBe(pathToFileURL(join(dir, 'merge-worker.js')).href);
    expect(mergeWorkerEntry(pathToFileURL(join(dir, 'bundle.cjs')).href)?.url.href).toBe(pathToFileURL(join(dir, 'merge-worker.cjs')).href);
    // These tests run from sources: the worker is the TypeScript source, loaded through tsx.
    expect(mergeWorkerEntry()?.tsx).toMatch(/tsx/);
  });
});
