/**
 * Live, with your keys: the six ETFs on Alpaca's IEX stream for two minutes (or until Ctrl-C), into
 * a data manager on the system clock. Without keys it says which variables to set and stops.
 * Run: APCA_API_KEY_ID=... APCA_API_SECRET_KEY=... pnpm --filter @feed/examples live
 */
import { AlpacaMultiSymbolFeed, missingKeysMessage, resolveCredentials } from '@feed/alpaca';
import { SystemClock } from '@feed/core';
import { MultiSymbolDataManager } from '@feed/data-manager';

if (resolveCredentials(undefined, process.env) === undefined) {
  console.log(`live example skipped: ${missingKeysMessage()}`);
  process.exit(0);
}
const clock = new SystemClock();
const feed = new AlpacaMultiSymbolFeed({ symbols: ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'], feed: 'iex', clock });
const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock });
dm.attach(feed);
feed.on('error', ({ error }) => console.error(`${error.code}: ${error.message}`)); // never holds a key
feed.on('reconnected', ({ attempts }) => console.log(`reconnected after ${attempts} attempt(s)`));
dm.on('slice', ({ slice }) => console.log(`${new Date(slice.asOf).toISOString()}  ${slice.validCount}/6 valid, ${slice.forwardFilled} forward-filled`));

await feed.connect();
await feed.start();
await new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, 2 * 60_000);
  process.once('SIGINT', () => {
    clearTimeout(timer);
    resolve();
  });
});
console.log(feed.stats());
await feed.disconnect();
dm.dispose();
