/**
 * A live feed's worker thread (`worker: true`, any provider): the provider's own feed class, loaded
 * from its module, runs here inline (socket, decoding, validation, dedupe, gap fill, timers); its
 * bars go to the main thread in batches of numbers (one transferred buffer each), marked live or
 * recovered; every other event and error goes as a small message with the feed's counters.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Bar, CancelTimer, Clock, TypedEmitter, TypedEvent } from '@feed/core';
import { ManualClock, SystemClock, yieldToEventLoop } from '@feed/core';
import type { AbstractLiveFeed, LiveScalarStats } from './abstract-live-feed.js';
import type { FromWorker, ToWorker, WireCounters, WireEvent, WorkerInit } from './worker-protocol.js';
import { BAR_STRIDE, KIND_LIVE, KIND_RECOVERED, MAX_BATCH, toWire } from './worker-protocol.js';

/**
 * The main thread's clock, mirrored: `now()` reads the time the main thread last stored, and its
 * timers fire when a tick message moves it, as a `ManualClock`'s do. Whenever the earliest timer
 * changes, the main thread is told, and holds a timer of its own for that time on its clock: so its
 * `nextTimerAt()` and `runNextTimer()` see the worker's timers, and a test's `ManualClock` drives the
 * feed in its worker exactly as it drives an inline one.
 */
class MirrorClock extends ManualClock {
  #reported: number | undefined;

  constructor(
    private readonly shared: BigInt64Array,
    private readonly report: (next: number | undefined) => void,
  ) {
    super(Number(Atomics.load(shared, 0)));
  }

  override now(): number {
    return Math.max(this.t, Number(Atomics.load(this.shared, 0)));
  }

  override setTimer(delayMs: number, fn: () => void): CancelTimer {
    const cancel = super.setTimer(delayMs, fn);
    this.#changed();
    return () => {
      cancel();
      this.#changed();
    };
  }

  /** The main thread's clock moved to `now`: fire what is due. */
  follow(now: number): void {
    if (now >= this.t) this.set(now);
    this.#changed();
  }

  #changed(): void {
    const next = this.nextTimerAt();
    if (next === this.#reported) return;
    this.#reported = next;
    this.report(next);
  }
}

/**
 * What the worker needs of the provider's feed: the public lifecycle, and the hooks it reaches into
 * (protected on `AbstractLiveFeed`; a subclass made here overrides the two deliveries).
 */
interface WorkerSideFeed extends Pick<AbstractLiveFeed<TypedEvent>, 'connect' | 'start' | 'stop' | 'disconnect' | 'subscribe' | 'unsubscribe' | 'symbols'> {
  readonly emitter: TypedEmitter<TypedEvent>;
  deliverLive(bar: Bar, index: number): void;
  deliverRecovered(bar: Bar, index: number): void;
  seedWarmUp(seeds: readonly (readonly [string, number])[], to: number): void;
  scalarStats(): LiveScalarStats;
  symbolAt(index: number): string;
}

/** The provider's class as the worker sees it: built from plain options (and the mirrored clock). */
type LiveFeedClass = new (options: Record<string, unknown>) => WorkerSideFeed;

const port = parentPort;
if (port === null) throw new Error('worker-entry runs in a worker thread');
const init = workerData as WorkerInit;
function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  (port as NonNullable<typeof port>).postMessage(message, transfer);
}

const clock: Clock = init.clock === undefined ? new SystemClock() : new MirrorClock(new BigInt64Array(init.clock), (next) => post({ type: 'timers', next }));

/** The provider's class, subclassed so that delivery goes into batches instead of listeners. */
function batching(Base: LiveFeedClass): new (options: Record<string, unknown>) => WorkerSideFeed & { flush(): void } {
  return class WorkerFeed extends Base {
    #data = new Float64Array(MAX_BATCH * BAR_STRIDE);
    #count = 0;
    #names: [number, string][] = [];
    #named = 0;
    #flushQueued = false;

    override deliverLive(bar: Bar, index: number): void {
      this.#batch(bar, index, KIND_LIVE);
    }

    override deliverRecovered(bar: Bar, index: number): void {
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
      // A frame's bars are usually far fewer than a batch: send a copy of what is used (a few KiB)
      // rather than a fresh zeroed buffer of MAX_BATCH bars each time, and keep this one.
      const data = this.#data.slice(0, this.#count * BAR_STRIDE);
      post({ type: 'bars', data, count: this.#count, names: this.#names, counters: this.scalarStats() }, [data.buffer]);
      this.#count = 0;
      this.#names = [];
    }
  };
}

/** An event made plain: an error by its fields, a bar as a plain object. */
function plain(event: TypedEvent): WireEvent {
  const e = event as TypedEvent & Readonly<Record<string, unknown>>;
  if (e.type === 'error') return { type: 'error', error: toWire(e.error) };
  const out: Record<string, unknown> = { ...e };
  if (typeof e.bar === 'object' && e.bar !== null) out.bar = { ...(e.bar) };
  return out as WireEvent;
}

async function main(): Promise<void> {
  const mod = (await import(init.spec.module)) as Record<string, unknown>;
  // A CommonJS build imported from ESM may put its exports under `default`.
  const Base = mod[init.spec.exportName] ?? (mod.default as Record<string, unknown> | undefined)?.[init.spec.exportName];
  if (typeof Base !== 'function') throw new Error(`${init.spec.module} exports no class ${init.spec.exportName}`);
  const Feed = batching(Base as LiveFeedClass);
  const feed = new Feed({ ...init.spec.options, clock, worker: false });
  const reach = feed;
  const counters = (): WireCounters => reach.scalarStats();
  // Every event but bars (which go in batches) crosses, in order, after the bars before it.
  const emitter = reach.emitter;
  const emit = emitter.emit.bind(emitter);
  // After an event the feed's state goes on changing (a gap fill is still running when it reports):
  // the counters follow once the turn's work is done, so the main thread never keeps a stale flag.
  let refresh = false;
  const refreshSoon = (): void => {
    if (refresh) return;
    refresh = true;
    void yieldToEventLoop().then(() => {
      refresh = false;
      reach.flush();
      post({ type: 'counters', counters: counters() });
    });
  };
  emitter.emit = (event: TypedEvent): void => {
    if (event.type !== 'bar') {
      reach.flush();
      post({ type: 'event', event: plain(event), counters: counters() });
      refreshSoon();
    }
    emit(event);
  };
  port?.on('message', (m: ToWorker) => {
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
        case 'seed':
          feed.seedWarmUp(m.seeds, m.to);
          return;
        case 'sync':
          // Everything sent before it has been handled (ticks fired their timers): the reply says so.
          return;
      }
    };
    call().then(
      () => {
        reach.flush();
        post({ type: 'reply', id: m.id, symbols: feed.symbols, counters: counters() });
        refreshSoon();
      },
      (error: unknown) => {
        reach.flush();
        post({ type: 'reply', id: m.id, error: toWire(error), counters: counters() });
      },
    );
  });
}

main().catch((error: unknown) => {
  post({ type: 'fatal', error: toWire(error) });
});
