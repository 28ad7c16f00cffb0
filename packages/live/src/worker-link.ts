import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock, Unsubscribe } from '@feed/core';
import { ConnectionError, FeedError, SystemClock } from '@feed/core';
import type { ErrorReviver, FromWorker, ToWorker, WireCounters, WireEvent, WorkerInit, WorkerSpec } from './worker-protocol.js';
import { fromWire } from './worker-protocol.js';

/** What the link tells the feed on the main thread. */
export interface WorkerLinkHandlers {
  bars(data: Float64Array, count: number, names: readonly (readonly [number, string])[]): void;
  event(event: WireEvent): void;
  counters(counters: WireCounters): void;
  /** The worker died or could not start: the feed ends as after a fatal error. */
  failed(error: FeedError): void;
}

type Method = 'connect' | 'start' | 'stop' | 'disconnect' | 'sync' | 'subscribe' | 'unsubscribe' | 'seed';

/**
 * The main thread's end of the feed's worker thread: starts it, calls the inline feed there and waits
 * for the reply, mirrors a non-system clock into it (time in shared memory, ticks as messages; the
 * worker's next timer as a timer on this clock), and hands every message to the feed in order.
 */
export class WorkerLink {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (symbols: readonly string[]) => void; reject: (e: FeedError) => void }>();
  readonly #offTick: Unsubscribe | undefined;
  readonly #clock: Clock;
  /** The timer held on the main thread's clock for the worker's next one. */
  #shadow: (() => void) | undefined;
  #next = 1;
  #ended = false;

  constructor(
    spec: WorkerSpec,
    clock: Clock,
    private readonly handlers: WorkerLinkHandlers,
    private readonly revive?: ErrorReviver,
  ) {
    this.#clock = clock;
    let shared: SharedArrayBuffer | undefined;
    if (!(clock instanceof SystemClock)) {
      shared = new SharedArrayBuffer(8);
      const now = new BigInt64Array(shared);
      const store = (t: number): void => {
        Atomics.store(now, 0, BigInt(Math.round(t)));
      };
      store(clock.now());
      this.#offTick = clock.onTick((t) => {
        store(t);
        this.#send({ type: 'tick', now: t });
      });
    }
    const init: WorkerInit = { spec, clock: shared };
    this.#worker = spawn(init);
    this.#worker.on('message', (m: FromWorker) => this.#onMessage(m));
    this.#worker.on('error', (error) => this.#fail(new ConnectionError({ message: `the feed's worker thread failed: ${error.message}`, cause: error })));
    this.#worker.on('exit', (code) => {
      if (!this.#ended) this.#fail(new ConnectionError({ message: `the feed's worker thread exited (code ${code})` }));
    });
  }

  /** Calls the worker's feed; resolves with its symbols once it has done so, rejects with its error. */
  call(method: Method, symbols?: readonly string[] | readonly (readonly [string, number])[], to = 0): Promise<readonly string[]> {
    if (this.#ended) return Promise.reject(new FeedError({ code: 'invalid_state', message: "the feed's worker thread has ended" }));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (method === 'subscribe' || method === 'unsubscribe') this.#send({ type: 'call', id, method, symbols: (symbols ?? []) as readonly string[] });
      else if (method === 'seed') this.#send({ type: 'call', id, method, seeds: (symbols ?? []) as readonly (readonly [string, number])[], to });
      else this.#send({ type: 'call', id, method });
    });
  }

  /** Stops the worker thread (after `disconnect`). */
  async terminate(): Promise<void> {
    this.#ended = true;
    this.#offTick?.();
    this.#shadowAt(undefined);
    await this.#worker.terminate();
  }

  #send(message: ToWorker): void {
    if (!this.#ended) this.#worker.postMessage(message);
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'bars':
        this.handlers.counters(m.counters);
        this.handlers.bars(m.data, m.count, m.names);
        return;
      case 'event':
        this.handlers.counters(m.counters);
        this.handlers.event(m.event);
        return;
      case 'reply': {
        this.handlers.counters(m.counters);
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error !== undefined) p?.reject(fromWire(m.error, this.revive));
        else p?.resolve(m.symbols ?? []);
        return;
      }
      case 'counters':
        this.handlers.counters(m.counters);
        return;
      case 'timers':
        this.#shadowAt(m.next);
        return;
      case 'fatal':
        this.#fail(fromWire(m.error, this.revive));
        return;
    }
  }

  /** Holds a timer on this clock at the worker's next one: moving the clock past it ticks the worker there. */
  #shadowAt(at: number | undefined): void {
    this.#shadow?.();
    this.#shadow = undefined;
    if (at !== undefined && !this.#ended) {
      this.#shadow = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => {
        this.#shadow = undefined;
        // A clock set to the time it already reads runs its due timers without a tick: tell the worker.
        this.#send({ type: 'tick', now: this.#clock.now() });
      });
    }
  }

  #fail(error: FeedError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#offTick?.();
    this.#shadowAt(undefined);
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    void this.#worker.terminate();
    this.handlers.failed(error);
  }
}

/**
 * The worker thread: the built `worker-entry` next to this module; through tsx when this module or
 * the provider's is a TypeScript source (tests, `pnpm start` from sources).
 */
function spawn(init: WorkerInit): Worker {
  // CommonJS builds have no import.meta: there __filename names the bundle (dist/index.cjs). A global
  // __filename that is no path ('[eval]' under `node -e`, '[worker eval]') is not this module's.
  const here = typeof __filename === 'string' && isAbsolute(__filename) ? pathToFileURL(__filename).href : import.meta.url;
  if (here.endsWith('.ts') || init.spec.module.endsWith('.ts')) {
    // Node 20 ignores --import in a worker's execArgv: load TypeScript through tsx's API.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL(here.endsWith('.ts') ? './worker-entry.ts' : here.endsWith('.cjs') ? './worker-entry.cjs' : './worker-entry.js', here).href;
    return new Worker(`import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`, { eval: true, workerData: init });
  }
  return new Worker(new URL(here.endsWith('.cjs') ? './worker-entry.cjs' : './worker-entry.js', here), { workerData: init });
}
