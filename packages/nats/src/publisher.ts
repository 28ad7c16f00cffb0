import type { Bar, BarFeed, BarSource, Clock, Listener, TradingStatus, Unsubscribe } from '@feed/core';
import { FeedError, SystemClock, TypedEmitter, sameBarData } from '@feed/core';
import type { JetStreamClient, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DecodedBar } from './codec.js';
import { batchId, decodeBars, encodeBars, encodeStatus, statusId } from './codec.js';
import { BATCH_TOKEN, DEFAULT_PREFIX, DEFAULT_STREAM, STATUS_TOKEN, subjectOf } from './subjects.js';

/** Seven days, JetStream's max age by default for bar streams. */
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** Options of `BarPublisher.start`. */
export interface PublisherOptions {
  /** Where the bars come from: any feed (live or replay), or anything with `on('bar')`. */
  readonly feed: BarSource;
  /** An open NATS connection (`connectNats`, or the official client's `connect` with any options). */
  readonly connection: NatsConnection;
  /**
   * Subjects are `<prefix>.<SYMBOL>`.
   * @default 'feed.bars'
   */
  readonly prefix?: string;
  /**
   * The JetStream stream, created or updated on start (idempotent).
   * @default 'FEED_BARS'
   */
  readonly stream?: string;
  /**
   * How long the stream keeps bars, in milliseconds.
   * @default 604800000 (7 days)
   */
  readonly maxAgeMs?: number;
  /** Any other stream setting, over the defaults (file storage, the subjects, `max_age`). */
  readonly streamConfig?: Partial<StreamConfig>;
  /**
   * Messages awaiting their acknowledgement at most; more bars wait in the buffer.
   * @default 64
   */
  readonly maxInFlight?: number;
  /**
   * Bars in one message at most. Bars that are ready together (one frame of a live feed, a minute of
   * many symbols, a fast replay, whatever waited for an acknowledgement) go as one message: a
   * batch (payload version 2) on `<prefix>._batch`, or one bar's payload (version 1) on its symbol's
   * subject when alone. 1: every bar its own message, on its symbol's subject (the layout of 0.x;
   * about 20 times slower, see the README's figures).
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * Bars waiting to be published at most (while NATS is unreachable they accumulate here); past it
   * new bars are dropped, and an `error` event says how many and which range.
   * @default 100000
   */
  readonly maxBuffered?: number;
  /**
   * With a source that can wait (it has `pause()` and `resume()`: a replay, a file), the buffer level
   * at which the source is paused; it resumes once the buffer is down to half of it. Such a source
   * is slowed down to what NATS acknowledges and loses nothing; a live source keeps the bounded
   * buffer and the drop report.
   * @default maxBuffered / 2
   */
  readonly highWaterMark?: number;
  /**
   * How long to wait for one acknowledgement, in milliseconds, before publishing again (the same
   * message id: JetStream keeps one copy).
   * @default 5000
   */
  readonly ackTimeoutMs?: number;
  /**
   * Runs the wait before publishing again after a refusal that may pass (JetStream starting up).
   * @default new SystemClock()
   */
  readonly clock?: Clock;
}

/** Events of the publisher. */
export type PublisherEvent =
  | { readonly type: 'error'; readonly error: FeedError }
  /** A bar is stored (`sequence`: its message's stream sequence, shared by the bars of a batch). */
  | { readonly type: 'published'; readonly bar: Bar; readonly revision: number; readonly sequence: number; readonly duplicate: boolean };

/** The publisher's counters. */
export interface PublisherStats {
  /** Bars taken from the feed. */
  readonly received: number;
  /** Bars acknowledged by JetStream (stored, or recognised as a repeat). */
  readonly acknowledged: number;
  /** Of those, bars of messages JetStream dropped as repeats (same message id within its duplicate window). */
  readonly duplicates: number;
  /** Messages acknowledged (a batch is one). */
  readonly messages: number;
  /** Messages sent again after a failed or missing acknowledgement. */
  readonly retries: number;
  /** Bars dropped because the buffer was full. */
  readonly dropped: number;
  /** Times a pausable source was paused because the buffer reached the high-water mark. */
  readonly pauses: number;
  /** Bars refused by the server for good (a permission, a stream that does not take the subject). */
  readonly refused: number;
  /** Messages awaiting their acknowledgement. */
  readonly inFlight: number;
  /** Bars waiting to be sent or sent again. */
  readonly buffered: number;
  /** Trading statuses taken from the feed, and those acknowledged (on `<prefix>._status`, in order with the bars). */
  readonly statuses: number;
  readonly statusesAcknowledged: number;
}

/** A trading status in the publish queue, in its place among the bars. */
interface StatusItem {
  readonly status: TradingStatus;
}

/** One message: a bar, or a batch of bars. */
interface Pending {
  /** Order of sending: messages sent again go in this order. */
  readonly seq: number;
  readonly bars: readonly DecodedBar[];
  /** A status message (then `bars` is empty). */
  readonly status?: TradingStatus;
  readonly subject: string;
  readonly payload: Uint8Array;
  readonly id: string;
}

/** Keep the revision state of this many recent starts per symbol. */
const STARTS_KEPT = 8;

/** One symbol's recent starts, each with its last version and revision number: no allocation a bar. */
class RevisionRing {
  readonly #starts = new Float64Array(STARTS_KEPT).fill(Number.NaN);
  readonly #bars: (Bar | undefined)[] = new Array<Bar | undefined>(STARTS_KEPT).fill(undefined);
  readonly #revisions = new Int32Array(STARTS_KEPT);
  #next = 0;

  /** The revision number of this version, or undefined for a repeat of the last version of its start. */
  revisionOf(bar: Bar): number | undefined {
    for (let i = 0; i < STARTS_KEPT; i++) {
      if (this.#starts[i] !== bar.start) continue;
      if (sameBarData(this.#bars[i] as Bar, bar)) return undefined;
      this.#bars[i] = bar;
      const revision = (this.#revisions[i] as number) + 1;
      this.#revisions[i] = revision;
      return revision;
    }
    const i = this.#next;
    this.#starts[i] = bar.start;
    this.#bars[i] = bar;
    this.#revisions[i] = 0;
    this.#next = (i + 1) % STARTS_KEPT;
    return 0;
  }
}

/**
 * Publishes every bar of a feed, revisions included, to JetStream: subject `<prefix>.<SYMBOL>`,
 * payload `encodeBar` (msgpack, versioned), message id `messageId` (symbol:start:digest) so that JetStream's
 * duplicate window drops a repeat of the same version, from this publisher or another, before or
 * after a restart. Publishes are pipelined (`maxInFlight`) and every acknowledgement is checked;
 * while NATS is unreachable bars wait in order in a bounded buffer.
 */
export class BarPublisher {
  readonly stream: string;
  readonly prefix: string;
  readonly #js: JetStreamClient;
  readonly #emitter: TypedEmitter<PublisherEvent>;
  readonly #queue: (DecodedBar | StatusItem)[] = [];
  #head = 0;
  #seq = 0;
  /** Sent, not acknowledged, to send again (before the queue). */
  #failed: Pending[] = [];
  /** Bars in `#failed`. */
  #failedBars = 0;
  #inFlight = 0;
  #pumpQueued = false;
  readonly #maxInFlight: number;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #highWater: number;
  /** The source, when it can be paused (backpressure instead of drops). */
  #pausable: { pause(): void; resume(): void } | undefined;
  #sourcePaused = false;
  readonly #ackTimeoutMs: number;
  readonly #revisions = new Map<string, RevisionRing>();
  /** Symbols checked as subject tokens. */
  readonly #subjects = new Set<string>();
  #off: Unsubscribe | undefined;
  #closed = false;
  #idle: (() => void)[] = [];
  #dropping: { count: number; from: number; to: number; symbols: Set<string> } | undefined;
  #paused = false;
  readonly #clock: Clock;
  #retryDelayMs = 0;
  #retryTimer: (() => void) | undefined;
  #counts = { received: 0, acknowledged: 0, duplicates: 0, messages: 0, retries: 0, dropped: 0, refused: 0, pauses: 0, statuses: 0, statusesAcknowledged: 0 };

  private constructor(options: PublisherOptions, js: JetStreamClient) {
    this.stream = options.stream ?? DEFAULT_STREAM;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#js = js;
    this.#maxInFlight = options.maxInFlight ?? 64;
    this.#batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
    this.#maxBuffered = options.maxBuffered ?? 100_000;
    this.#highWater = Math.max(1, Math.min(options.highWaterMark ?? Math.floor(this.#maxBuffered / 2), this.#maxBuffered));
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.#clock = options.clock ?? new SystemClock();
    this.#emitter = new TypedEmitter<PublisherEvent>((error) => {
      queueMicrotask(() => {
        throw error;
      });
    });
  }

  /** Creates or updates the stream, then publishes every bar the feed delivers from now on. */
  static async start(options: PublisherOptions): Promise<BarPublisher> {
    const jsm = await jetstreamManager(options.connection);
    const stream = options.stream ?? DEFAULT_STREAM;
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    await ensureStream(jsm, stream, {
      subjects: [`${prefix}.>`],
      storage: 'file',
      max_age: (options.maxAgeMs ?? DEFAULT_MAX_AGE_MS) * 1_000_000,
      ...options.streamConfig,
    });
    const publisher = new BarPublisher(options, jetstream(options.connection));
    const source = options.feed as Partial<{ pause: unknown; resume: unknown }>;
    if (typeof source.pause === 'function' && typeof source.resume === 'function') publisher.#pausable = source as { pause(): void; resume(): void };
    const offBar = options.feed.on('bar', (e) => publisher.publish(e.bar));
    // A whole feed may have trading statuses too: they go in order with its bars.
    const feed = options.feed as Partial<BarFeed>;
    const offStatus = typeof feed.connect === 'function' && typeof feed.stats === 'function' ? (options.feed as BarFeed).on('tradingStatus', (e) => publisher.publishStatus(e.status)) : undefined;
    publisher.#off = () => {
      offBar();
      offStatus?.();
    };
    void publisher.#watch(options.connection);
    return publisher;
  }

  on<T extends PublisherEvent['type']>(type: T, listener: Listener<Extract<PublisherEvent, { type: T }>>): Unsubscribe {
    return this.#emitter.on(type, listener);
  }

  stats(): PublisherStats {
    return { ...this.#counts, inFlight: this.#inFlight, buffered: this.#buffered() };
  }

  #buffered(): number {
    return this.#queue.length - this.#head + this.#failedBars;
  }

  /** Queues one bar (the feed's listener calls this; a program may too). */
  publish(bar: Bar): void {
    if (this.#closed) return;
    this.#counts.received++;
    const revision = this.#revisionOf(bar);
    if (revision === undefined) return; // the same version again: nothing new to say
    if (this.#queue.length - this.#head >= this.#maxBuffered) {
      this.#counts.dropped++;
      const d = (this.#dropping ??= { count: 0, from: bar.start, to: bar.start, symbols: new Set() });
      d.count++;
      d.from = Math.min(d.from, bar.start);
      d.to = Math.max(d.to, bar.start);
      if (d.symbols.size < 100) d.symbols.add(bar.symbol);
      return;
    }
    this.#reportDrops();
    if (!this.#subjects.has(bar.symbol)) {
      subjectOf(this.prefix, bar.symbol); // refuses a symbol that cannot be a subject token, at once
      this.#subjects.add(bar.symbol);
    }
    this.#queue.push({ bar, revision });
    // The bars delivered in this turn go together: the pump runs once the caller is done.
    if (!this.#pumpQueued) {
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    }
    this.#backpressure();
  }

  /**
   * Queues one trading status (a feed's listener calls this): published on `<prefix>._status` in its
   * place among the bars, message id `statusId` (one copy whoever publishes it). Never dropped for a
   * full buffer: statuses are few, and a halt must not be lost.
   */
  publishStatus(status: TradingStatus): void {
    if (this.#closed) return;
    this.#counts.statuses++;
    this.#queue.push({ status });
    if (!this.#pumpQueued) {
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    }
  }

  /** Pauses a pausable source at the high-water mark, and resumes it at half of it. */
  #backpressure(): void {
    const p = this.#pausable;
    if (p === undefined) return;
    const buffered = this.#buffered();
    if (!this.#sourcePaused && buffered >= this.#highWater) {
      this.#sourcePaused = true;
      this.#counts.pauses++;
      p.pause();
    } else if (this.#sourcePaused && buffered <= this.#highWater / 2) {
      this.#sourcePaused = false;
      p.resume();
    }
  }

  /** Resolves once every queued bar is acknowledged. */
  flush(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === this.#head && this.#failed.length === 0 && !this.#pumpQueued) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops taking bars, waits for what is queued (`flush`), reports drops not yet reported. */
  async close(): Promise<void> {
    this.#off?.();
    if (this.#sourcePaused) {
      // Never leave a source paused behind: it is no longer this publisher's.
      this.#sourcePaused = false;
      this.#pausable?.resume();
    }
    await this.flush();
    this.#closed = true;
    this.#retryTimer?.();
    this.#reportDrops();
  }

  /** The revision number of a bar version, or undefined for a repeat of the last version of its start. */
  #revisionOf(bar: Bar): number | undefined {
    let ring = this.#revisions.get(bar.symbol);
    if (ring === undefined) {
      ring = new RevisionRing();
      this.#revisions.set(bar.symbol, ring);
    }
    return ring.revisionOf(bar);
  }

  #reportDrops(): void {
    const d = this.#dropping;
    if (d === undefined) return;
    this.#dropping = undefined;
    this.#emit({
      type: 'error',
      error: new FeedError({
        code: 'aborted',
        message: `dropped ${d.count} bars (starts ${new Date(d.from).toISOString()} to ${new Date(d.to).toISOString()}): the publish buffer was full (maxBuffered ${this.#maxBuffered}) while NATS did not acknowledge`,
        detail: { dropped: d.count, from: d.from, to: d.to, symbols: [...d.symbols] },
      }),
    });
  }

  #emit(e: PublisherEvent): void {
    this.#emitter.emit(e);
  }

  /** Sends queued bars in order, in batches, while fewer than `maxInFlight` messages wait for their acknowledgement. */
  #pump(): void {
    if (!this.#paused && this.#failed.length > 0) {
      const again = this.#failed.sort((a, b) => a.seq - b.seq);
      this.#failed = [];
      this.#failedBars = 0;
      for (const p of again) this.#send(p);
    }
    while (!this.#paused && this.#inFlight < this.#maxInFlight && this.#head < this.#queue.length) {
      const item = this.#queue[this.#head] as DecodedBar | StatusItem;
      if ('status' in item) {
        this.#head++;
        this.#send({ seq: this.#seq++, bars: [], status: item.status, subject: `${this.prefix}.${STATUS_TOKEN}`, payload: encodeStatus(item.status), id: statusId(item.status) });
        continue;
      }
      // The bars up to the next status (or the batch size): one message.
      const max = Math.min(this.#batchSize, this.#queue.length - this.#head);
      let n = 1;
      while (n < max && !('status' in (this.#queue[this.#head + n] as DecodedBar | StatusItem))) n++;
      const bars = this.#queue.slice(this.#head, this.#head + n) as DecodedBar[];
      this.#head += n;
      this.#send(this.#message(bars));
    }
    if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    this.#backpressure();
    if (this.#inFlight === 0 && this.#head === this.#queue.length && this.#failed.length === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const r of idle) r();
    }
  }

  /** One message of `bars`: one bar on its symbol's subject, several as a batch. */
  #message(bars: DecodedBar[]): Pending {
    const first = (bars[0] as DecodedBar).bar;
    const subject = bars.length === 1 ? subjectOf(this.prefix, first.symbol) : `${this.prefix}.${BATCH_TOKEN}`;
    return { seq: this.#seq++, bars, subject, payload: encodeBars(bars), id: batchId(bars) };
  }

  #send(p: Pending): void {
    this.#inFlight++;
    this.#js.publish(p.subject, p.payload, { msgID: p.id, timeout: this.#ackTimeoutMs }).then(
      (ack) => {
        this.#inFlight--;
        this.#counts.acknowledged += p.bars.length;
        this.#counts.messages++;
        if (p.status !== undefined) this.#counts.statusesAcknowledged++;
        this.#retryDelayMs = 0;
        if (ack.duplicate) this.#counts.duplicates += p.bars.length;
        if (this.#emitter.listenerCount('published') > 0) {
          for (const b of p.bars) this.#emit({ type: 'published', bar: b.bar, revision: b.revision, sequence: ack.seq, duplicate: ack.duplicate });
        }
        this.#pump();
      },
      (error: unknown) => {
        this.#inFlight--;
        if (isPermanent(error) && p.status !== undefined) {
          this.#emit({ type: 'error', error: new FeedError({ code: 'provider', message: `NATS refused ${p.subject} (the ${p.status.symbol} status of ${new Date(p.status.at).toISOString()}): ${errorText(error)}`, detail: { subject: p.subject, symbol: p.status.symbol, at: p.status.at }, cause: error }) });
          this.#pump();
          return;
        }
        if (isPermanent(error)) {
          this.#counts.refused += p.bars.length;
          const first = (p.bars[0] as DecodedBar).bar;
          this.#emit({
            type: 'error',
            error: new FeedError({
              code: 'provider',
              message: `NATS refused ${p.subject} (${p.bars.length} bar${p.bars.length === 1 ? '' : 's'} from ${first.symbol} ${new Date(first.start).toISOString()}): ${errorText(error)}`,
              detail: { subject: p.subject, symbol: first.symbol, start: first.start, bars: p.bars.length },
              cause: error,
            }),
          });
          this.#pump();
          return;
        }
        // Not acknowledged (NATS away, a timeout): send it again, first, once NATS answers. The
        // message id makes a copy that did get stored harmless.
        this.#counts.retries++;
        this.#failed.push(p);
        this.#failedBars += p.bars.length;
        this.#paused = true;
        this.#retryLater();
      },
    );
  }

  /** Publishing again after a refusal that may pass: 100 ms, doubling to 5 s; a reconnect resumes at once. */
  #retryLater(): void {
    if (this.#retryTimer !== undefined || this.#closed) return;
    this.#retryDelayMs = Math.min(5_000, this.#retryDelayMs === 0 ? 100 : this.#retryDelayMs * 2);
    this.#retryTimer = this.#clock.setTimer(this.#retryDelayMs, () => {
      this.#retryTimer = undefined;
      this.#paused = false;
      this.#pump();
    });
  }

  /** Pauses while disconnected; resumes (resending unacknowledged bars first) on reconnect. */
  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.#paused = true;
      else if (s.type === 'reconnect') {
        this.#retryTimer?.();
        this.#retryTimer = undefined;
        this.#paused = false;
        this.#pump();
      } else if (s.type === 'close') return;
    }
  }
}

/**
 * The latest bar start stored in a stream (read from its last message), or undefined when it holds
 * none: where a program taking over the provider connection starts its fill.
 */
export async function latestStoredStart(connection: NatsConnection, stream = DEFAULT_STREAM): Promise<number | undefined> {
  const jsm = await jetstreamManager(connection);
  let last: number;
  try {
    last = (await jsm.streams.info(stream)).state.last_seq;
  } catch (error) {
    if (/stream not found/i.test(errorText(error))) return undefined;
    throw error;
  }
  // The last message holding bars (a trading status may come after them).
  for (let seq = last; seq >= 1 && seq > last - 64; seq--) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m === null) continue;
    const bars = decodeBars(m.data);
    if (typeof bars === 'string') continue;
    let max = -Infinity;
    for (const b of bars) max = Math.max(max, b.bar.start);
    return max;
  }
  return undefined;
}

/** Creates the stream, or updates it when it exists with other settings. */
async function ensureStream(jsm: JetStreamManager, name: string, config: Partial<StreamConfig>): Promise<void> {
  try {
    const info = await jsm.streams.info(name);
    await jsm.streams.update(name, { ...info.config, ...config });
  } catch (error) {
    if (!/stream not found/i.test(errorText(error))) throw error;
    await jsm.streams.add({ name, ...config });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A refusal retrying cannot cure: a permission, a message too large. (No responders is JetStream still starting: retried.) */
function isPermanent(error: unknown): boolean {
  return /permission|maximum payload/i.test(errorText(error));
}
