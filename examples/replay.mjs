// Replay to a strategy, in plain JavaScript: the CSV files of examples/data (make them with
// `pnpm --filter @feed/examples synthetic`) through MockMultiSymbolFeed into a data manager; the
// strategy reads one slice per closed minute. Run: pnpm --filter @feed/examples replay
import { fileURLToPath } from 'node:url';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { MockMultiSymbolFeed } from '@feed/mock';

const dir = fileURLToPath(new URL('./data/', import.meta.url));
const symbols = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
const feed = new MockMultiSymbolFeed({ files: Object.fromEntries(symbols.map((s) => [s, `${dir}${s}.csv`])), speed: 0 });
// The same clock for both: the replay drives it, the data manager reads it.
const dm = new MultiSymbolDataManager({ symbols: feed.symbols, clock: feed.clock });
dm.attach(feed);

// A toy strategy: count the minutes where TQQQ and SQQQ (3x and -3x the Nasdaq-100) moved the same way.
let previous;
let sameWay = 0;
dm.on('slice', ({ slice }) => {
  const t = slice.symbols.TQQQ?.price;
  const s = slice.symbols.SQQQ?.price;
  if (previous && t != null && s != null && Math.sign(t - previous.t) === Math.sign(s - previous.s) && t !== previous.t) sameWay++;
  if (t != null && s != null) previous = { t, s };
});
feed.on('error', ({ error }) => console.error(`${error.code}: ${error.message}`));

try {
  await feed.connect(); // reads and checks every file
} catch (error) {
  console.error(`${error.message}\n(the files come from: pnpm --filter @feed/examples synthetic)`);
  process.exit(1);
}
await feed.start();
await feed.whenDone();
const stats = dm.stats();
console.log(`replayed ${feed.stats().barsReceived} bars, ${stats.slicesEmitted} slices; TQQQ and SQQQ moved the same way in ${sameWay} minutes`);
if (stats.slicesEmitted === 0) process.exitCode = 1;
await feed.disconnect();
