import type { Bar, Clock, HistoricalBars } from '@feed/core';
import { FeedError, MINUTE_MS, timeoutSignal } from '@feed/core';
import type { SymbolTable } from './symbol-table.js';

/** Why a gap fill ran. */
export type GapFillReason = 'reconnect' | 'restart' | 'warmup';

/** A live bar kept while a gap before it is filled (or before the first `start()`). */
export interface HeldBar {
  readonly bar: Bar;
  /** A revision of a minute already delivered (Alpaca's updated bar), not a new minute. */
  readonly revision: boolean;
}

/** What a gap fill needs: the clock, the history client, its deadline, the feed's table, and how to deliver. */
export interface GapFillerOptions {
  readonly clock: Clock;
  /** The history client, built on first use. */
  readonly history: () => HistoricalBars;
  readonly timeoutMs: number;
  readonly warmupBars: number;
  readonly table: SymbolTable;
  readonly symbols: () => readonly string[];
  /** When the feed first started, and when a symbol was added after that. */
  readonly startedAt: () => number | undefined;
  readonly subscribedAt: (symbol: string) => number | undefined;
  /** Hands a recovered bar over, checked and deduplicated; false when it was not delivered. */
  readonly deliverRecovered: (bar: Bar) => boolean;
  /** Hands a held live bar over, as if it had just arrived. */
  readonly deliverLive: (held: HeldBar) => void;
  readonly report: (error: FeedError) => void;
  readonly emit: (event: { reason: GapFillReason; recovered: number; from: number; to: number }) => void;
}

/**
 * Gap fill over a history client, and the one buffer of held live bars. While a gap is open (after a
 * drop, until the fill behind it ends) live bars are held; every run ends by releasing them through
 * one path, whether the fill completed, failed or hit its deadline (`timeoutMs` of clock time).
 * `abort()` (stop, disconnect) ends a run at once: the request is aborted through its signal, and
 * no request is made after it. A gap left unfilled is reported as `gap_unfilled`, never silent.
 */
export class GapFiller {
  #held: HeldBar[] = [];
  #holding = false;
  /** A drop happened during the current run: bars after the release wait for the next run. */
  #gapOpened = false;
  #run: Promise<void> | undefined;
  #again: GapFillReason | undefined;
  #stop = new AbortController();
  fills = 0;
  failures = 0;
  timeouts = 0;

  constructor(private readonly options: GapFillerOptions) {}

  /** Whether live bars are held now. */
  get holding(): boolean {
    return this.#holding;
  }

  get heldCount(): number {
    return this.#held.length;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  /** A gap opened (a drop, a restart): live bars are held until a run fills it. */
  hold(): void {
    this.#holding = true;
    if (this.#run !== undefined) this.#gapOpened = true;
  }

  /** Keeps a live bar while holding (or before the first start). */
  keep(held: HeldBar): void {
    this.#held.push(held);
  }

  /** Releases every held bar now, in arrival order, and stops holding. */
  releaseAll(): void {
    this.#holding = false;
    this.#release();
  }

  #release(): void {
    const held = this.#held;
    this.#held = [];
    for (const h of held) this.options.deliverLive(h);
  }

  /**
   * Fills the gap and releases the held bars. A run asked for while one runs makes that one go
   * again once it ends (a reconnect during a fill).
   */
  run(reason: GapFillReason): Promise<void> {
    if (this.#run !== undefined) {
      this.#again = reason;
      return this.#run;
    }
    const stop = this.#stop.signal;
    this.#run = (async () => {
      let r: GapFillReason | undefined = reason;
      while (r !== undefined && !stop.aborted) {
        this.#again = undefined;
        this.#gapOpened = false;
        await this.#fillOnce(r, stop);
        if (stop.aborted) return;
        // The one release path: after every run, whatever its outcome.
        this.#holding = this.#gapOpened || this.#again !== undefined;
        this.#release();
        r = this.#again;
      }
    })().finally(() => {
      this.#run = undefined;
    });
    return this.#run;
  }

  /**
   * Ends a run at once (stop, disconnect) and drops the held bars (never delivered: the next
   * start's fill recovers them). Returns how many were dropped. The filler can run again after.
   */
  async abort(): Promise<number> {
    this.#stop.abort(new FeedError({ code: 'aborted', message: 'gap fill aborted: the feed stopped' }));
    const run = this.#run;
    if (run !== undefined) await run;
    this.#stop = new AbortController();
    this.#again = undefined;
    const dropped = this.#held.length;
    this.#held = [];
    this.#holding = false;
    return dropped;
  }

  async #fillOnce(reason: GapFillReason, stop: AbortSignal): Promise<void> {
    const o = this.options;
    const symbols = [...o.symbols()];
    if (symbols.length === 0) return;
    const now = o.clock.now();
    const warmup = reason === 'warmup' ? o.warmupBars : 0;
    // From the bar after each symbol's last delivered one; a symbol with none starts at the minute
    // in progress when the feed started (or, for a warm-up, a week back: the last N bars are kept).
    const since = (s: string): number => {
      const last = o.table.lastStartOf(s);
      if (last !== undefined) return last + MINUTE_MS;
      if (warmup > 0) return now - 7 * 86_400_000;
      const t = Math.max(o.startedAt() ?? now, o.subscribedAt(s) ?? -Infinity);
      return Math.floor(t / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    };
    let from = Infinity;
    for (const s of symbols) from = Math.min(from, since(s));
    const to = now - MINUTE_MS;
    this.fills++;
    if (from > to) {
      o.emit({ reason, recovered: 0, from, to });
      return;
    }
    const deadline = timeoutSignal(o.clock, o.timeoutMs, 'gap fill', stop);
    let fetched: Map<string, Bar[]>;
    try {
      fetched = await o.history().barsBySymbol({ symbols, start: from, end: to, signal: deadline.signal });
    } catch (error) {
      if (stop.aborted) return;
      this.failures++;
      const timedOut = deadline.signal.aborted;
      if (timedOut) this.timeouts++;
      const cause = FeedError.isInstance(error) ? error : undefined;
      const missing = symbols.filter((s) => since(s) <= to);
      const why = timedOut ? `it did not finish within ${o.timeoutMs} ms` : (cause?.message ?? String(error));
      o.report(
        new FeedError({
          code: 'gap_unfilled',
          message: `gap fill (${reason}) failed: bars of ${missing.join(', ')} from ${iso(from)} to ${iso(to)} may be missing; ${why}`,
          detail: { symbols: missing, from, to, reason, timedOut },
          cause: error,
        }),
      );
      return;
    } finally {
      deadline.dispose();
    }
    const order = new Map(symbols.map((s, i) => [s, i]));
    const recovered: Bar[] = [];
    for (const [symbol, list] of fetched) {
      if (!order.has(symbol)) continue;
      const first = since(symbol);
      let kept = list.filter((b) => b.start >= first && b.end <= now);
      if (warmup > 0 && o.table.lastStartOf(symbol) === undefined) kept = kept.slice(-warmup);
      for (const b of kept) recovered.push(b);
    }
    recovered.sort((a, b) => a.start - b.start || (order.get(a.symbol) ?? 0) - (order.get(b.symbol) ?? 0));
    let delivered = 0;
    for (const b of recovered) if (o.deliverRecovered(b)) delivered++;
    o.emit({ reason, recovered: delivered, from, to });
  }
}

function iso(t: number): string {
  return new Date(t).toISOString();
}
