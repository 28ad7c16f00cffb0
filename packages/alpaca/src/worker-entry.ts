/**
 * The feed's worker thread (`AlpacaMultiSymbolFeed({ worker: true })`): an inline feed whose socket,
 * decoding, validation, dedupe, gap fill and timers all run here; its bars go to the main thread in
 * batches of numbers (one transferred buffer each), its other events and errors as small messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Bar } from '@feed/core';
import { ManualClock, SystemClock } from '@feed/core';
import type { AlpacaFeedOptions } from './feed-options.js';
import { AlpacaMultiSymbolFeed } from './stream.js';
import type { FromWorker, ToWorker, WireEvent } from './worker-protocol.js';
import type { WireCounters } from './worker-protocol.js';
import { BAR_STRIDE, KIND_LIVE, KIND_RECOVERED, MAX_BATCH, toWire } from './worker-protocol.js';

/** What the main thread hands the worker. */
export interface WorkerInit {
  readonly options: AlpacaFeedOptions;
  /** The main thread's clock time (ms, in an Int64 slot), when the feed runs on a clock other than the system's. */
  readonly clock: SharedArrayBuffer | undefined;
}

/**
 * The main thread's clock, mirrored: `now()` reads the time the main thread last stored, and its
 * timers fire when a tick message moves it, as a `ManualClock`'s do. A test's `ManualClock` drives the
 * feed in its worker as it drives an inline one.
 */
class MirrorClock extends ManualClock {
  constructor(private readonly shared: BigInt64Array) {
    super(Number(Atomics.load(shared, 0)));
  }

  override now(): number {
    return Math.max(this.t, Number(Atomics.load(this.shared, 0)));
  }

  /** The main thread's clock moved to `now`: fire what is due. */
  follow(now: number): void {
    if (now > this.t) this.set(now);
  }
}

const port = parentPort;
if (port === null) throw new Error('worker-entry runs in a worker thread');
const init = workerData as WorkerInit;
const clock = init.clock === undefined ? new SystemClock() : new MirrorClock(new BigInt64Array(init.clock));

/** The inline feed, with delivery redirected into batches. */
class WorkerFeed extends AlpacaMultiSymbolFeed {
  #data = new Float64Array(MAX_BATCH * BAR_STRIDE);
  #count = 0;
  #names: [number, string][] = [];
  #named = 0;
  #flushQueued = false;

  protected override deliverLive(bar: Bar, index: number): void {
    this.#batch(bar, index, KIND_LIVE);
  }

  protected override deliverRecovered(bar: Bar, index: number): void {
    this.#batch(bar, index, KIND_RECOVERED);
  }

  #batch(bar: Bar, index: number, kind: number): void {
    while (this.#named <= index) {
      this.#names.push([this.#named, this.symbolAt(this.#named)]);
      this.#named++;
    }
    const d = this.#data;
    const o = this.#count * BAR_STRIDE;
    d[o] = index;
    d[o + 1] = bar.start;
    d[o + 2] = bar.end;
    d[o + 3] = bar.open;
    d[o + 4] = bar.high;
    d[o + 5] = bar.low;
    d[o + 6] = bar.close;
    d[o + 7] = bar.volume;
    d[o + 8] = bar.vwap ?? Number.NaN;
    d[o + 9] = bar.tradeCount ?? -1;
    d[o + 10] = bar.receivedAt;
    d[o + 11] = kind;
    this.#count++;
    if (this.#count === MAX_BATCH) this.flush();
    else if (!this.#flushQueued) {
      // One frame's bars go together: the flush runs once the frame has been read.
      this.#flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends the bars gathered so far (before any other message, so order holds). */
  flush(): void {
    this.#flushQueued = false;
    if (this.#count === 0) return;
    const data = this.#data;
    const message: FromWorker = { type: 'bars', data, count: this.#count, names: this.#names, counters: this.counters() };
    post(message, [data.buffer]);
    this.#data = new Float64Array(MAX_BATCH * BAR_STRIDE);
    this.#count = 0;
    this.#names = [];
  }

  counters(): WireCounters {
    return this.scalarStats();
  }
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  (port as NonNullable<typeof port>).postMessage(message, transfer);
}

let feed: WorkerFeed;
try {
  feed = new WorkerFeed({ ...init.options, clock });
} catch (error) {
  post({ type: 'fatal', error: toWire(error) });
  throw error;
}

function forward(event: WireEvent): void {
  feed.flush();
  post({ type: 'event', event, counters: feed.counters() });
}

feed.on('error', (e) => forward({ type: 'error', error: toWire(e.error) }));
feed.on('state', (e) => forward({ type: 'state', from: e.from, to: e.to }));
feed.on('dailyBar', (e) => forward({ type: 'dailyBar', bar: { ...e.bar } }));
for (const type of ['open', 'authenticated', 'subscription', 'disconnected', 'retry', 'reconnected', 'gapFill'] as const) {
  feed.on(type, (e) => forward({ ...e }));
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'tick') {
    if (clock instanceof MirrorClock) clock.follow(m.now);
    return;
  }
  const call = async (): Promise<void> => {
    switch (m.method) {
      case 'connect':
        return feed.connect();
      case 'start':
        return feed.start();
      case 'stop':
        return feed.stop();
      case 'disconnect':
        return feed.disconnect();
      case 'subscribe':
        return feed.subscribe(m.symbols);
      case 'unsubscribe':
        return feed.unsubscribe(m.symbols);
    }
  };
  call().then(
    () => {
      feed.flush();
      post({ type: 'reply', id: m.id, symbols: feed.symbols, counters: feed.counters() });
    },
    (error: unknown) => {
      feed.flush();
      post({ type: 'reply', id: m.id, error: toWire(error), counters: feed.counters() });
    },
  );
});
