/**
 * A strategy on 5-minute bars that flattens at `beforeClose`: the same program in replay and
 * against the fake Alpaca server, only the feed line differs (the run prints both and checks they
 * agree). A toy rule: long TQQQ when a 5-minute bar closes above the one before, flat otherwise;
 * no new entries in the last 30 minutes; flat at 15:58 (12:58 on an early close).
 * Run: pnpm --filter @feed/examples strategy (after `synthetic`).
 */
import { fileURLToPath } from 'node:url';
import { AlpacaMultiSymbolFeed } from '@feed/alpaca';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import type { Bar, BarFeed } from '@feed/core';
import { MINUTE_MS, ManualClock } from '@feed/core';
import { readBarsFromCsv } from '@feed/csv';
import { MinuteBarAggregator, MultiSymbolDataManager, SessionEvents } from '@feed/data-manager';
import { MockMultiSymbolFeed } from '@feed/mock';

const SYMBOLS = ['TQQQ', 'SQQQ'];
const file = (s: string): string => fileURLToPath(new URL(`./data/${s}.csv`, import.meta.url));

/** The strategy: it sees a data manager and nothing of the feed. Returns its log of decisions. */
function strategy(dm: MultiSymbolDataManager): string[] {
  const log: string[] = [];
  let position = 0;
  let previous: number | undefined;
  let lastEntries = false;
  const five = new MinuteBarAggregator(dm, { minutes: 5 });
  const session = new SessionEvents(dm);
  five.on('bar', ({ bar }) => {
    if (bar.symbol !== 'TQQQ' || bar.revised || bar.partial) return;
    const want = previous !== undefined && bar.close > previous && !lastEntries ? 1 : 0;
    if (want !== position) log.push(`${new Date(bar.end).toISOString().slice(11, 16)}Z ${want ? 'buy' : 'sell'} TQQQ at ${bar.close.toFixed(2)}`);
    if (want === 0 || !lastEntries) position = want;
    previous = bar.close;
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

async function replay(): Promise<string[]> {
  const feed = new MockMultiSymbolFeed({ files: Object.fromEntries(SYMBOLS.map((s) => [s, file(s)])), speed: 0 });
  const dm = new MultiSymbolDataManager({ symbols: SYMBOLS, clock: feed.clock });
  const log = strategy(dm);
  dm.attach(feed);
  await feed.connect();
  await feed.start();
  await feed.whenDone();
  return log;
}

async function live(): Promise<string[]> {
  const bars: Bar[] = [];
  for (const s of SYMBOLS) bars.push(...(await readBarsFromCsv(s, file(s))).bars);
  const minutes = [...new Set(bars.map((b) => b.start))].sort((a, b) => a - b);
  const server = await FakeAlpacaServer.start();
  const clock = new ManualClock(minutes[0] as number);
  const feed: BarFeed = new AlpacaMultiSymbolFeed({ symbols: SYMBOLS, url: server.url(), restUrl: server.restUrl, keys: server.keys, clock, keepAlive: false, watchdog: false });
  const dm = new MultiSymbolDataManager({ symbols: SYMBOLS, clock });
  const log = strategy(dm);
  dm.attach(feed);
  let received = 0;
  feed.on('bar', () => received++);
  await feed.connect();
  await feed.start();
  let sent = 0;
  for (const t of minutes) {
    clock.set(t + MINUTE_MS); // the minute ends, then its bars arrive, as they do live
    const now = bars.filter((b) => b.start === t);
    server.publish(now);
    sent += now.length;
    while (received < sent) await new Promise((resolve) => setImmediate(resolve));
  }
  clock.advance(MINUTE_MS);
  await feed.disconnect();
  await server.close();
  return log;
}

let replayed: string[];
try {
  replayed = await replay();
} catch (error) {
  console.error(`${(error as Error).message}\n(the files come from: pnpm --filter @feed/examples synthetic)`);
  process.exit(1);
}
const fake = await live();
for (const line of replayed) console.log(line);
const same = JSON.stringify(replayed) === JSON.stringify(fake);
console.log(`${replayed.length} decisions in replay, ${fake.length} against the fake server: ${same ? 'identical' : 'DIFFERENT'}`);
if (!same || replayed.length === 0 || !replayed.some((l) => l.includes('flatten') || l.includes('closed with position 0'))) process.exitCode = 1;
