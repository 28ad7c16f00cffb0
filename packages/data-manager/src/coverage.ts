import type { MarketSession } from '@feed/core';

/** The sessions coverage is counted by: `nyse` of `@feed/core`, or a calendar of the same shape. */
export interface CoverageCalendar {
  /** The session open at `t` (open <= t < close), if any. */
  sessionAt(t: number): MarketSession | undefined;
  /** The first session that opens after `t`: lets bars outside sessions skip the lookup. */
  nextSession?(t: number): MarketSession;
}

/** One symbol's minutes in one session (`dm.coverage()`), every regular-hours minute counted once. */
export interface SessionCoverage {
  /** The session's New York date. */
  readonly date: string;
  /** Regular-hours minutes of the session (390; 210 on a 13:00 close). */
  readonly minutes: number;
  /** Minutes with a real bar (from the stream, a gap fill or a warm-up). */
  readonly withBar: number;
  /** Of `withBar`: minutes whose bar came from history (a gap fill's REST request or a warm-up), not the stream. */
  readonly recovered: number;
  /** Minutes without a bar, forward-filled (within `maxForwardFills` open intervals of the last bar). */
  readonly forwardFilled: number;
  /** Minutes without a bar while a trading halt or pause was in force (not missing data). */
  readonly halted: number;
  /** Minutes without a bar, neither forward-filled nor halted: never seen. */
  readonly neverSeen: number;
  /**
   * Minutes a reconciliation (`dm.reconcile()`) found in the provider's REST history that the manager
   * never received; `null` until the session is reconciled.
   */
  readonly missedByStream: number | null;
}

/** What `dm.reconcile()` found: per symbol, the starts of the minutes REST has and the manager missed. */
export interface ReconcileReport {
  readonly date: string;
  /** Per symbol, the bar starts REST has that the manager never received, in order (empty lists omitted). */
  readonly missed: Readonly<Record<string, readonly number[]>>;
  /** Bars REST returned for the session (regular hours). */
  readonly restBars: number;
  /** Total missed minutes, over all symbols. */
  readonly missedTotal: number;
}

/** One session's record: per symbol, a bit per regular-hours minute that had a bar, and that came from history. */
export interface CoverageRecord {
  readonly session: MarketSession;
  /** 32-bit words per symbol. */
  readonly words: number;
  readonly minutes: number;
  readonly bars: Uint32Array;
  recovered: Uint32Array | null;
  /** Per symbol index, set by a reconciliation. */
  missed: Map<number, readonly number[]> | null;
}

/**
 * Which regular-hours minutes of each session had a bar, per symbol, as bits: a bar accepted costs
 * two comparisons and a bit set while it falls in the current session. The newest `maxSessions`
 * sessions are kept.
 */
export class CoverageTracker {
  readonly records: CoverageRecord[] = [];
  #cur: CoverageRecord | undefined;
  /**
   * The current session and its bits, public for the data manager's inlined fast path (a bar of the
   * current session: two comparisons and a bit set, no call).
   */
  open = Number.POSITIVE_INFINITY;
  close = Number.NEGATIVE_INFINITY;
  bits: Uint32Array = new Uint32Array(0);
  /** Symbols: the distance between two 32-minute words of one symbol. */
  readonly stride: number;
  /** A stretch known to hold no session (a night, a weekend): bars in it cost two comparisons too. */
  #gapFrom = Number.POSITIVE_INFINITY;
  #gapTo = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly calendar: CoverageCalendar | undefined,
    private readonly symbols: number,
    private readonly intervalMs: number,
    private readonly maxSessions: number,
  ) {
    this.stride = symbols;
    // No calendar with sessions, or no session kept: every bar is outside, at once.
    if (calendar === undefined || maxSessions === 0) {
      this.#gapFrom = Number.NEGATIVE_INFINITY;
      this.#gapTo = Number.POSITIVE_INFINITY;
    }
  }

  /** Whether coverage is counted at all. */
  get enabled(): boolean {
    return this.calendar !== undefined && this.maxSessions > 0;
  }

  /** Marks symbol `i`'s minute starting at `start` as having a bar (`recovered`: from history). */
  mark(i: number, start: number, recovered: boolean): void {
    if (!(start >= this.open && start < this.close)) {
      if (start >= this.#gapFrom && start < this.#gapTo) return;
      if (!this.#select(start)) return;
    }
    const rec = this.#cur as CoverageRecord;
    const k = ((start - this.open) / this.intervalMs) | 0;
    const w = (k >>> 5) * this.symbols + i;
    const bit = 1 << (k & 31);
    rec.bars[w] = (rec.bars[w] as number) | bit;
    if (recovered) {
      const r = (rec.recovered ??= new Uint32Array(rec.bars.length));
      r[w] = (r[w] as number) | bit;
    }
  }

  /**
   * The word offset of the minute starting at `start` in the current session's bits (a symbol's word
   * is that plus its index), its bit in `minuteBit`; -1 outside the current session. A slice computes
   * it once for all its symbols.
   */
  minuteWord(start: number): number {
    if (!(start >= this.open && start < this.close)) return -1;
    const k = ((start - this.open) / this.intervalMs) | 0;
    this.minuteBit = 1 << (k & 31);
    return (k >>> 5) * this.symbols;
  }

  /** The bit of the minute `minuteWord` found last. */
  minuteBit = 0;

  /** Marks the minute starting at `start` as having a bar for every symbol (a slice all of them delivered). */
  markAll(start: number): void {
    if (!(start >= this.open && start < this.close)) {
      if (start >= this.#gapFrom && start < this.#gapTo) return;
      if (!this.#select(start)) return;
    }
    const bits = this.bits;
    const w = this.minuteWord(start);
    const bit = this.minuteBit;
    for (let i = 0; i < this.symbols; i++) bits[w + i] = (bits[w + i] as number) | bit;
  }

  /** The record of the session `t` falls in, if kept. */
  recordAt(t: number): CoverageRecord | undefined {
    const s = this.calendar?.sessionAt(t);
    return s === undefined ? undefined : this.records.find((r) => r.session.open === s.open);
  }

  #select(start: number): boolean {
    const cal = this.calendar as CoverageCalendar;
    const session = cal.sessionAt(start);
    if (session === undefined) {
      if (cal.nextSession !== undefined) {
        this.#gapFrom = start;
        this.#gapTo = cal.nextSession(start).open;
      }
      return false;
    }
    let rec = this.records.find((r) => r.session.open === session.open);
    if (rec === undefined) {
      const minutes = Math.round((session.close - session.open) / this.intervalMs);
      const words = (minutes + 31) >>> 5;
      rec = { session, words, minutes, bars: new Uint32Array(words * this.symbols), recovered: null, missed: null };
      let k = this.records.length;
      while (k > 0 && (this.records[k - 1] as CoverageRecord).session.open > session.open) k--;
      this.records.splice(k, 0, rec);
      if (this.records.length > this.maxSessions) this.records.shift();
    }
    this.#cur = rec;
    this.open = session.open;
    this.close = session.close;
    this.bits = rec.bars;
    return true;
  }
}

/**
 * Whether minute `k` of symbol `i` is set in `words` (of `symbols` symbols). The layout is minute-major:
 * word `(k >>> 5) * symbols + i`, so the symbols of one minute set neighbouring words (one cache line
 * for 16 symbols), as the history rings' slots are.
 */
export function hasBit(words: Uint32Array, symbols: number, i: number, k: number): boolean {
  return (((words[(k >>> 5) * symbols + i] as number) >>> (k & 31)) & 1) === 1;
}
