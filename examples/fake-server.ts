/**
 * The live feed against the fake Alpaca server, with historical bars, and the right clock: historical
 * bars are minutes old on the wall clock, so a data manager on a SystemClock would reject them as
 * too old. A ManualClock shared by the feed and the data manager, set to each minute's end as its
 * bars are published, makes the live path run exactly as it would have that day.
 * Run: pnpm --filter @feed/examples fake-server (after `synthetic`).
 */
import { fileURLToPath } from 'node:url';
import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock } from '@feed/core';
import { readBarsFromCsv } from '@feed/csv';
import { AlpacaMultiSymbolFeed } from '@feed/alpaca';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { MultiSymbolDataManager } from '@feed/data-manager';

const symbols = ['TQQQ', 'SQQQ', 'SDS'];
const bars: Bar[] = [];
try {
  for (const s of symbols) bars.push(...(await readBarsFromCsv(s, fileURLToPath(new URL(`./data/${s}.csv`, import.meta.url)))).bars);
} catch (error) {
  console.error(`${(error as Error).message}\n(the files come from: pnpm --filter @feed/examples synthetic)`);
  process.exit(1);
}
const minutes = [...new Set(bars.map((b) => b.start))].sort((a, b) => a - b).slice(0, 30);

const server = await FakeAlpacaServer.start(); // 127.0.0.1, a free port; it also serves REST history
const clock = new ManualClock(minutes[0] as number);
// Keep-alive and the watchdog run on the clock too; with a clock moved by hand a minute at a time,
// a pong still in flight would look late, so they are off here (the feed's tests drive them).
const feed = new AlpacaMultiSymbolFeed({ symbols, url: server.url(), restUrl: server.restUrl, keys: server.keys, clock, keepAlive: false, watchdog: false });
const dm = new MultiSymbolDataManager({ symbols, clock });
dm.attach(feed);
let received = 0;
let wake: (() => void) | undefined;
feed.on('bar', () => {
  received++;
  wake?.();
});
let slices = 0;
dm.on('slice', ({ slice }) => {
  slices++;
  if (slices % 10 === 0) console.log(`${new Date(slice.asOf).toISOString()}  ${slice.validCount}/${slice.entries.length} valid`);
});

await feed.connect();
await feed.start();
let sent = 0;
for (const start of minutes) {
  // A minute's bars arrive just after the minute: move the clock there first, as live.
  clock.set(start + MINUTE_MS + 50);
  const minute = bars.filter((b) => b.start === start);
  server.publish(minute);
  sent += minute.length;
  while (received < sent) await new Promise<void>((resolve) => (wake = resolve));
}
clock.advance(10_000); // past the last minute's grace: its slice closes
console.log(`published ${sent} bars of ${minutes.length} minutes; the feed delivered ${received}, the data manager closed ${slices} slices`);
if (slices !== minutes.length) process.exitCode = 1;
await feed.disconnect();
await server.close();
