import { DEFAULT_SYMBOL_CONFIG, loadSymbolConfig, nyse, SystemClock } from '@feed/core';
import { describeUniverse } from './universe.js';

// Until the replay demo lands (apps/integration's own issue), the demo shows the configured universe
// and where the market calendar stands.
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const configIndex = args.indexOf('--config');
  const configPath = configIndex >= 0 ? args[configIndex + 1] : undefined;
  const config = configPath === undefined ? DEFAULT_SYMBOL_CONFIG : await loadSymbolConfig(configPath);
  console.log(`feed: ${Object.keys(config.symbols).length} configured symbols`);
  for (const line of describeUniverse(config)) console.log(`  ${line}`);
  const now = new SystemClock().now();
  const last = nyse.mostRecentCompleteSession(now);
  const open = nyse.sessionAt(now);
  console.log(`market: ${open ? `open (session ${open.date})` : 'closed'}; last complete session ${last.date}${last.earlyClose ? ' (early close)' : ''}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
