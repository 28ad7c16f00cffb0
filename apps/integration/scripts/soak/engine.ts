/**
 * Fault soak, for every provider: the provider's fake server replays market minutes of six symbols (with the gaps thin symbols
 * have), across sessions and nights, on a `ManualClock`, and at planned minutes injects faults of
 * every kind the live path must survive: drops, 406 refusals, a silent connection, REST 500s, 429
 * storms with and without Retry-After, a REST that hangs, looping page tokens, future-dated,
 * off-grid and malformed bars, and a server echoing the secret.
 *
 * Time moves only when the feed waits on it (a backoff, a REST retry, the deadline of a fill whose
 * request hangs, the next minute): never while real I/O is in flight, so a run does not depend on
 * the machine's speed or load.
 *
 * Checks, per run: every planned fault happened (counts); the data manager's history equals the
 * source wherever REST could recover it, with no bar duplicated or out of order; every bar missing
 * lies in a reported `gap_unfilled` range; no live bar was held longer than the fill deadline; no
 * piece of the secret appears in any error.
 *
 * The provider's part is a `SoakTarget` (`targets.ts`): its fake server's fault switches, its feed
 * and its history client; the faults, the driver and the checks are the same for every provider.
 *
 * Run: pnpm soak (in apps/integration; see soak-cli.ts). Exit 1 when a check fails, 2 on bad arguments.
 */
import { performance } from 'node:perf_hooks';
import type { Bar, FeedError, HistoricalBars, MarketSession } from '@feed/core';
import { MINUTE_MS, ManualClock, makeBar, nyse, sameBarData } from '@feed/core';
import { MultiSymbolDataManager } from '@feed/data-manager';
import type { AbstractLiveFeed, LiveFeedOptions, RetryInfo } from '@feed/live';

/** The wire encodings a provider may speak (Polygon: JSON only). */
export type SoakEncoding = 'json' | 'msgpack';

/** A REST fault for the next requests of the fake server, in the soak's words. */
export type SoakRestFault = 'rest500' | 'rest429' | 'rest429RetryAfter' | 'restHang' | 'restLoop';

/** What the soak asks of a provider's fake server. */
export interface SoakServer {
  /** Sends bars live (and keeps them for REST unless `keep: false`). */
  publish(bars: readonly Bar[], options?: { keep?: boolean }): void;
  /** Drops every stream connection without a close frame. */
  drop(): void;
  /** The next `attempts` connections are refused with the provider's connection-limit answer (Alpaca's 406, Polygon's max_connections). */
  refuse(attempts: number): void;
  /** Connections refused so far. */
  readonly refused: number;
  /** While on, the stream answers pings but delivers no bar. */
  silence(on: boolean): void;
  /** The next REST requests fail this way. */
  restFault(fault: SoakRestFault): void;
  /** REST faults queued and not yet served. */
  readonly restFaultsLeft: number;
  /** REST requests held without an answer now. */
  readonly hangingRequests: number;
  /** Sends one malformed bar message for `symbol` at `start`, in the stream's encoding. */
  sendMalformed(symbol: string, start: number, encoding: SoakEncoding): void;
  /** Sends an error message that echoes `text` (the keys in it). */
  sendEcho(text: string): void;
  close(): Promise<void>;
}

/** A live feed as the soak drives it: any provider's, on `@feed/live`. */
export type SoakFeed = AbstractLiveFeed;

/** A provider under the soak. */
export interface SoakTarget {
  readonly name: string;
  readonly encodings: readonly SoakEncoding[];
  /** The key and secret (or the one key) the feed uses: no 8-character piece may reach an error. */
  readonly secrets: readonly string[];
  start(clock: ManualClock): Promise<SoakServer>;
  /** The provider's history client on the fake server, telling the soak of each retry wait. */
  history(server: SoakServer, clock: ManualClock, onRetry: (r: RetryInfo) => void): HistoricalBars;
  /**
   * The provider's feed on the fake server with the shared options given. With `worker: true` (no
   * `gapFill.history`, no `random`: a worker takes plain options) it builds its own history client.
   */
  feed(server: SoakServer, options: LiveFeedOptions & { encoding: SoakEncoding }): SoakFeed;
  /** Whether an error is the feed's report of the echo (`sendEcho`). */
  isEcho(error: FeedError): boolean;
}

/** The kinds of fault, injected in this order, round after round. */
export const FAULT_KINDS = [
  'drop',
  'refuse406',
  'rest500',
  'silence',
  'rest429',
  'rest429RetryAfter',
  'futureBar',
  'restHang',
  'offGridBar',
  'restLoop',
  'malformed',
  'echoSecret',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SoakOptions {
  target: SoakTarget;
  seed: number;
  /** Market minutes to replay, from the open of 2025-10-16 on, across sessions and nights. */
  minutes: number;
  /** Fault episodes, spread over the run. */
  faults: number;
  encoding: SoakEncoding;
  /**
   * Run the feed in a worker thread (`worker: true`): the same driver, through `feed.sync()` after
   * every turn of I/O and every move of the clock (the worker's timers are on the clock's queue).
   * @default false
   */
  worker?: boolean;
  /** The kinds to cycle through (all by default). */
  kinds?: readonly FaultKind[];
  /**
   * Turn gap fill off (to see the soak fail without it).
   * @default true
   */
  gapFill?: boolean;
}

export interface SoakReport {
  bars: number;
  delivered: number;
  recovered: number;
  reconnects: number;
  duplicatesDropped: number;
  watchdogTrips: number;
  refused406: number;
  restRetries: number;
  gapsUnfilled: number;
  /** Source bars missing from the history inside reported gaps (what REST could not recover). */
  lostInReportedGaps: number;
  maxHeldMs: number;
  /** Faults injected, by kind. */
  injected: Partial<Record<FaultKind, number>>;
  faults: string[];
  ms: number;
  /** Every check that failed; empty when the run passed. */
  problems: string[];
}

const SYMBOLS = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
/** Chance that a symbol has no bar in a minute: the thin ones skip minutes on IEX. */
const SKIP: Readonly<Record<string, number>> = { TQQQ: 0, SQQQ: 0.01, UPRO: 0.02, SDS: 0.1, UVXY: 0.05, SVIX: 0.15 };
/** The deadline of one gap fill, in clock time. */
const FILL_DEADLINE_MS = 10_000;
const NO_DATA_MS = 3 * MINUTE_MS;
/** Faults stay away from the first minutes and from the end (a silence needs minutes to trip). */
const HEAD = 5;
const TAIL = 10;
/** Minutes at the head and tail of a run that hold no fault. */
export const HEAD_AND_TAIL = HEAD + TAIL;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The starts of `count` market minutes from the open of `date`, session after session. */
function marketMinutes(count: number, date = '2025-10-16'): number[] {
  const out: number[] = [];
  let session: MarketSession | undefined = nyse.sessionOn(date);
  if (session === undefined) throw new Error(`${date} is not a session`);
  while (out.length < count) {
    for (let t = session.open; t < session.close && out.length < count; t += MINUTE_MS) out.push(t);
    session = nyse.nextSession(session.close);
  }
  return out;
}

/** Bars minute by minute, with seeded prices and gaps. */
function sessionBars(seed: number, starts: readonly number[]): Bar[][] {
  const random = mulberry32(seed);
  const price: Record<string, number> = { TQQQ: 100, SQQQ: 16, UPRO: 110, SDS: 15, UVXY: 12, SVIX: 20 };
  return starts.map((start) => {
    const minute: Bar[] = [];
    for (const s of SYMBOLS) {
      const p0 = price[s] as number;
      const p1 = Math.round(p0 * (1 + (random() - 0.5) * 0.004) * 100) / 100;
      price[s] = p1;
      if (random() < (SKIP[s] as number)) continue;
      const high = Math.max(p0, p1) + 0.01;
      const low = Math.min(p0, p1) - 0.01;
      minute.push(makeBar({ symbol: s, start, open: p0, high, low, close: p1, volume: 100 + Math.floor(random() * 5000), vwap: Math.round(((p0 + p1) / 2) * 1000) / 1000, tradeCount: 1 + Math.floor(random() * 80), receivedAt: 0 }));
    }
    return minute;
  });
}

/**
 * Fault minutes spread evenly over the run (with a seeded offset inside each stretch), kinds in
 * order. Throws when the run is too short for that many faults, instead of looping.
 */
export function planFaults(minutes: number, faults: number, kinds: readonly FaultKind[], random: () => number): Map<number, FaultKind> {
  const plan = new Map<number, FaultKind>();
  if (faults === 0) return plan;
  const span = minutes - HEAD - TAIL;
  const stretch = Math.floor(span / faults);
  if (stretch < 1) throw new RangeError(`${faults} faults do not fit in ${minutes} minutes (at most ${Math.max(0, span)})`);
  for (let i = 0; i < faults; i++) plan.set(HEAD + i * stretch + Math.floor(random() * stretch), kinds[i % kinds.length] as FaultKind);
  return plan;
}

/** The faults that cut the connection: the feed reconnects after each. */
const DROPS: readonly FaultKind[] = ['drop', 'refuse406', 'rest500', 'rest429', 'rest429RetryAfter', 'restHang', 'restLoop'];

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const t0 = performance.now();
  const starts = marketMinutes(o.minutes);
  const minutes = sessionBars(o.seed, starts);
  const random = mulberry32(o.seed ^ 0x5eed);
  const plan = planFaults(o.minutes, o.faults, o.kinds ?? FAULT_KINDS, random);
  const clock = new ManualClock(starts[0]);
  const target = o.target;
  const server = await target.start(clock);
  const dm = new MultiSymbolDataManager({ symbols: SYMBOLS, clock, historySize: o.minutes + 16 });

  // What the feed waits for, so that the driver moves time exactly then.
  let backoff: number | undefined;
  let restRetry: number | undefined;
  let restRetries = 0;
  const onRestRetry = (delayMs: number): void => {
    restRetries++;
    restRetry = delayMs;
  };
  const worker = o.worker === true;
  // In a worker the feed builds its own history client, and tells of its retries by `historyRetry`.
  const history = worker ? undefined : target.history(server, clock, (r) => onRestRetry(r.delayMs));
  const feed = target.feed(server, {
    symbols: SYMBOLS,
    encoding: o.encoding,
    clock,
    ...(worker ? { worker: true } : { random }),
    keepAlive: false,
    // (A worker takes plain options, so no seeded `random`: without jitter its run repeats exactly.)
    reconnect: { initialDelayMs: 200, maxDelayMs: 5000, maxAttempts: Infinity, ...(worker ? { jitter: 0 } : {}) },
    watchdog: { noDataMs: NO_DATA_MS, checkIntervalMs: 10_000 },
    gapFill: o.gapFill === false ? false : { ...(history === undefined ? {} : { history }), timeoutMs: FILL_DEADLINE_MS },
  });
  dm.attach(feed);
  feed.on('retry', (e) => {
    backoff = e.delayMs;
  });
  if (worker) feed.on('historyRetry', (e) => onRestRetry(e.delayMs));
  const errors: FeedError[] = [];
  const gaps: { symbols: readonly string[]; from: number; to: number }[] = [];
  feed.on('error', (e) => {
    errors.push(e.error);
    if (e.error.code === 'gap_unfilled') gaps.push(e.error.detail as { symbols: string[]; from: number; to: number });
  });
  // How long live bars wait behind a gap fill, in clock time: sampled after every turn of I/O and
  // every move of the clock (nothing else can hold or release them).
  let maxHeldMs = 0;
  let heldSince: number | undefined;
  const sampleHeld = (): void => {
    const held = feed.stats().heldBars;
    if (held > 0 && heldSince === undefined) heldSince = clock.now();
    if (held === 0 && heldSince !== undefined) {
      maxHeldMs = Math.max(maxHeldMs, clock.now() - heldSince);
      heldSince = undefined;
    }
  };
  // (A worker's feed is current here after a round trip: its bars, events, counters and timers.)
  const ioTurn = async (): Promise<void> => {
    await nextTurn();
    if (worker) await feed.sync();
    sampleHeld();
  };
  const move = async (f: () => void): Promise<void> => {
    sampleHeld();
    f();
    if (worker) await feed.sync();
    sampleHeld();
  };

  const busy = (): boolean => backoff !== undefined || restRetry !== undefined || feed.state !== 'streaming' || feed.stats().gapFillInProgress;
  /**
   * Lets real I/O run until the feed is streaming and idle (`'all'`), or only until it is connected
   * again (`'connection'`: a gap fill may still be running), moving time only when it waits on it.
   */
  let reconnectsBefore = 0;
  const settle = async (until: 'all' | 'connection' = 'all'): Promise<void> => {
    for (let turns = 0; ; turns++) {
      await ioTurn();
      if (backoff !== undefined) {
        const d = backoff;
        backoff = undefined;
        await move(() => clock.advance(d));
      } else if (feed.state === 'closed') {
        throw new Error('the feed closed');
      } else if (until === 'connection') {
        if (feed.state === 'streaming' && feed.stats().reconnects > reconnectsBefore) return;
      } else if (restRetry !== undefined) {
        const d = restRetry;
        restRetry = undefined;
        await move(() => clock.advance(d));
      } else if (feed.stats().gapFillInProgress && server.hangingRequests > 0) {
        // The planned hang: nothing will answer, so run the timers up to the fill's deadline.
        await move(() => clock.runNextTimer());
      } else if (!busy()) {
        return;
      }
      if (turns > 2_000_000) throw new Error(`stuck: state ${feed.state}, stats ${JSON.stringify(feed.stats())}`);
    }
  };
  /** Moves the clock to `target`, running each timer on the way and settling when one set something off. */
  const advanceTo = async (target: number): Promise<void> => {
    if (worker) await feed.sync();
    for (let next = clock.nextTimerAt(); next !== undefined && next <= target; next = clock.nextTimerAt()) {
      await move(() => clock.set(Math.max(next, clock.now())));
      if (busy()) await settle();
    }
    if (target > clock.now()) await move(() => clock.set(target));
    if (busy()) await settle();
  };

  const faults: string[] = [];
  const injected: Partial<Record<FaultKind, number>> = {};
  const pending: FaultKind[] = [];
  let silenced = false;
  let tripsAtSilence = 0;
  const rejectedBefore = { future: 0, offGrid: 0 };
  const inject = (kind: FaultKind, m: number, start: number): void => {
    injected[kind] = (injected[kind] ?? 0) + 1;
    faults.push(`minute ${m} (${new Date(start).toISOString()}): ${kind}`);
    const rest = (fault: SoakRestFault): void => {
      server.restFault(fault);
      server.drop();
    };
    switch (kind) {
      case 'drop':
        server.drop();
        return;
      case 'refuse406':
        server.refuse(4);
        server.drop();
        return;
      case 'silence':
        server.silence(true);
        silenced = true;
        tripsAtSilence = feed.stats().watchdogTrips;
        return;
      case 'rest500':
      case 'rest429':
      case 'rest429RetryAfter':
      case 'restHang':
      case 'restLoop':
        rest(kind);
        return;
      case 'futureBar':
        rejectedBefore.future++;
        server.publish([makeBar({ symbol: 'TQQQ', start: Date.UTC(2030, 0, 2, 14, 30), open: 1, high: 1, low: 1, close: 1, volume: 1, receivedAt: 0 })], { keep: false });
        return;
      case 'offGridBar':
        rejectedBefore.offGrid++;
        server.publish([makeBar({ symbol: 'SQQQ', start: start - MINUTE_MS + 30_000, open: 1, high: 1, low: 1, close: 1, volume: 1, receivedAt: 0 })], { keep: false });
        return;
      case 'malformed':
        server.sendMalformed('SDS', start, o.encoding);
        return;
      case 'echoSecret':
        server.sendEcho(`invalid request: key ${target.secrets.join(' secret ')}`.slice(0, 80));
        return;
    }
  };

  /**
   * Lets I/O run until the feed has read `messages` bar messages, before time moves on (a worker's
   * `sync()` orders its port, not its socket: a watchdog must not run ahead of bars already sent).
   * A silenced connection gets nothing: there is nothing to wait for.
   */
  const received = async (messages: number): Promise<void> => {
    for (let turns = 0; !silenced && feed.stats().messages < messages && turns < 100_000; turns++) await ioTurn();
  };

  await feed.connect();
  await feed.start();
  for (let m = 0; m < starts.length; m++) {
    const start = starts[m] as number;
    // The bars of a minute come shortly after it ends.
    await advanceTo(start + MINUTE_MS + 50);
    if (silenced && feed.stats().watchdogTrips > tripsAtSilence) silenced = false;
    const kind = plan.get(m);
    if (kind !== undefined) pending.push(kind);
    // Each fault hits a healthy connection; a silence is left alone until the watchdog has seen it.
    const bars = minutes[m] as Bar[];
    if (pending.length > 0 && !silenced) {
      await settle();
      const kind = pending.shift() as FaultKind;
      reconnectsBefore = feed.stats().reconnects;
      inject(kind, m, start);
      // Half the minute is sent while the fault is on (lost live: REST must recover it), the other
      // half once the feed is connected again (live bars held while the gap before them fills).
      const half = Math.ceil(bars.length / 2);
      server.publish(bars.slice(0, half));
      if (DROPS.includes(kind)) await settle('connection');
      const seen = feed.stats().messages;
      server.publish(bars.slice(half));
      // Received before time moves on (so they wait behind a hanging fill if there is one).
      await received(seen + bars.length - half);
    } else {
      const seen = feed.stats().messages;
      server.publish(bars);
      await received(seen + bars.length);
    }
    await settle();
  }
  await advanceTo(clock.now() + MINUTE_MS);
  // The last bars in flight: wait (for I/O, not time) until every source bar is delivered or in a reported gap.
  const source = new Map(SYMBOLS.map((s) => [s, minutes.flat().filter((b) => b.symbol === s)]));
  const inGap = (b: Bar): boolean => gaps.some((g) => g.symbols.includes(b.symbol) && b.start >= g.from && b.start <= g.to);
  const accounted = (): boolean => SYMBOLS.every((s) => dm.history(s).length + (source.get(s) as Bar[]).filter(inGap).length >= (source.get(s) as Bar[]).length);
  // (Without gap fill some never come: stop once nothing has arrived for many turns of I/O.)
  for (let quiet = 0; quiet < 20_000 && !accounted(); ) {
    const seen = feed.stats().messages;
    await ioTurn();
    quiet = feed.stats().messages === seen ? quiet + 1 : 0;
  }

  const problems: string[] = [];
  let lostInReportedGaps = 0;
  for (const s of SYMBOLS) {
    const got = dm.history(s);
    const want = source.get(s) as Bar[];
    let i = 0;
    for (const w of want) {
      const g = got[i];
      if (g !== undefined && g.start === w.start) {
        if (!sameBarData(g, w)) problems.push(`${s} ${new Date(w.start).toISOString()}: history differs from the source`);
        i++;
      } else if (inGap(w)) {
        lostInReportedGaps++;
      } else {
        problems.push(`${s} ${new Date(w.start).toISOString()}: lost, in no reported gap (history has ${g ? new Date(g.start).toISOString() : 'nothing'} there)`);
        if (problems.length > 20) break;
      }
    }
    if (i < got.length) problems.push(`${s}: ${got.length - i} bars in the history that the source does not have, first ${new Date((got[i] as Bar).start).toISOString()}`);
  }
  const st = feed.stats();
  const dmTotal = dm.stats().total;
  if (dmTotal.duplicates !== 0 || dmTotal.rejected !== 0) problems.push(`the data manager saw ${dmTotal.duplicates} duplicates and ${dmTotal.rejected} rejections`);
  const count = (k: FaultKind): number => injected[k] ?? 0;
  const expect = (what: string, got: number, want: number): void => {
    if (got !== want) problems.push(`${what}: ${got}, expected ${want}`);
  };
  expect('faults injected', faults.length, o.faults);
  expect('refused connections', server.refused, 4 * count('refuse406'));
  expect('watchdog trips', st.watchdogTrips, count('silence'));
  expect('bars refused as ahead of the clock or off the grid', st.rejectedBars, count('futureBar') + count('offGridBar'));
  expect('malformed messages', st.malformed, count('malformed'));
  expect('echo errors reported', errors.filter((e) => target.isEcho(e)).length, count('echoSecret'));
  expect('REST faults left unused', server.restFaultsLeft, 0);
  if (o.gapFill !== false) {
    expect('gap fills that hit the deadline', st.gapFillTimeouts, count('restHang'));
    expect('gaps reported unfilled', gaps.length, count('restHang') + count('restLoop'));
    const minRetries = 2 * count('rest500') + 3 * (count('rest429') + count('rest429RetryAfter'));
    if (restRetries < minRetries) problems.push(`REST retries: ${restRetries}, expected at least ${minRetries}`);
  }
  const drops = DROPS.reduce((n, k) => n + count(k), 0);
  if (st.reconnects < drops + count('silence')) problems.push(`reconnects: ${st.reconnects}, expected at least ${drops + count('silence')}`);
  if (maxHeldMs > FILL_DEADLINE_MS) problems.push(`a live bar was held ${maxHeldMs} ms, longer than the fill deadline (${FILL_DEADLINE_MS} ms)`);
  const text = errors.map((e) => `${e.message}\n${String(e.stack)}`).join('\n');
  for (const secret of target.secrets) {
    for (let i = 0; i + 8 <= secret.length; i++) {
      if (text.includes(secret.slice(i, i + 8))) {
        problems.push(`an error holds a piece of the secret (${i}..${i + 8})`);
        break;
      }
    }
  }
  // In a worker the socket is the worker's: the main thread's feed holds none.
  if (worker && feed.resources().sockets !== 0) problems.push('worker: true, but the socket is on the main thread');
  if (!worker && feed.resources().sockets !== 1) problems.push('inline, but the main thread holds no socket');
  await feed.disconnect();
  await server.close();
  return {
    bars: minutes.reduce((n, m) => n + m.length, 0),
    delivered: st.barsReceived,
    recovered: st.barsRecovered,
    reconnects: st.reconnects,
    duplicatesDropped: st.duplicatesDropped,
    watchdogTrips: st.watchdogTrips,
    refused406: server.refused,
    restRetries,
    gapsUnfilled: gaps.length,
    lostInReportedGaps,
    maxHeldMs,
    injected,
    faults,
    ms: performance.now() - t0,
    problems,
  };
}
