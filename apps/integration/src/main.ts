import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SYMBOL_CONFIG, FeedError, loadSymbolConfig, nyse, symbolsOf, SystemClock } from '@feed/core';
import { parseArgs, USAGE, UsageError } from './args.js';
import { replayDemo } from './replay-demo.js';
import { describeUniverse } from './universe.js';

/** The real-data directory when no --data is given: FEED_REAL_DATA_DIR, else shared/data/real beside the repository. */
function defaultDataDir(): string | undefined {
  const env = process.env.FEED_REAL_DATA_DIR;
  if (env) return env;
  const dir = resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/data/real');
  return existsSync(dir) ? dir : undefined;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2).filter((a) => a !== '--'));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const config = args.config === undefined ? DEFAULT_SYMBOL_CONFIG : await loadSymbolConfig(args.config);
  let symbols = symbolsOf(config);
  if (args.symbols !== undefined) {
    const unknown = args.symbols.filter((s) => !symbols.includes(s));
    if (unknown.length > 0) throw new UsageError(`--symbols: ${unknown.join(', ')} not in the configuration (${symbols.join(', ')})`);
    symbols = args.symbols;
  }
  console.log(`feed: ${symbols.length} symbols`);
  for (const line of describeUniverse(config).filter((l) => symbols.includes(l.split(' ')[0] as string))) console.log(`  ${line}`);
  const now = new SystemClock().now();
  const last = nyse.mostRecentCompleteSession(now);
  const open = nyse.sessionAt(now);
  console.log(`market: ${open ? `open (session ${open.date})` : 'closed'}; last complete session ${last.date}${last.earlyClose ? ' (early close)' : ''}`);

  const dir = args.data ?? defaultDataDir();
  if (dir === undefined) {
    console.log('\nno data to replay: pass --data DIR (CSV files named <SYMBOL>.csv) or set FEED_REAL_DATA_DIR');
    return;
  }
  if (!existsSync(dir)) throw new UsageError(`--data: no such directory '${dir}'`);
  console.log(`\ndata: ${dir}`);
  const result = await replayDemo(dir, symbols, { speed: args.speed, date: args.date, config, print: (l) => console.log(l) });
  for (const line of result.lines) console.log(line);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`error: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  console.error(FeedError.isInstance(error) ? `error [${error.code}]: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
