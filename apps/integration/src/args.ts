import { createRequire } from 'node:module';
import { FeedError, closestName } from '@feed/core';

/** Command-line options of the demo. */
export interface DemoArgs {
  data: string | undefined;
  speed: number;
  date: string | undefined;
  symbols: string[] | undefined;
  config: string | undefined;
  simulate: boolean;
  live: boolean;
  /** With --live: whose stream. */
  provider: 'alpaca' | 'polygon';
  feed: 'iex' | 'sip' | 'delayed_sip' | 'test';
  url: string | undefined;
  minutes: number | undefined;
  report: string | undefined;
  /** With --live: also publish every bar to NATS JetStream at this URL. */
  publish: string | undefined;
  /** Read bars from NATS JetStream at this URL (what a --live --publish program publishes). */
  nats: string | undefined;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {}

/**
 * How both programs of the app end on an error: a usage error prints the usage and exits 2; a
 * `FeedError` prints its code and message, anything else its stack, and exits 1.
 */
export function exitOnError(usage: string): (error: unknown) => void {
  return (error) => {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${usage}`);
      process.exitCode = 2;
      return;
    }
    console.error(FeedError.isInstance(error) ? `error [${error.code}]: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  };
}

const SWITCHES = ['--help', '--version', '--simulate', '--live'];

const PACKAGES = ['@feed/core', '@feed/csv', '@feed/data-manager', '@feed/mock', '@feed/live', '@feed/alpaca', '@feed/polygon', '@feed/synth', '@feed/nats'];

/** `--version`: the program and the version of each feed package it runs. */
export function versionLine(program: string): string {
  const require = createRequire(import.meta.url);
  const versions = PACKAGES.map((p) => `${p} ${(require(`${p}/package.json`) as { version: string }).version}`);
  return `${program} (${versions.join(', ')})`;
}

/** `unknown option '--sped' (did you mean --speed?)`. */
export function unknownOption(raw: string, valid: readonly string[]): string {
  const flag = raw.split('=')[0] as string;
  const near = flag.startsWith('-') ? closestName(flag, valid) : undefined;
  return `unknown option '${raw}'${near === undefined ? '' : ` (did you mean ${near}?)`}`;
}

const VALUE_FLAGS = new Set(['--provider', '--data', '--speed', '--date', '--symbols', '--config', '--feed', '--url', '--minutes', '--report', '--publish', '--nats']);

/** Parses `--flag value` and `--flag=value`; unknown flags and missing values are usage errors. */
export function parseArgs(argv: readonly string[]): DemoArgs {
  const out: DemoArgs = {
    data: undefined,
    speed: 0,
    date: undefined,
    symbols: undefined,
    config: undefined,
    simulate: false,
    live: false,
    provider: 'alpaca',
    feed: 'iex',
    url: undefined,
    minutes: undefined,
    report: undefined,
    publish: undefined,
    nats: undefined,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    if (raw === '--help' || raw === '-h') {
      out.help = true;
      continue;
    }
    if (raw === '--version' || raw === '-V') {
      out.version = true;
      continue;
    }
    if (raw === '--simulate') {
      out.simulate = true;
      continue;
    }
    if (raw === '--live') {
      out.live = true;
      continue;
    }
    const eq = raw.indexOf('=');
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    if (!VALUE_FLAGS.has(flag)) throw new UsageError(unknownOption(raw, [...VALUE_FLAGS, ...SWITCHES]));
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
        for (const d of value.split('..')) {
          const [y, m, day] = d.split('-').map(Number) as [number, number, number];
          const t = new Date(Date.UTC(y, m - 1, day));
          if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== day) throw new UsageError(`--date: no such date '${d}'`);
        }
        out.date = value;
        break;
      case '--symbols':
        out.symbols = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
        break;
      case '--config':
        out.config = value;
        break;
      case '--feed':
        if (value !== 'iex' && value !== 'sip' && value !== 'delayed_sip' && value !== 'test') throw new UsageError(`--feed must be iex, sip, delayed_sip or test (got '${value}')`);
        out.feed = value;
        break;
      case '--url':
        if (!/^wss?:\/\//.test(value)) throw new UsageError(`--url must be a ws:// or wss:// URL (got '${value}')`);
        out.url = value;
        break;
      case '--minutes': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--minutes must be a whole number >= 1 (got '${value}')`);
        out.minutes = n;
        break;
      }
      case '--provider':
        if (value !== 'alpaca' && value !== 'polygon') throw new UsageError(`--provider must be alpaca or polygon (got '${value}')`);
        out.provider = value;
        break;
      case '--publish':
      case '--nats':
        if (!/^(nats|tls):\/\/[^\s]+$/.test(value)) throw new UsageError(`${flag} must be a nats:// or tls:// URL (got '${value}')`);
        if (flag === '--publish') out.publish = value;
        else out.nats = value;
        break;
      case '--report':
        out.report = value;
        break;
    }
  }
  if (out.live && (out.data !== undefined || out.simulate)) throw new UsageError('--live reads Alpaca: it takes no --data or --simulate');
  if (out.provider !== 'alpaca' && !out.live) throw new UsageError('--provider goes with --live');
  if (out.publish !== undefined && !out.live) throw new UsageError('--publish goes with --live: the program that holds the Alpaca connection publishes');
  if (out.nats !== undefined && (out.live || out.data !== undefined || out.simulate)) throw new UsageError('--nats reads bars from NATS: it takes no --live, --data or --simulate');
  if (!out.live && out.nats === undefined && (out.url !== undefined || out.minutes !== undefined)) throw new UsageError('--url and --minutes go with --live');
  if (out.nats !== undefined && out.url !== undefined) throw new UsageError('--url goes with --live');
  return out;
}

export const USAGE = `usage: pnpm start [-- options]
  (no options)      prepare the most recent complete session for the six ETFs (existing files in
                    apps/integration/data, else a download with Alpaca keys, else synthetic) and replay it
  --data DIR        replay the CSV files DIR/<SYMBOL>.csv instead (a missing leveraged fund is synthesized
                    from its underlying's file, e.g. UPRO from SPY.csv)
  --speed N         0 = as fast as possible (default), 1 = real time, 39 = 39x
  --date D[..D2]    one New York session, or a range of dates
  --symbols A,B     a subset of the configured symbols
  --config FILE     a symbol configuration file (default: the six-ETF universe)
  --simulate        ignore data files: simulate the market with @feed/synth
  --report FILE     write a self-contained HTML report (candles, forward fills, staleness)
  --live            the same program on Alpaca's stream (keys: APCA_API_KEY_ID / APCA_API_SECRET_KEY)
  --provider P      with --live: alpaca (default) or polygon (key: POLYGON_API_KEY)
  --feed F          with --live: iex (default), sip, delayed_sip or test
  --url URL         with --live: a stream URL instead (a proxy, or a fake server)
  --minutes N       with --live or --nats: stop after N minutes (slices); default: until Ctrl-C
  --publish URL     with --live: also publish every bar to NATS JetStream (nats://HOST:PORT), so that
                    other programs share this one Alpaca connection; of several programs started
                    so, one holds the connection (a lease on NATS) and the others stand by
  --nats URL        read the bars a --live --publish program publishes (nats://HOST:PORT)
  --version         the versions of the feed packages it runs; --help this text`;
