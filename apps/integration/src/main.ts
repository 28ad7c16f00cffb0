import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateFiles } from '@feed/synth';
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

  let dir = args.simulate ? undefined : (args.data ?? defaultDataDir());
  if (dir !== undefined && !existsSync(dir)) throw new UsageError(`--data: no such directory '${dir}'`);
  if (dir === undefined) {
    // No data (and no network): simulate SPY and QQQ over the most recent complete session, or the
    // --date range, and derive the six ETFs from them.
    const [from, to] = args.date?.split('..') ?? [last.date, last.date];
    dir = mkdtempSync(join(tmpdir(), 'feed-demo-'));
    console.log(`\nno data files${args.simulate ? ' (--simulate)' : ''}: simulating ${from}${to && to !== from ? ` .. ${to}` : ''} with @feed/synth (seed 1) into ${dir}`);
    const files = await generateFiles({ outDir: dir, from, to: to ?? from, seed: 1, symbols: symbols.filter((s) => config.symbols[s] !== undefined), config });
    for (const f of files) console.log(`  ${f.symbol.padEnd(5)} ${f.bars.toLocaleString('en-US').padStart(7)} bars  ${f.source}`);
  } else console.log(`\ndata: ${dir}`);
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
