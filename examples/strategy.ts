/**
 * A strategy on 5-minute bars that warms up on the two sessions before, and flattens at
 * `beforeClose`: the same program in replay and against the fake Alpaca server, only the feed line
 * differs (the run prints both and checks they agree). A toy rule: long TQQQ while a 5-minute close is
 * above the average of the last 20 5-minute closes (warm from 09:35 thanks to the warm-up), flat
 * otherwise; no new entries in the last 30 minutes; flat at 15:58 (12:58 on an early close).
 * Run: pnpm --filter @feed/examples strategy (it makes its own three sessions of synthetic data).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlpacaMultiSymbolFeed } from '@feed/alpaca';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import type { Bar, WarmUpResult } from '@feed/core';
import { MINUTE_MS, ManualClock } from '@feed/core';
import { readBarsFromCsv } from '@feed/csv';
import { MinuteBarAggregator, MultiSymbolDataManager, SessionEvents } from '@feed/data-manager';
import { MockMultiSymbolFeed } from '@feed/mock';
import { generateFiles } from '@feed/synth';

const SYMBOLS = ['TQQQ', 'SQQQ'];
const DAY = '2025-10-16';
/** Two sessions of minutes before the traded one: 780 regular-hours bars per symbol. */
const WARM_BARS = 780;
const AVERAGE = 20;

/** The strategy: it sees a data manager and nothing of the feed. Returns its log of decisions. */
function strategy(dm: MultiSymbolDataManager): string[] {
  const log: string[] = [];
  let position = 0;
  let lastEntries = false;
  const closes: number[] = [];
  const five = new MinuteBarAggregator(dm, { minutes: 5 });
  const session = new SessionEvents(dm);
  five.on('bar', ({ bar }) => {
    if (bar.symbol !== 'TQQQ' || bar.revised || bar.partial) return;
    closes.push(bar.close);
    if (closes.length > AVERAGE) closes.shift();
    // Warm-up bars fill the average; decisions start with the first live bar.
    if (bar.warmUp || closes.length < AVERAGE) return;
    const average = closes.reduce((a, c) => a + c, 0) / closes.length;
    const want = bar.close > average && !lastEntries ? 1 : 0;
    if (want !== position) log.push(`${new Date(bar.end).toISOString().slice(11, 16)}Z ${want ? 'buy' : 'sell'} TQQQ at ${bar.close.toFixed(2)} (average ${average.toFixed(2)})`);
    if (want === 0 || !lastEntries) position = want;
  });
  session.on('beforeClose', ({ at, minutesToClose }) => {
    if (position !== 0) log.push(`${new Date(at).toISOString().slice(11, 16)}Z flatten TQQQ (${minutesToClose} min to the close)`);
    position = 0;
  });
  // No new entries in the last 30 minutes: a second SessionEvents with its own offset.
  new SessionEvents(dm, { beforeCloseMs: 30 * MINUTE_MS }).on('beforeClose', () => {
    lastEntries = true;
  });
  session.on('sessionClose', () => log.push(`closed with position ${position}`));
  return log;
}

function warmLine(w: WarmUpResult): string {
  return `warm-up: ${SYMBOLS.map((s) => `${s} ${w.counts[s] ?? 0}`).join(', ')} bars up to ${new Date(w.to).toISOString().slice(0, 16)}Z${w.short.length > 0 ? ` (short: ${w.short.join(', ')})` : ''}`;
}

async function replay(files: Record<string, string>): Promise<string[]> {
  const feed = new MockMultiSymbolFeed({ files, speed: 0, dates: DAY });
  const dm = new MultiSymbolDataManager({ symbols: SYMBOLS, clock: feed.clock, historySize: 2000 });
  const log = strategy(dm);
  dm.attach(feed);
  await feed.connect();
  // The same call as live: the bars before the replayed range, from the same files.
  log.unshift(warmLine(await feed.warmUp({ bars: WARM_BARS })));
  await feed.start();
  await feed.whenDone();
  return log;
}

async function live(files: Record<string, string>): Promise<string[]> {
  const bars: Bar[] = [];
  for (const s of SYMBOLS) bars.push(...(await readBarsFromCsv(s, files[s] as string)).bars);
  const open = Date.UTC(2025, 9, 16, 13, 30);
  const server = await FakeAlpacaServer.start();
  // The fake's REST history holds the sessions before: the warm-up reads them from there.
  server.addHistory(bars.filter((b) => b.start < open));
  const today = bars.filter((b) => b.start >= open);
  const minutes = [...new Set(today.map((b) => b.start))].sort((a, b) => a - b);
  const clock = new ManualClock(open);
  const feed = new AlpacaMultiSymbolFeed({ symbols: SYMBOLS, url: server.url(), restUrl: server.restUrl, keys: server.keys, clock, keepAlive: false, watchdog: false });
  const dm = new MultiSymbolDataManager({ symbols: SYMBOLS, clock, historySize: 2000 });
  const log = strategy(dm);
  dm.attach(feed);
  let received = 0;
  feed.on('bar', () => received++);
  await feed.connect();
  log.unshift(warmLine(await feed.warmUp({ bars: WARM_BARS })));
  await feed.start();
  let sent = 0;
  for (const t of minutes) {
    clock.set(t + MINUTE_MS); // the minute ends, then its bars arrive, as they do live
    const now = today.filter((b) => b.start === t);
    server.publish(now);
    sent += now.length;
    while (received < sent) await new Promise((resolve) => setImmediate(resolve));
  }
  clock.advance(MINUTE_MS);
  await feed.disconnect();
  await server.close();
  return log;
}

const dir = mkdtempSync(join(tmpdir(), 'feed-strategy-'));
try {
  const generated = await generateFiles({ outDir: dir, from: '2025-10-14', to: DAY, seed: 42, symbols: SYMBOLS });
  const files = Object.fromEntries(generated.filter((f) => SYMBOLS.includes(f.symbol)).map((f) => [f.symbol, f.path]));
  const replayed = await replay(files);
  const fake = await live(files);
  for (const line of replayed) console.log(line);
  const same = JSON.stringify(replayed) === JSON.stringify(fake);
  console.log(`${replayed.length} lines in replay, ${fake.length} against the fake server: ${same ? 'identical' : 'DIFFERENT'}`);
  const warmOk = replayed[0]?.includes(`TQQQ ${WARM_BARS}`) === true;
  if (!same || !warmOk || !replayed.some((l) => l.includes('buy')) || !replayed.some((l) => l.includes('flatten') || l.includes('closed with position 0'))) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
