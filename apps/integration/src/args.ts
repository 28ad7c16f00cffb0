/** Command-line options of the demo. */
export interface DemoArgs {
  data: string | undefined;
  speed: number;
  date: string | undefined;
  symbols: string[] | undefined;
  config: string | undefined;
  simulate: boolean;
  help: boolean;
}

export class UsageError extends Error {}

const VALUE_FLAGS = new Set(['--data', '--speed', '--date', '--symbols', '--config']);

/** Parses `--flag value` and `--flag=value`; unknown flags and missing values are usage errors. */
export function parseArgs(argv: readonly string[]): DemoArgs {
  const out: DemoArgs = { data: undefined, speed: 0, date: undefined, symbols: undefined, config: undefined, simulate: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    if (raw === '--help' || raw === '-h') {
      out.help = true;
      continue;
    }
    if (raw === '--simulate') {
      out.simulate = true;
      continue;
    }
    const eq = raw.indexOf('=');
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    if (!VALUE_FLAGS.has(flag)) throw new UsageError(`unknown option '${raw}'`);
    const value = eq > 0 ? raw.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case '--data':
        out.data = value;
        break;
      case '--speed': {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) throw new UsageError(`--speed must be a number >= 0 (got '${value}')`);
        out.speed = n;
        break;
      }
      case '--date':
        if (!/^\d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?$/.test(value)) throw new UsageError(`--date must be YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (got '${value}')`);
        out.date = value;
        break;
      case '--symbols':
        out.symbols = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
        break;
      case '--config':
        out.config = value;
        break;
    }
  }
  return out;
}

export const USAGE = `usage: pnpm start [-- options]
  --data DIR        replay the CSV files DIR/<SYMBOL>.csv (default: FEED_REAL_DATA_DIR, else shared/data/real beside the repository)
  --speed N         0 = as fast as possible (default), 1 = real time, 39 = 39x
  --date D[..D2]    one New York session, or a range of dates
  --symbols A,B     a subset of the configured symbols
  --config FILE     a symbol configuration file (default: the six-ETF universe)
  --simulate        ignore data files: simulate the market with @feed/synth (what happens when there is no data)`;
