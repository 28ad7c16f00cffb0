import type { Bar, CorporateAction, RejectReason, TradingStatus } from '@feed/core';

/** A bar the manager made up for a missing interval: the previous close, volume 0. */
export interface ForwardFilledBar extends Bar {
  readonly isFillForward: true;
  /** End of the real bar whose close is carried forward. */
  readonly sourceEnd: number;
}

/** One symbol's state at a snapshot's `asOf` (semantics.md, "Snapshot"). */
export interface SymbolSnapshot {
  readonly symbol: string;
  /** The latest real bar known at `asOf` (its end <= asOf), or `null` if none was ever seen. */
  readonly bar: Bar | null;
  /** `asOf - bar.end`: the age of the close price; `null` without a bar. */
  readonly ageMs: number | null;
  /** `exp(-ageMs / tau)`, in (0, 1]; 0 without a bar. */
  readonly stalenessWeight: number;
  /** Whole intervals completed since the bar's end without a bar, counted only while the market is open. */
  readonly fillCount: number;
  /** When 0 < fillCount <= maxForwardFills: the forward-filled bar of the latest completed interval. */
  readonly forwardFilled: ForwardFilledBar | null;
  /** False when never seen, fillCount > maxForwardFills, or ageMs > maxStalenessMs. */
  readonly valid: boolean;
  /** The price to use: the forward-filled close, else the real close; `null` when never seen. */
  readonly price: number | null;
  /** A trading halt or volatility pause is in force at `asOf` (from the feed's trading statuses). */
  readonly halted: boolean;
  /** Valid and not halted: what a strategy may trade on. A forward-filled price of a halted symbol is never tradable. */
  readonly tradable: boolean;
}

/** Every tracked symbol's state at one instant. Immutable: later updates never change it. */
export interface Snapshot {
  readonly asOf: number;
  /** Per symbol, keyed by symbol. */
  readonly symbols: Readonly<Record<string, SymbolSnapshot>>;
  /** The same entries in the manager's symbol order. */
  readonly entries: readonly SymbolSnapshot[];
  /** Symbols never seen or invalid, in symbol order; a halted symbol is listed in `halted` instead (a halt is not missing data). */
  readonly missing: readonly string[];
  /** Symbols under a trading halt or pause at `asOf`, in symbol order. */
  readonly halted: readonly string[];
  /** How many symbols carry a forward-filled bar. */
  readonly forwardFilled: number;
  /** How many symbols are valid. */
  readonly validCount: number;
  /** True when every symbol is valid with a real bar for the latest interval (no fill). */
  readonly complete: boolean;
  /** Mean `ageMs` over symbols that have a bar; `null` when none has. */
  readonly avgAgeMs: number | null;
  /** At least half the symbols valid and younger than `usableMaxAgeMs` (120 s). */
  readonly usable: boolean;
  /**
   * The readers below answer from the captured numbers without building any entry: a strategy that
   * reads a few prices per minute pays for those, not for every symbol's objects.
   */
  /** Number of symbols (the length of `entries`). */
  readonly size: number;
  /** The position of `symbol` in `entries`, or -1 when not tracked. */
  indexOf(symbol: string): number;
  /** A symbol's price (by name or index), as `entries[i].price`; `null` when never seen or not tracked. */
  price(symbolOrIndex: string | number): number | null;
  /** A symbol's `ageMs`, as `entries[i].ageMs`. */
  ageMs(symbolOrIndex: string | number): number | null;
  /** A symbol's staleness weight, as `entries[i].stalenessWeight`. */
  weight(symbolOrIndex: string | number): number;
  /** Whether a symbol is valid, as `entries[i].valid` (false when not tracked). */
  isValid(symbolOrIndex: string | number): boolean;
  /** Whether a symbol is halted at `asOf`, as `entries[i].halted`. */
  isHalted(symbolOrIndex: string | number): boolean;
  /** Whether a symbol is tradable (valid and not halted), as `entries[i].tradable`. */
  isTradable(symbolOrIndex: string | number): boolean;
  /** One symbol's entry, built on first read; `undefined` when not tracked. */
  entry(symbolOrIndex: string | number): SymbolSnapshot | undefined;
  /** The entries in order. */
  [Symbol.iterator](): Iterator<SymbolSnapshot>;
  /** A plain object of every field above the readers (what `JSON.stringify` writes). */
  toJSON(): SnapshotData;
}

/** A snapshot's data as a plain object (`snapshot.toJSON()`). */
export type SnapshotData = Pick<Snapshot, 'asOf' | 'symbols' | 'entries' | 'missing' | 'halted' | 'forwardFilled' | 'validCount' | 'complete' | 'avgAgeMs' | 'usable'>;

/** What `update(bar)` did with a bar. Never thrown: returned. */
export type UpdateResult =
  | { readonly status: 'accepted' }
  | { readonly status: 'duplicate' }
  | { readonly status: 'revision' }
  | { readonly status: 'rejected'; readonly reason: RejectReason };

/** What `updateAll` did: how many bars of each outcome. */
export interface UpdateSummary {
  accepted: number;
  duplicates: number;
  revisions: number;
  rejected: number;
}

/** Data-quality counters of one symbol (or, in `QualityStats.total`, of all). */
export interface SymbolQuality {
  /** `update()` calls. */
  readonly updates: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly revisions: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Partial<Record<RejectReason, number>>>;
  /** Accepted bars whose minute's slice had already been emitted. */
  readonly lateBars: number;
  /** Slices emitted. */
  readonly slices: number;
  /** Slices in which the symbol was forward-filled: the forward-filled intervals. */
  readonly forwardFilledIntervals: number;
  /** Slices in which the symbol was invalid (never seen, too many fills, too stale), a halt aside. */
  readonly invalidSlices: number;
  /**
   * Slices in which the symbol was halted: counted here and not as forward-filled or invalid (a halt
   * is not missing data).
   */
  readonly haltedSlices: number;
  /** Bars loaded by a warm-up (`warmUp`), not counted in `updates` or `accepted`. */
  readonly warmUpBars: number;
  /** Accepted bars that a live feed recovered by gap fill (REST) rather than received on its stream. */
  readonly recoveredBars: number;
  /** Corporate actions applied (the history rebased), late ones included. */
  readonly corporateActions: number;
  /** Mean latency `receivedAt - end` of accepted bars, ms; `null` before the first. */
  readonly avgLatencyMs: number | null;
  readonly maxLatencyMs: number | null;
  /** Mean age of the symbol's price at slice time, ms; `null` before the first slice with a bar. */
  readonly avgAgeMs: number | null;
}

/** Data-quality statistics: per symbol and in total. */
export interface QualityStats {
  readonly total: SymbolQuality;
  readonly bySymbol: Readonly<Record<string, SymbolQuality>>;
  /** Updates for symbols the manager does not track, by symbol (at most 1000 names are kept). */
  readonly unknownSymbols: Readonly<Record<string, number>>;
  readonly slicesEmitted: number;
  /** Trading statuses for symbols the manager does not track: counted, dropped. */
  readonly unknownStatuses: number;
}

/** A closed minute (`dm.on('slice', ({ slice }) => ...)`): every symbol's state at that boundary. */
export interface SliceEvent {
  readonly type: 'slice';
  readonly slice: Snapshot;
}

/** A bar `update` rejected, with the reason. */
export interface RejectEvent {
  readonly type: 'rejected';
  readonly bar: Bar;
  readonly reason: RejectReason;
}

/** A stored bar was replaced by a revision of it (Alpaca's updated bars): `bar` is the new one. */
export interface RevisionEvent {
  readonly type: 'revision';
  readonly bar: Bar;
}

/** A symbol's halted state changed (a halt or pause began, or trading resumed), from a feed's trading status. */
export interface HaltEvent {
  readonly type: 'halt';
  readonly symbol: string;
  readonly halted: boolean;
  /** The status that changed it. */
  readonly status: TradingStatus;
}

/** A trading status or LULD band for a tracked symbol reached the manager (every one, halting or not). */
export interface ManagerTradingStatusEvent {
  readonly type: 'tradingStatus';
  readonly status: TradingStatus;
}

/** A warm-up was loaded into the history (`warmUp`): bars from `from` to `to` (starts, inclusive). */
export interface ManagerWarmUpEvent {
  readonly type: 'warmup';
  readonly from: number;
  readonly to: number;
  /** Bars stored per symbol. */
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * A corporate action was applied: the symbol's stored bars before its ex-date were rebased (prices
 * times `priceFactor`, volumes times `volumeFactor`). `late`: bars of the ex-date were stored before
 * it was known. `unpriced`: a dividend with no price before it to compute its factor (nothing rebased).
 */
export interface ManagerCorporateActionEvent {
  readonly type: 'corporateAction';
  readonly action: CorporateAction;
  readonly priceFactor: number;
  readonly volumeFactor: number;
  readonly rebased: number;
  readonly late: boolean;
  readonly unpriced: boolean;
}

/** A slice or reject listener threw; the manager's state is unaffected. */
export interface ListenerErrorEvent {
  readonly type: 'error';
  readonly error: Error;
}

/** Every event of the data manager. */
export type DataManagerEvent = SliceEvent | RejectEvent | RevisionEvent | HaltEvent | ManagerTradingStatusEvent | ManagerWarmUpEvent | ManagerCorporateActionEvent | ListenerErrorEvent;
