import type { Bar } from './bar.js';
import type { FeedEvent, FeedState, FeedStats } from './bar-feed.js';
import type { Clock } from './clock.js';
import type { Listener, TypedEvent, Unsubscribe } from './emitter.js';
import { TypedEmitter } from './emitter.js';
import { FeedError, StateError } from './errors.js';

type E<X extends TypedEvent> = FeedEvent | X;

/**
 * The lifecycle, events, counters and async iteration that every feed shares; every subclass is a
 * `BarFeed` (checked by a type test: the class does not say `implements`, because TypeScript cannot
 * compare its generic `on` with the interface's while `X` is still a parameter). `X` adds a feed's own
 * events (progress, subscription, ...) to the common ones. A feed implements the
 * four `do*` hooks; the base class checks the order of calls (a call out of order rejects with a
 * `StateError` instead of hanging) and moves the state.
 */
export abstract class AbstractBarFeed<X extends TypedEvent = never> {
  abstract readonly type: string;
  readonly clock: Clock;
  protected readonly emitter: TypedEmitter<E<X>>;
  private currentState: FeedState = 'idle';
  private readonly symbolList: string[];
  private barsReceived = 0;
  /**
   * Every symbol gets a dense index once (at construction, `setSymbols`, or first sight); per-symbol
   * counters are arrays by that index, so a feed that knows the index counts a bar without a lookup.
   */
  private readonly symbolIndex = new Map<string, number>();
  private readonly indexedSymbols: string[] = [];
  private barCounts = new Float64Array(16);
  private errors = 0;
  private readonly errorsByCode = new Map<string, number>();
  protected reconnects = 0;
  protected barsRecovered = 0;
  private lastBarAt: number | null = null;

  protected constructor(symbols: readonly string[], clock: Clock) {
    this.symbolList = [...symbols];
    for (const symbol of symbols) this.indexOfSymbol(symbol);
    this.clock = clock;
    this.emitter = new TypedEmitter<E<X>>((error, event) => {
      if (event.type === 'error') {
        // An error listener that throws has nowhere safer to report to: surface it, do not swallow it.
        queueMicrotask(() => {
          throw error;
        });
        return;
      }
      this.reportError(
        new FeedError({ code: 'listener', message: `a '${event.type}' listener threw: ${String(error)}`, cause: error }),
      );
    });
  }

  get state(): FeedState {
    return this.currentState;
  }

  get symbols(): readonly string[] {
    return this.symbolList;
  }

  protected setSymbols(symbols: readonly string[]): void {
    this.symbolList.length = 0;
    this.symbolList.push(...symbols);
    for (const symbol of symbols) this.indexOfSymbol(symbol);
  }

  /** The symbol's dense index (0, 1, 2, ... in order of first sight), assigned when new. */
  protected indexOfSymbol(symbol: string): number {
    let i = this.symbolIndex.get(symbol);
    if (i === undefined) {
      i = this.indexedSymbols.length;
      this.symbolIndex.set(symbol, i);
      this.indexedSymbols.push(symbol);
      if (i === this.barCounts.length) {
        const grown = new Float64Array(i * 2);
        grown.set(this.barCounts);
        this.barCounts = grown;
      }
    }
    return i;
  }

  /**
   * Subscribes to one event type; returns the unsubscribe function. A method (not a function-valued
   * property), so that a feed with more events is still assignable to a plain `BarFeed`.
   */
  on<T extends (FeedEvent | X)['type']>(type: T, listener: Listener<Extract<FeedEvent | X, { type: T }>>): Unsubscribe {
    // The generic union defeats TypeScript's narrowing here; the emitter is keyed by type at runtime.
    return (this.emitter as unknown as TypedEmitter<TypedEvent>).on(type, listener as Listener<TypedEvent>);
  }

  isConnected(): boolean {
    const s = this.currentState;
    return s === 'connected' || s === 'streaming' || s === 'reconnecting' || s === 'stopped';
  }

  isActive(): boolean {
    return this.currentState === 'streaming' || this.currentState === 'reconnecting';
  }

  async connect(): Promise<void> {
    this.assertState('connect', ['idle']);
    this.setState('connecting');
    try {
      await this.doConnect();
    } catch (error) {
      if (this.currentState === 'connecting') this.setState('idle');
      throw error;
    }
    if (this.currentState === 'connecting') this.setState('connected');
  }

  async start(): Promise<void> {
    this.assertState('start', ['connected', 'stopped']);
    this.setState('streaming');
    try {
      await this.doStart();
    } catch (error) {
      if (this.currentState === 'streaming') this.setState('stopped');
      throw error;
    }
  }

  async stop(): Promise<void> {
    const s = this.currentState;
    if (s === 'stopped' || s === 'connected') return;
    this.assertState('stop', ['streaming', 'reconnecting', 'stopped', 'connected']);
    await this.doStop();
    if (this.currentState === 'streaming' || this.currentState === 'reconnecting') this.setState('stopped');
  }

  async disconnect(): Promise<void> {
    if (this.currentState === 'closed') return;
    if (this.isActive()) await this.doStop();
    await this.doDisconnect();
    this.setState('closed');
  }

  /** Loads data or opens the connection. */
  protected abstract doConnect(): Promise<void>;
  /** Begins delivery; resolves once it has begun. */
  protected abstract doStart(): Promise<void>;
  /** Ends delivery; resolves once no further bar will be delivered. */
  protected abstract doStop(): Promise<void>;
  /** Frees resources. */
  protected abstract doDisconnect(): Promise<void>;

  /** Throws a `StateError` unless the feed is in one of `allowed`. */
  protected assertState(operation: string, allowed: readonly FeedState[]): void {
    if (!allowed.includes(this.currentState)) throw new StateError({ operation, state: this.currentState, allowed });
  }

  protected setState(to: FeedState): void {
    const from = this.currentState;
    if (from === to) return;
    this.currentState = to;
    this.emitter.emit({ type: 'state', from, to });
  }

  /** The symbol of a dense index. */
  protected symbolAt(index: number): string {
    return this.indexedSymbols[index] as string;
  }

  /** How many symbols have an index. */
  protected get indexedSymbolCount(): number {
    return this.indexedSymbols.length;
  }

  /**
   * Counts and emits one bar; `index` is the symbol's `indexOfSymbol` when the caller has it;
   * `recovered` marks a bar a gap fill brought (the event says so).
   */
  protected deliver(bar: Bar, index: number = this.indexOfSymbol(bar.symbol), recovered = false): void {
    this.barsReceived++;
    this.barCounts[index] = (this.barCounts[index] as number) + 1;
    this.lastBarAt = bar.receivedAt;
    this.emitter.emit(recovered ? { type: 'bar', bar, recovered: true } : { type: 'bar', bar });
  }

  /** Counts and emits one error. */
  protected reportError(error: FeedError): void {
    this.errors++;
    const key = error.statsKey;
    this.errorsByCode.set(key, (this.errorsByCode.get(key) ?? 0) + 1);
    this.emitter.emit({ type: 'error', error });
  }

  /** Clears the counters (not the state). */
  protected resetCounters(): void {
    this.barsReceived = 0;
    this.barCounts.fill(0);
    this.errors = 0;
    this.errorsByCode.clear();
    this.reconnects = 0;
    this.barsRecovered = 0;
    this.lastBarAt = null;
  }

  stats(): FeedStats {
    return {
      barsReceived: this.barsReceived,
      barsBySymbol: Object.fromEntries(this.indexedSymbols.flatMap((s, i) => ((this.barCounts[i] as number) > 0 ? [[s, this.barCounts[i] as number]] : []))),
      errors: this.errors,
      errorsByCode: Object.fromEntries(this.errorsByCode),
      reconnects: this.reconnects,
      barsRecovered: this.barsRecovered,
      lastBarAt: this.lastBarAt,
    };
  }

  /**
   * Iterates over bars as they are delivered, from now until the feed stops or closes. Bars are
   * buffered while the consumer is busy, so none is lost.
   */
  [Symbol.asyncIterator](): AsyncIterator<Bar> {
    const buffer: Bar[] = [];
    let head = 0;
    let done = this.currentState === 'stopped' || this.currentState === 'closed';
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const emitter = this.emitter as unknown as TypedEmitter<FeedEvent>;
    const offBar = emitter.on('bar', (e) => {
      buffer.push(e.bar);
      notify();
    });
    const offState = emitter.on('state', (e) => {
      if (e.to === 'stopped' || e.to === 'closed') {
        done = true;
        notify();
      }
    });
    const finish = (): void => {
      offBar();
      offState();
    };
    return {
      next: async (): Promise<IteratorResult<Bar>> => {
        for (;;) {
          if (head < buffer.length) {
            const bar = buffer[head++] as Bar;
            if (head > 1024 && head * 2 > buffer.length) {
              buffer.splice(0, head);
              head = 0;
            }
            return { value: bar, done: false };
          }
          if (done) {
            finish();
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
      return: (): Promise<IteratorResult<Bar>> => {
        done = true;
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
