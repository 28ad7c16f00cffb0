import type { Adjustment, Bar, Clock, CorporateAction, CorporateActions } from '@feed/core';
import { AbstractBarFeed, BarValidationError, ExDateTracker, actionsFrom, FeedError, ReplayClock, ReplayPacer, SystemClock, invalidOption, yieldToEventLoop } from '@feed/core';
import type { ConsumerConfig, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DecodedBar } from './codec.js';
import { decodeBars, decodeStatus, digest } from './codec.js';
import type { NatsConnectOptions } from './connection.js';
import { connectNats } from './connection.js';
import { BATCH_TOKEN, DEFAULT_PREFIX, DEFAULT_STREAM, STATUS_TOKEN, subjectOf } from './subjects.js';

interface ReplaySettings {
  readonly to: number;
  readonly intervalMs: number;
  readonly pacer: ReplayPacer;
}

/** Where a consumer starts: new bars only, everything the stream holds, or from a time (epoch ms). */
export type StartFrom = 'new' | 'all' | { readonly time: number };

/** Options of `NatsBarFeed`. */
export interface NatsBarFeedOptions {
  /** The symbols to read, or `'all'` (every subject under the prefix). */
  readonly symbols: readonly string[] | 'all';
  /** An open connection, or how to open one (closed by `disconnect()` only when the feed opened it). */
  readonly connection: NatsConnection | NatsConnectOptions;
  /** @default 'FEED_BARS' */
  readonly stream?: string;
  /** @default 'feed.bars' */
  readonly prefix?: string;
  /**
   * Where a new consumer starts. A durable consumer that exists already resumes after the last bar
   * it acknowledged, whatever this says.
   * @default 'new'
   */
  readonly from?: StartFrom;
  /**
   * A durable consumer's name: a program restarted with the same name resumes exactly after the
   * last bar it finished handling (a bar is acknowledged after every listener has run).
   * @default none: an ephemeral consumer, removed by the server 5 minutes after the feed goes
   */
  readonly durable?: string;
  /** @default new SystemClock() */
  readonly clock?: Clock;
  /**
   * Bars the server may send ahead of their acknowledgement.
   * @default 1000
   */
  readonly batch?: number;
  /**
   * Replay what the stream holds instead of following it live: JetStream as a history store. The
   * feed's clock (a `ReplayClock`, made at the first bar's end unless given) moves as
   * `MockMultiSymbolFeed`'s does: to each minute's end, then that minute's bars; at the end one more
   * interval, and the state `stopped` (`whenDone()` resolves). Starts where `from` says (`'all'`
   * unless given) and ends at the last bar stored when it is reached, or before `to` (epoch ms).
   */
  /**
   * Corporate actions to announce (`corporateAction`) before the first bar of each ex-date this
   * feed delivers, as every feed does: a list, or a source (read once at `start()`).
   * @default none
   */
  readonly corporateActions?: CorporateActions | readonly CorporateAction[];
  /**
   * Which actions are announced: `split`, `dividend`, `all`, or `raw` (none).
   * @default 'split'
   */
  readonly adjustment?: Adjustment;
  readonly replay?: {
    /** 0: as fast as possible; 1: real time; 39: 39x. @default 0 */
    readonly speed?: number;
    /** Stop before bars starting at or after this time. */
    readonly to?: number;
    /** Waits between minutes at speeds above 0. @default new SystemClock() */
    readonly pacingClock?: Clock;
    /** @default 60000 */
    readonly intervalMs?: number;
    /**
     * A gap between bars counts at most this much at speeds above 0 (nights and weekends do not
     * sleep), as in `MockMultiSymbolFeed`: the same pacing (`ReplayPacer`).
     * @default intervalMs
     */
    readonly maxGapMs?: number;
    /** At speed 0, bars between yields to the event loop. @default 256 */
    readonly yieldEvery?: number;
  };
}

/**
 * A `BarFeed` that reads bars from JetStream (what `BarPublisher` wrote): a strategy keeps its code
 * path whether its bars come from Alpaca, a replay or another program over NATS. Bars are delivered
 * in stream order with the `receivedAt` their publisher stamped; each is acknowledged once every
 * listener has run. A message that cannot be read is an `error` (subject and stream sequence),
 * acknowledged and skipped.
 */
export class NatsBarFeed extends AbstractBarFeed {
  readonly type = 'nats';
  readonly stream: string;
  readonly prefix: string;
  readonly #options: NatsBarFeedOptions;
  #nc: NatsConnection | undefined;
  #ownConnection = false;
  #consumerName: string | undefined;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #undecodable = 0;
  #repeats = 0;
  #gaps = 0;
  /**
   * The stream sequence of the last message read, when this consumer reads every subject of the
   * stream (so its sequences are consecutive unless the stream lost messages), else undefined.
   */
  #lastSeq: number | undefined;
  #checksGaps = false;
  #redelivered = 0;
  #returned = 0;
  /**
   * The stream sequences this feed delivered (the most recent ones): a redelivery of one of them is
   * acknowledged and skipped; a redelivery of any other (pulled by an earlier consumer that stopped
   * before delivering it) is delivered. Never a "last sequence" rule: a resumed consumer gets the
   * bars its predecessor returned after newer ones.
   */
  readonly #deliveredSeqs = new Set<number>();
  /** Per symbol, the versions delivered last (start and digest of each), to skip a stored copy. */
  readonly #seen = new Map<string, VersionRing>();
  /** The symbols to deliver (a batch holds others' bars; a 2.9 server cannot filter several subjects), or undefined for all. */
  readonly #wanted: ReadonlySet<string> | undefined;

  readonly #replay: ReplaySettings | undefined;
  #done: { promise: Promise<void>; resolve: () => void } | undefined;
  readonly #tracker: ExDateTracker;
  #actionsRead = false;
  #announced = 0;

  constructor(options: NatsBarFeedOptions) {
    super(options.symbols === 'all' ? [] : [...new Set(options.symbols)], options.clock ?? (options.replay === undefined ? new SystemClock() : new ReplayClock(0)));
    const r = options.replay;
    if (r !== undefined) {
      if (!(this.clock instanceof ReplayClock)) throw invalidOption('clock', 'replay needs a ReplayClock (or none: one is made)');
      const intervalMs = r.intervalMs ?? 60_000;
      this.#replay = {
        to: r.to ?? Number.POSITIVE_INFINITY,
        intervalMs,
        pacer: new ReplayPacer({ speed: r.speed ?? 0, maxGapMs: r.maxGapMs ?? intervalMs, yieldEvery: r.yieldEvery ?? 256, pacingClock: r.pacingClock ?? new SystemClock() }),
      };
    }
    this.#options = options;
    this.stream = options.stream ?? DEFAULT_STREAM;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    if (options.symbols !== 'all') for (const s of options.symbols) subjectOf(this.prefix, s);
    this.#wanted = options.symbols === 'all' ? undefined : new Set(options.symbols);
    this.#tracker = new ExDateTracker(options.adjustment ?? 'split');
  }

  /** Reads the corporate actions once (a list, or a source over every date); a failure is reported, never thrown. */
  async #readActions(): Promise<void> {
    const c = this.#options.corporateActions;
    if (c === undefined || this.#actionsRead) return;
    this.#actionsRead = true;
    try {
      const source = Array.isArray(c) ? actionsFrom(c as readonly CorporateAction[]) : (c as CorporateActions);
      const list = [...(await source.actionsBySymbol({ symbols: this.symbols, from: '1900-01-01', to: '2999-12-31' })).values()].flat();
      this.#tracker.add(list.filter((a) => this.#wanted === undefined || this.#wanted.has(a.symbol)));
    } catch (error) {
      this.reportError(new FeedError({ code: 'provider', message: `corporate actions could not be read: ${String(error)}; none is announced`, cause: error }));
    }
  }

  /** The consumer's name on the server (the durable name, or the ephemeral one the server gave). */
  get consumer(): string | undefined {
    return this.#consumerName;
  }

  /**
   * Core's counters, plus messages that could not be read, repeats skipped (redeliveries of bars
   * delivered, stored copies), messages the server redelivered, and messages pulled but never
   * acknowledged, given back: by this feed when it stopped with them in hand (`nak`), or, on connect,
   * those an earlier program of the same durable name left (the consumer restarts after its last
   * acknowledged bar).
   */
  override stats(): ReturnType<AbstractBarFeed['stats']> & { readonly undecodable: number; readonly repeats: number; readonly redelivered: number; readonly returned: number; readonly sequenceGaps: number; readonly corporateActionsAnnounced: number } {
    return { ...super.stats(), undecodable: this.#undecodable, repeats: this.#repeats, redelivered: this.#redelivered, returned: this.#returned, sequenceGaps: this.#gaps, corporateActionsAnnounced: this.#announced };
  }

  protected async doConnect(): Promise<void> {
    const c = this.#options.connection;
    if (isConnection(c)) this.#nc = c;
    else {
      try {
        this.#nc = await connectNats({ clock: this.clock, ...c });
      } catch (error) {
        const e = FeedError.isInstance(error) ? error : new FeedError({ code: 'connection', message: String(error) });
        this.reportError(e);
        throw e;
      }
      this.#ownConnection = true;
    }
    try {
      this.#consumerName = await this.#ensureConsumer(this.#nc);
    } catch (error) {
      const e = new FeedError({ code: 'provider', message: `JetStream consumer on ${this.stream}: ${error instanceof Error ? error.message : String(error)}`, cause: error });
      this.reportError(e);
      throw e;
    }
  }

  async #ensureConsumer(nc: NatsConnection): Promise<string> {
    const jsm = await jetstreamManager(nc);
    const durable = this.#options.durable;
    if (durable !== undefined) {
      let info;
      try {
        info = await jsm.consumers.info(this.stream, durable);
      } catch (error) {
        if (!/consumer not found/i.test(String(error))) throw error;
      }
      if (info !== undefined) {
        // It exists: resume where it stopped. Bars an earlier program pulled and never acknowledged
        // (it stopped or died with a batch in hand) would come back only after the ack wait, behind
        // newer ones; the consumer starts again right after the last acknowledged bar instead.
        // (Acknowledgements are in stream order, so everything after the floor is unacknowledged.)
        const floor = info.ack_floor.stream_seq;
        this.#watchGaps(info.config, floor);
        if (info.delivered.stream_seq > floor) {
          this.#returned += info.num_ack_pending;
          const { opt_start_time: _time, ...config } = info.config;
          await jsm.consumers.delete(this.stream, durable);
          await jsm.consumers.add(this.stream, { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 });
        }
        return durable;
      }
    }
    const from = this.#options.from ?? (this.#replay === undefined ? 'new' : 'all');
    // A symbol's bars come on its subject (alone) or in batches of several symbols (`<prefix>._batch`).
    const subjects = this.#options.symbols === 'all' ? [`${this.prefix}.>`] : [...this.#options.symbols.map((s) => subjectOf(this.prefix, s)), `${this.prefix}.${BATCH_TOKEN}`, `${this.prefix}.${STATUS_TOKEN}`];
    const config: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.Explicit,
      deliver_policy: from === 'new' ? DeliverPolicy.New : from === 'all' ? DeliverPolicy.All : DeliverPolicy.StartTime,
      ...(typeof from === 'object' ? { opt_start_time: new Date(from.time).toISOString() } : {}),
      // Several subjects in one consumer need a 2.10 server; on 2.9 (Debian's) the consumer reads the
      // prefix and this feed acknowledges and skips the other symbols' bars.
      ...(subjects.length === 1 ? { filter_subject: subjects[0] as string } : serverAtLeast(nc, 2, 10) ? { filter_subjects: subjects } : { filter_subject: `${this.prefix}.>` }),
      max_ack_pending: Math.max(this.#options.batch ?? 1000, 1) * 4,
      ...(durable === undefined ? { inactive_threshold: 5 * 60 * 1e9 } : { durable_name: durable }),
    };
    const info = await jsm.consumers.add(this.stream, config);
    this.#watchGaps(info.config, undefined);
    return info.name;
  }

  /**
   * Gaps are seen when the consumer reads every subject of the stream (the stream's subjects are the
   * prefix's): then its stream sequences follow each other, and a jump is messages the stream lost
   * (removed by its limits, its age, a purge) before this consumer read them. `after`: the last
   * sequence acknowledged before (a resumed durable).
   */
  #watchGaps(config: Partial<ConsumerConfig>, after: number | undefined): void {
    const all = `${this.prefix}.>`;
    const filters = config.filter_subjects ?? (config.filter_subject === undefined ? [] : [config.filter_subject]);
    this.#checksGaps = filters.length === 0 || (filters.length === 1 && filters[0] === all);
    this.#lastSeq = this.#checksGaps ? after : undefined;
  }

  /** Replay: resolves when the range has been delivered (or the feed stopped). */
  whenDone(): Promise<void> {
    return this.#done?.promise ?? Promise.resolve();
  }

  protected async doStart(): Promise<void> {
    await this.#readActions();
    const nc = this.#nc as NatsConnection;
    const consumer = await jetstream(nc).consumers.get(this.stream, this.#consumerName);
    if (this.#replay !== undefined) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#done = { promise, resolve };
      const info = await consumer.info();
      if (info.num_pending === 0) {
        // Nothing stored in the range: ends once start() has moved the state to streaming.
        void yieldToEventLoop().then(() => this.#endReplay());
        return;
      }
    }
    const messages = await consumer.consume({ max_messages: this.#options.batch ?? 1000 });
    this.#messages = messages;
    this.#loop = (async () => {
      for await (const m of messages) {
        if (this.#messages !== messages) {
          // Pulled, but the feed stopped: never delivered, so never acknowledged nor recorded. Returned
          // at once, so that the next consumer of this name gets it now, not after the ack wait.
          this.#returned++;
          m.nak();
          continue;
        }
        if (this.#replay === undefined) this.#onMessage(m);
        else if (!(await this.#onReplayMessage(m))) break;
      }
    })().catch((error: unknown) => {
      if (this.#messages === messages) this.reportError(new FeedError({ code: 'connection', message: `JetStream delivery ended: ${String(error)}`, cause: error }));
    });
  }

  /** A stream sequence after a jump: the messages between are gone from the stream. */
  #checkSequence(m: JsMsg): void {
    if (!this.#checksGaps || m.redelivered) return;
    const last = this.#lastSeq;
    if (last !== undefined && m.seq > last + 1) {
      this.#gaps++;
      this.reportError(
        new FeedError({
          code: 'gap_unfilled',
          message: `stream ${this.stream} has no messages ${last + 1} to ${m.seq - 1} any more (removed by its limits, its age or a purge before consumer ${this.#consumerName ?? ''} read them): their bars are lost to it`,
          detail: { stream: this.stream, from: last + 1, to: m.seq - 1, missing: m.seq - 1 - last },
        }),
      );
    }
    if (last === undefined || m.seq > last) this.#lastSeq = m.seq;
  }

  /**
   * A trading status (`<prefix>._status`): delivered (`tradingStatus`) for a wanted symbol, once (by
   * stream sequence); in a replay, when the replay clock reaches its time.
   */
  #onStatus(m: JsMsg): void {
    this.#checkSequence(m);
    const status = decodeStatus(m.data, this.clock.now());
    if (typeof status === 'string') {
      this.#undecodable++;
      this.reportError(new FeedError({ code: 'protocol', message: `cannot read the trading status in ${m.subject} (stream ${this.stream}, sequence ${m.seq}): ${status}; skipped`, detail: { subject: m.subject, streamSequence: m.seq, stream: this.stream } }));
      m.ack();
      return;
    }
    if (!this.#deliveredSeqs.has(m.seq) && (this.#wanted === undefined || this.#wanted.has(status.symbol))) {
      if (this.#replay !== undefined && status.at > this.clock.now()) (this.clock as ReplayClock).advanceTo(status.at);
      this.emitter.emit({ type: 'tradingStatus', status });
    }
    this.#remember(m.seq);
    m.ack();
  }

  #isStatus(m: JsMsg): boolean {
    return m.subject.endsWith(`.${STATUS_TOKEN}`);
  }

  #onMessage(m: JsMsg): void {
    if (this.#isStatus(m)) {
      this.#onStatus(m);
      return;
    }
    this.#checkSequence(m);
    const decoded = decodeBars(m.data);
    if (typeof decoded === 'string') {
      this.#undecodable++;
      this.reportError(
        new BarValidationError({
          message: `cannot read the bar in ${m.subject} (stream ${this.stream}, sequence ${m.seq}): ${decoded}; skipped`,
          reason: 'undecodable',
          detail: { subject: m.subject, streamSequence: m.seq, stream: this.stream },
        }),
      );
      m.ack();
      return;
    }
    if (m.redelivered) this.#redelivered++;
    if (this.#deliveredSeqs.has(m.seq)) {
      // A redelivery of a message delivered (the server lost acknowledgements in a crash).
      this.#repeats += this.#wantedCount(decoded);
      m.ack();
      return;
    }
    for (const d of decoded) this.#deliverOne(d.bar);
    this.#remember(m.seq);
    m.ack();
  }

  #wantedCount(decoded: readonly DecodedBar[]): number {
    if (this.#wanted === undefined) return decoded.length;
    let n = 0;
    for (const d of decoded) if (this.#wanted.has(d.bar.symbol)) n++;
    return n;
  }

  #remember(seq: number): void {
    this.#deliveredSeqs.add(seq);
    if (this.#deliveredSeqs.size > MAX_REMEMBERED) this.#deliveredSeqs.delete(this.#deliveredSeqs.values().next().value as number);
  }

  /**
   * One bar of a message: another symbol's (a batch, a 2.9 server) skipped, a version delivered
   * already skipped (a second stored copy, a batch that overlaps another publisher's: exactly once
   * here), else delivered. Listeners run inside deliver(); the message's acknowledgement follows
   * every bar's, so a crash mid-message replays it.
   */
  #deliverOne(bar: Bar): void {
    if (this.#wanted !== undefined && !this.#wanted.has(bar.symbol)) return;
    if (this.#delivered(bar)) {
      this.#repeats++;
      return;
    }
    if (!this.#tracker.empty) {
      const due = this.#tracker.due(bar.symbol, bar.start);
      if (due !== undefined) {
        for (const action of due) {
          this.#announced++;
          this.emitter.emit({ type: 'corporateAction', action, late: false });
        }
      }
    }
    this.deliver(bar);
  }

  /** A stored message, replayed: each bar paced, the clock moved to its minute's end, then delivered. False at the end. */
  async #onReplayMessage(m: JsMsg): Promise<boolean> {
    const r = this.#replay as ReplaySettings;
    if (this.#isStatus(m)) {
      this.#onStatus(m);
      if (m.info.pending === 0) {
        this.#endReplay();
        return false;
      }
      return true;
    }
    this.#checkSequence(m);
    const decoded = decodeBars(m.data);
    if (typeof decoded === 'string' || this.#deliveredSeqs.has(m.seq)) {
      // Unreadable (reported there) or delivered already: handled as live.
      this.#onMessage(m);
    } else {
      for (const { bar } of decoded) {
        if (bar.start >= r.to) {
          m.ack();
          this.#endReplay();
          return false;
        }
        if (this.#wanted !== undefined && !this.#wanted.has(bar.symbol)) continue;
        const wait = r.pacer.wait(bar.start);
        if (wait !== undefined) await wait;
        const end = bar.start + r.intervalMs;
        if (end > this.clock.now()) (this.clock as ReplayClock).advanceTo(end);
        if (this.#messages === undefined) return false; // stopped while pacing: the message is not acknowledged
        this.#deliverOne(bar);
      }
      this.#remember(m.seq);
      m.ack();
    }
    if (m.info.pending === 0) {
      this.#endReplay();
      return false;
    }
    return true;
  }

  #endReplay(): void {
    const r = this.#replay as ReplaySettings;
    // One more interval, so that a data manager's grace for the last minute passes (as a replay does).
    (this.clock as ReplayClock).advanceTo(this.clock.now() + r.intervalMs);
    const messages = this.#messages;
    this.#messages = undefined;
    void messages?.close();
    if (this.state === 'streaming') this.setState('stopped');
    this.#done?.resolve();
  }

  /** True when this version of the bar was delivered already; records it otherwise. */
  #delivered(bar: Bar): boolean {
    let ring = this.#seen.get(bar.symbol);
    if (ring === undefined) {
      ring = new VersionRing();
      this.#seen.set(bar.symbol, ring);
    }
    return !ring.add(bar.start, digest(bar));
  }

  protected async doStop(): Promise<void> {
    const messages = this.#messages;
    this.#messages = undefined;
    // A replay waiting before its next bar stops at once.
    this.#replay?.pacer.cancel();
    if (messages !== undefined) {
      await messages.close();
      await this.#loop;
      // The acknowledgements sent reach the server before stop() resolves: a program of the same
      // durable name started next resumes after them.
      await this.#nc?.flush().catch(() => undefined);
    }
    this.#done?.resolve();
  }

  protected async doDisconnect(): Promise<void> {
    await this.doStop();
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc !== undefined && this.#ownConnection) await nc.drain().catch(() => nc.close());
  }
}

/** Versions remembered per symbol: a repeat comes within a few minutes of the original, a revision or two per minute. */
const VERSIONS_KEPT = 32;

/**
 * The last `VERSIONS_KEPT` versions delivered of one symbol's bars, as (start, digest) pairs in
 * typed arrays: no allocation a bar (the hot path of a consumer).
 */
class VersionRing {
  readonly #starts = new Float64Array(VERSIONS_KEPT);
  readonly #digests = new Uint32Array(VERSIONS_KEPT);
  #size = 0;
  #next = 0;

  /** Records the version; false when it is recorded already. */
  add(start: number, d: number): boolean {
    for (let i = 0; i < this.#size; i++) if (this.#starts[i] === start && this.#digests[i] === d) return false;
    this.#starts[this.#next] = start;
    this.#digests[this.#next] = d;
    this.#next = (this.#next + 1) % VERSIONS_KEPT;
    if (this.#size < VERSIONS_KEPT) this.#size++;
    return true;
  }
}

/** Stream sequences remembered as delivered (redeliveries come within the pending window, far fewer). */
const MAX_REMEMBERED = 1_000_000;

/** Whether the connected server's version is at least major.minor. */
function serverAtLeast(nc: NatsConnection, major: number, minor: number): boolean {
  const [a = 0, b = 0] = (nc.info?.version ?? '0.0').split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

function isConnection(c: NatsConnection | NatsConnectOptions): c is NatsConnection {
  return typeof (c as NatsConnection).publish === 'function' && typeof (c as NatsConnection).drain === 'function';
}
