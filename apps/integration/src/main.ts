import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { AlpacaHistoricalClient, AlpacaMultiSymbolFeed, missingKeysMessage, resolveCredentials } from '@feed/alpaca';
import type { BarFeed } from '@feed/core';
import { ConfigError, DEFAULT_SYMBOL_CONFIG, SystemClock, loadSymbolConfig, nyse, symbolsOf } from '@feed/core';
import { MultiSymbolDataManager, SessionEvents } from '@feed/data-manager';
import type { WarningEvent } from '@feed/mock';
import { MockMultiSymbolFeed } from '@feed/mock';
import type { BarPublisher } from '@feed/nats';
import { NatsBarFeed, connectNats, leaseAccount } from '@feed/nats';
import { PolygonHistoricalClient, PolygonMultiSymbolFeed } from '@feed/polygon';
import { USAGE, UsageError, exitOnError, parseArgs, versionLine } from './args.js';
import { APP_DATA_DIR, runTempDir, shownPath, userPath } from './paths.js';
import { noSessionReason, prepareData, targetSessions } from './prepare-data.js';
import { startLeasedPublishing } from './leased-publisher.js';
import { nyTime, runProgram } from './program.js';
import { writeReport } from './report.js';
import { resolveFiles } from './resolve-files.js';
import { describeUniverse } from './universe.js';

/** The REST base URL beside a custom stream URL (a fake server serves both on one port). */
function restUrlOf(streamUrl: string): string {
  const u = new URL(streamUrl);
  return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2).filter((a) => a !== '--'));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (args.version) {
    console.log(versionLine('feed-demo'));
    return;
  }
  // Keys before any work or any line that says it connects (the feed itself would say so at connect()).
  if (args.live && args.provider === 'alpaca' && resolveCredentials(undefined, process.env) === undefined) {
    throw new ConfigError({ code: 'invalid_option', message: missingKeysMessage(), issues: [{ path: 'keys', message: 'not given and not in the environment' }], source: 'environment' });
  }
  const config = args.config === undefined ? DEFAULT_SYMBOL_CONFIG : await loadSymbolConfig(userPath(args.config));
  let symbols = symbolsOf(config);
  if (args.symbols !== undefined) {
    const unknown = args.symbols.filter((s) => !symbols.includes(s));
    if (unknown.length > 0) throw new UsageError(`--symbols: ${unknown.join(', ')} not in the configuration (${symbols.join(', ')})`);
    symbols = args.symbols;
  }
  // Checked before any work: a report nobody can write is said now, not after the replay.
  if (args.report !== undefined) {
    const report = userPath(args.report);
    if (!existsSync(dirname(report))) throw new UsageError(`--report: the folder ${dirname(report)} does not exist`);
    if (existsSync(report) && statSync(report).isDirectory()) throw new UsageError(`--report: ${report} is a folder; give a file name (r.html)`);
  }
  console.log(`feed: ${symbols.length} symbols`);
  for (const line of describeUniverse(config).filter((l) => symbols.includes(l.split(' ')[0] as string))) console.log(`  ${line}`);
  const now = new SystemClock().now();
  const last = nyse.mostRecentCompleteSession(now);
  const open = nyse.sessionAt(now);
  console.log(`market: ${open ? `open (session ${open.date})` : 'closed'}; last complete session ${last.date}${last.earlyClose ? ' (early close)' : ''}`);

  // Replay: which files, for which dates.
  let files: Record<string, string> = {};
  let dates: { from: string; to: string } | undefined;
  let subtitle: string;
  const synthetic = new Set<string>();
  if (args.live) {
    subtitle = `live: ${args.provider === 'polygon' ? `Polygon ${args.url ?? 'realtime'}` : `Alpaca ${args.url ?? args.feed}`}${args.publish === undefined ? '' : `, published to ${args.publish}`}`;
  } else if (args.nats !== undefined) {
    subtitle = `live: NATS JetStream ${args.nats}`;
  } else if (args.data !== undefined) {
    if (args.date !== undefined && targetSessions(args.date, now).length === 0) {
      const [from, to] = args.date.split('..') as [string, string | undefined];
      throw new UsageError(`--date: no NYSE session in ${args.date} (${noSessionReason(from, to ?? from)})`);
    }
    const dir = userPath(args.data);
    if (!existsSync(dir)) throw new UsageError(`--data: no such directory '${args.data}' (${dir})`);
    console.log(`\ndata: ${shownPath(dir)}`);
    const r = await resolveFiles(dir, symbols, config, (l) => console.log(l));
    files = r.files;
    for (const x of r.synthetic) synthetic.add(x);
    if (r.missing.length > 0) console.log(`no file for ${r.missing.join(', ')}, and no underlying file to synthesize from: missing in every slice`);
    if (args.date !== undefined) {
      const [from, to] = args.date.split('..') as [string, string | undefined];
      dates = { from, to: to ?? from };
    }
    subtitle = `replay of ${dir}${args.date === undefined ? '' : ` (${args.date})`}`;
  } else {
    const sessions = targetSessions(args.date, now);
    if (sessions.length === 0) {
      const [from, to] = (args.date ?? '').split('..') as [string, string | undefined];
      throw new UsageError(`--date: no NYSE session in ${args.date} (${noSessionReason(from, to ?? from)})`);
    }
    const first = sessions[0]!;
    const final = sessions[sessions.length - 1]!;
    const range = first.date === final.date ? first.date : `${first.date}..${final.date}`;
    const outDir = args.simulate ? runTempDir() : APP_DATA_DIR;
    console.log(`\npreparing ${range}${args.simulate ? ' (--simulate: synthetic only)' : ''} in ${shownPath(outDir)}`);
    const prepared = await prepareData({
      sessions,
      symbols,
      config,
      dataDir: undefined,
      outDir,
      env: args.simulate ? {} : process.env,
      restUrl: process.env.FEED_ALPACA_DATA_URL,
      polygonUrl: process.env.FEED_POLYGON_URL,
      log: (l) => console.log(`  ${l}`),
    });
    for (const f of prepared) {
      files[f.symbol] = f.path;
      if (f.source === 'synthetic') synthetic.add(f.symbol);
      console.log(`  ${f.symbol.padEnd(5)} ${f.source.padEnd(10)} ${String(f.bars).padStart(6)} bars  ${f.note}`);
    }
    dates = { from: first.date, to: final.date };
    subtitle = `replay of ${range} (${[...new Set(prepared.map((f) => f.source))].join(', ')} data)`;
  }

  // The one line that differs between replay and live: the feed.
  const feed: BarFeed = args.live
    ? args.provider === 'polygon'
      ? new PolygonMultiSymbolFeed({ symbols, ...(args.url === undefined ? {} : { url: args.url, restUrl: args.url.replace(/^ws/, 'http').replace(/\/stocks\/?$/, '') }) })
      : new AlpacaMultiSymbolFeed({ symbols, feed: args.feed, ...(args.url === undefined ? {} : { url: args.url, restUrl: restUrlOf(args.url) }) })
    : args.nats !== undefined
      ? new NatsBarFeed({ symbols, connection: { servers: args.nats, name: 'feed-demo' } })
      : new MockMultiSymbolFeed({ files, speed: args.speed, ...(dates === undefined ? {} : { dates }) });
  const live = args.live || args.nats !== undefined;
  const stop = new AbortController();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    stop.abort();
  });
  // --publish: among the programs started so, the one holding the lease holds the provider
  // connection and puts every bar on JetStream for others; the others stand by.
  let publishing: { publisher: () => BarPublisher | undefined; handover: () => Promise<void>; close: () => Promise<void> } | undefined;
  if (args.publish !== undefined) {
    const nc = await connectNats({ servers: args.publish, name: 'feed-demo-publisher' });
    // The lease is per account: a digest of the key, never the key itself.
    const keyId = args.provider === 'polygon' ? process.env.POLYGON_API_KEY : (process.env.APCA_API_KEY_ID ?? process.env.ALPACA_PAPER_API_KEY);
    const history =
      args.provider === 'polygon'
        ? new PolygonHistoricalClient(args.url === undefined ? {} : { baseUrl: args.url.replace(/^ws/, 'http').replace(/\/stocks\/?$/, '') })
        : new AlpacaHistoricalClient({ feed: args.feed === 'test' ? 'iex' : args.feed, ...(args.url === undefined ? {} : { baseUrl: restUrlOf(args.url) }) });
    const leased = await startLeasedPublishing({
      connection: nc,
      account: leaseAccount(`${args.provider}:${keyId ?? 'no-key'}`),
      symbols,
      feed,
      history,
      log: (l) => console.log(l),
      onLost: () => stop.abort(),
    });
    if (!leased.lease.held) console.log('waiting for the lease (Ctrl-C stops) ...');
    await Promise.race([leased.lease.whenHeld(), new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }))]);
    let publisher: BarPublisher | undefined;
    publishing = {
      publisher: () => publisher,
      handover: async () => {
        publisher = await leased.handover();
        publisher.on('error', (e) => console.error(`publish: ${e.error.message}`));
        console.log(`publishing every bar to ${args.publish} (stream ${publisher.stream}, subjects ${publisher.prefix}.<SYMBOL> and ${publisher.prefix}._batch)`);
      },
      close: async () => (await leased.close(), await nc.close()),
    };
  }

  const dm = new MultiSymbolDataManager({ symbols, clock: feed.clock });
  // The session's open, two minutes before the close (a strategy's last exit) and the close, at the
  // manager's boundaries: the same lines in replay and live.
  const sessionEvents = new SessionEvents(dm);
  for (const type of ['sessionOpen', 'beforeClose', 'sessionClose'] as const) {
    sessionEvents.on(type, (e) => console.log(`  ${type.padEnd(12)} ${nyTime(e.at)} (${e.minutesSinceOpen} min since the open, ${e.minutesToClose} to the close)`));
  }
  // A corporate action, announced before the first bar of its ex-date: the history is rebased.
  dm.on('corporateAction', (e) => {
    const a = e.action;
    const what = a.kind === 'cash_dividend' ? `cash dividend of ${String(a.amount)}` : a.kind === 'reverse_split' ? `1-for-${Math.round(1 / (a.ratio as number))} reverse split` : `${String(a.ratio)}-for-1 split`;
    console.log(`  corporateAction ${a.symbol} ${what}, ex ${a.exDate}: ${e.rebased} bars of history rebased${e.late ? ' (found late)' : ''}`);
  });
  // What the replay will not deliver (a file that ends early, none in range): said after the table.
  const warnings: WarningEvent[] = [];
  if (feed instanceof MockMultiSymbolFeed) feed.on('warning', (w) => warnings.push(w));
  if (live) console.log(`\nconnecting to ${args.live ? (feed as AlpacaMultiSymbolFeed | PolygonMultiSymbolFeed).url : args.nats} ...${args.minutes === undefined ? ' (Ctrl-C stops)' : ''}`);
  const handover = publishing?.handover;
  const result = await runProgram(feed, dm, { symbols, print: (l) => console.log(l), stopAfterSlices: args.minutes, signal: stop.signal, showSlices: live, ...(handover === undefined ? {} : { beforeStart: handover }) });
  if (publishing !== undefined) {
    await publishing.close();
    const p = publishing.publisher()?.stats();
    if (p !== undefined) console.log(`published ${p.acknowledged} bars in ${p.messages} messages (${p.duplicates} repeats dropped by JetStream, ${p.dropped} dropped, ${p.refused} refused)`);
  }
  for (const line of result.lines) console.log(line);
  // Never silent zeros: a symbol without a bar is said, and no bar at all is a failure.
  const counts = symbols.map((s) => [s, dm.stats().bySymbol[s]?.accepted ?? 0] as const);
  const empty = counts.filter(([, n]) => n === 0).map(([s]) => s);
  const what = dates === undefined ? 'the files' : dates.from === dates.to ? dates.from : `${dates.from}..${dates.to}`;
  if (!live && empty.length === symbols.length) {
    console.error(`\nfeed-demo: no bars at all for ${what}: the files hold no data for it (see --date, and the dates each file covers)`);
    process.exitCode = 1;
  }
  // A synthesized symbol's file is temporary: name the file it comes from instead.
  const said = (w: WarningEvent): string => {
    if (w.symbol === undefined || !synthetic.has(w.symbol) || w.data === undefined) return w.message.replace(w.file ?? '\0', shownPath(w.file ?? ''));
    const base = config.symbols[w.symbol]?.underlying ?? 'its underlying';
    return w.code === 'ends_early'
      ? `${w.symbol} is synthesized from ${base}'s file, which ends on ${w.data.last}, before the last session of ${what}: its replay is partial`
      : `${w.symbol} is synthesized from ${base}'s file, which begins on ${w.data.first}, after the first session of ${what}: its replay is partial`;
  };
  const partial = warnings.filter((w) => w.code === 'ends_early' || w.code === 'starts_late');
  for (const w of partial) console.log(`${partial[0] === w ? '\n' : ''}warning: ${said(w)}`);
  if (!live && empty.length > 0 && empty.length < symbols.length) {
    console.log(`\nwarning: no bars for ${empty.join(', ')} in ${what}: ${empty.length === 1 ? 'it is' : 'they are'} missing in every slice`);
  }
  if (interrupted) {
    console.log('\ninterrupted (Ctrl-C): the table above is what was replayed so far');
    process.exitCode = 130;
  }
  if (args.report !== undefined) {
    const bars = Object.fromEntries(symbols.map((s) => [s, dm.history(s)]));
    await writeReport(userPath(args.report), { title: `feed: ${symbols.join(', ')}`, subtitle, symbols, bars, slices: result.slices, stats: dm.stats(), synthetic: [...synthetic], last: result.lastSlice });
    console.log(`\nreport: ${shownPath(userPath(args.report))}`);
  }
  dm.dispose();
}

main().catch(exitOnError(USAGE));
