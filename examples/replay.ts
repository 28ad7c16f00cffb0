/**
 * Replay to a strategy, in TypeScript: the same as replay.mjs, with the event payload types.
 * Run: pnpm --filter @feed/examples replay:ts
 */
import { fileURLToPath } from 'node:url';
import type { BarEvent, ErrorEvent } from '@feed/core';
import type { SliceEvent } from '@feed/data-manager';
import { MultiSymbolDataManager } from '@feed/data-manager';
import type { ProgressEvent } from '@feed/mock';
import { MockMultiSymbolFeed } from '@feed/mock';

const dir = fileURLToPath(new URL('./data/', import.meta.url));
const symbols = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
const feed = new MockMultiSymbolFeed({ files: Object.fromEntries(symbols.map((s) => [s, `${dir}${s}.csv`])), speed: 0 });
const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock });
dm.attach(feed);

let bars = 0;
let lastPercent = -1;
let filled = 0;
feed.on('bar', (e: BarEvent) => {
  bars += e.bar.volume > 0 ? 1 : 0; // e.bar is a frozen Bar: start, end, open, high, low, close, volume
});
feed.on('progress', (p: ProgressEvent) => {
  if (p.percent % 25 === 0 && p.percent !== lastPercent) console.log(`${p.percent}%`);
  lastPercent = p.percent;
});
feed.on('error', (e: ErrorEvent) => console.error(`${e.error.code}: ${e.error.message}`));
dm.on('slice', (e: SliceEvent) => {
  filled += e.slice.forwardFilled; // symbols carrying a forward-filled bar in this minute
});

try {
  await feed.connect(); // reads and checks every file
} catch (error) {
  console.error(`${(error as Error).message}\n(the files come from: pnpm --filter @feed/examples synthetic)`);
  process.exit(1);
}
await feed.start();
await feed.whenDone();
console.log(`${bars} bars with volume; ${filled} forward-filled symbol-minutes; last slice usable: ${dm.getLatestSnapshot().usable}`);
await feed.disconnect();
