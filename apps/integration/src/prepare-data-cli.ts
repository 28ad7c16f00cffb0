/**
 * pnpm prepare-data [DATE | FROM..TO] [--data DIR] [--out DIR] [--symbols A,B] [--config FILE] [--source alpaca|polygon]
 *
 * Makes sure each of the six ETFs has a CSV with at least 200 regular-hours bars for the target
 * session (default: the most recent complete one): an existing file, a download from Alpaca when keys
 * are set, or synthetic data from SPY and QQQ. Prints where each file came from.
 */
import { DEFAULT_SYMBOL_CONFIG, SystemClock, loadSymbolConfig, symbolsOf } from '@feed/core';
import { UsageError, exitOnError, unknownOption, versionLine } from './args.js';
import { APP_DATA_DIR, shownPath, userPath } from './paths.js';
import { prepareData, targetSessions } from './prepare-data.js';

const USAGE = `usage: pnpm prepare-data [DATE | FROM..TO] [--data DIR] [--out DIR] [--symbols A,B] [--config FILE] [--source alpaca|polygon]
  DATE, FROM..TO   New York session dates YYYY-MM-DD (default: the most recent complete session)
  --data DIR       look for existing files here first (never written to)
  --out DIR        where downloads and synthetic files go (default: apps/integration/data)
  --symbols A,B    a subset of the configured symbols
  --config FILE    a symbol configuration file (default: the six-ETF universe)
  --source S       download from alpaca (APCA_API_KEY_ID / APCA_API_SECRET_KEY) or polygon
                   (POLYGON_API_KEY); default: Alpaca when its keys are set, else Polygon
Keys (optional): APCA_API_KEY_ID and APCA_API_SECRET_KEY; without them, missing files are synthesized.`;

async function main(argv: string[]): Promise<void> {
  let date: string | undefined;
  let data: string | undefined;
  let out = APP_DATA_DIR;
  let symbolsArg: string[] | undefined;
  let configPath: string | undefined;
  let source: 'alpaca' | 'polygon' | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') continue;
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return;
    }
    if (a === '--version' || a === '-V') {
      console.log(versionLine('prepare-data'));
      return;
    }
    const m = /^--(data|out|symbols|config|source)(?:=(.*))?$/.exec(a);
    if (m !== null) {
      const v = m[2] ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`--${m[1]} needs a value`);
      if (m[1] === 'data') data = userPath(v);
      else if (m[1] === 'out') out = userPath(v);
      else if (m[1] === 'symbols') symbolsArg = v.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
      else if (m[1] === 'source') {
        if (v !== 'alpaca' && v !== 'polygon') throw new UsageError(`--source must be alpaca or polygon (got '${v}')`);
        source = v;
      }
      else configPath = v;
      continue;
    }
    if (/^\d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?$/.test(a) && date === undefined) {
      date = a;
      continue;
    }
    if (a.startsWith('-')) throw new UsageError(unknownOption(a, ['--data', '--out', '--symbols', '--config', '--source', '--help', '--version']));
    throw new UsageError(`unexpected argument '${a}' (a date is YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)`);
  }
  const config = configPath === undefined ? DEFAULT_SYMBOL_CONFIG : await loadSymbolConfig(userPath(configPath));
  const all = symbolsOf(config);
  const unknown = (symbolsArg ?? []).filter((s) => !all.includes(s));
  if (unknown.length > 0) throw new UsageError(`--symbols: ${unknown.join(', ')} not in the configuration (${all.join(', ')})`);
  const sessions = targetSessions(date, new SystemClock().now());
  if (sessions.length === 0) throw new UsageError(`no NYSE session in ${date ?? '?'}`);
  const range = sessions.length === 1 ? sessions[0]!.date : `${sessions[0]!.date}..${sessions.at(-1)!.date}`;
  console.log(`prepare-data: ${range} (${sessions.length} session${sessions.length > 1 ? 's' : ''}), ${(symbolsArg ?? all).join(', ')}`);
  const started = process.hrtime.bigint();
  const files = await prepareData({
    sessions,
    symbols: symbolsArg ?? all,
    config,
    dataDir: data,
    outDir: out,
    env: process.env,
    restUrl: process.env.FEED_ALPACA_DATA_URL,
    polygonUrl: process.env.FEED_POLYGON_URL,
    source,
    log: (l) => console.log(l),
  });
  console.log('');
  console.log(`${'symbol'.padEnd(7)}${'source'.padEnd(12)}${'bars'.padStart(7)}  file`);
  for (const f of files) console.log(`${f.symbol.padEnd(7)}${f.source.padEnd(12)}${String(f.bars).padStart(7)}  ${shownPath(f.path)}  (${f.note})`);
  console.log(`\nprepared ${files.length} files in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s`);
}

main(process.argv.slice(2)).catch(exitOnError(USAGE));
