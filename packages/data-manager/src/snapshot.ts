import type { Bar } from '@feed/core';
import { stalenessWeight } from './staleness.js';
import type { ForwardFilledBar, Snapshot, SnapshotData, SymbolSnapshot } from './types.js';

/** What every snapshot of one manager shares: its symbols and the rules that derive the fields. */
export interface SnapshotLayout {
  readonly symbols: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  readonly intervalMs: number;
  readonly stalenessTauMs: number;
  readonly maxForwardFills: number;
  readonly maxStalenessMs: number;
}

/** Symbols per page of captured cells. */
export const PAGE_BITS = 12;
const PAGE_MASK = (1 << PAGE_BITS) - 1;

/**
 * One page: for its k symbols, their bars (or null) at [0, k), their fill counts at [k, 2k). A
 * capture of one page may also be the bars alone (length k): every fill count is then 0.
 */
export type Page = (Bar | null | number)[];

/**
 * A capture in pages of 4096 symbols: a JavaScript array of more than 16 384 elements costs ~40 times
 * more to allocate (it leaves the young generation), so 10 000 symbols in one array of 20 000 cells
 * would make a snapshot 1 ms instead of 0.1.
 */
export type CapturePages = readonly Page[];

/** Empty pages for `n` symbols: one page alone (no array around it) up to 4096 symbols. */
export function capturePages(n: number): Page | Page[] {
  if (n <= 1 << PAGE_BITS) return new Array<Bar | null | number>(2 * n);
  const pages: Page[] = [];
  for (let at = 0; at < n; at += 1 << PAGE_BITS) pages.push(new Array<Bar | null | number>(2 * Math.min(1 << PAGE_BITS, n - at)));
  return pages;
}

interface Built {
  entries: (SymbolSnapshot | undefined)[];
  all?: readonly SymbolSnapshot[];
  bySymbol?: Readonly<Record<string, SymbolSnapshot>>;
  missing?: readonly string[];
  halted?: readonly string[];
}

/** The summary numbers of a snapshot, computed while capturing; the view keeps the object (never changed after). */
export interface SnapshotSummary {
  readonly forwardFilled: number;
  readonly validCount: number;
  readonly complete: boolean;
  readonly avgAgeMs: number | null;
  readonly usable: boolean;
}

/**
 * A snapshot as a view (semantics.md, "Snapshot"): what it captures at `asOf` is, per symbol, a
 * reference to the frozen bar the manager holds for it and its fill count; the per-symbol objects
 * (`entries`, `symbols`, `missing`) are built only when read, once. The numeric readers (`price`,
 * `weight`, `isValid`, `ageMs`) build nothing. Read-only, not frozen: every field is a getter over
 * private state (a freeze a minute was most of a slice listener's cost). Later updates never change
 * it (a revision replaces the manager's bar object, never the one a snapshot holds).
 */
export class SnapshotView implements Snapshot {
  readonly #asOf: number;
  /** The summary numbers (one object: a complete slice shares its manager's; fewer fields to fill a minute). */
  readonly #summary: SnapshotSummary;
  readonly #layout: SnapshotLayout;
  /** The captured cells: one page, or pages (see `CapturePages`). */
  readonly #cells: Page | CapturePages;
  readonly #paged: boolean;
  /** Per symbol, 1 when halted at `asOf`; null when no symbol has had a trading status. */
  readonly #halted: Uint8Array | null;
  /** What has been built from the cells, on first read. */
  #built: Built | undefined;

  constructor(layout: SnapshotLayout, asOf: number, cells: Page | CapturePages, summary: SnapshotSummary, halted: Uint8Array | null = null) {
    this.#asOf = asOf;
    this.#summary = summary;
    this.#layout = layout;
    this.#cells = cells;
    this.#paged = layout.symbols.length > 1 << PAGE_BITS;
    this.#halted = halted;
  }

  /** The time the snapshot describes (epoch ms). */
  get asOf(): number {
    return this.#asOf;
  }

  /** How many symbols carry a forward-filled bar. */
  get forwardFilled(): number {
    return this.#summary.forwardFilled;
  }

  /** How many symbols are valid. */
  get validCount(): number {
    return this.#summary.validCount;
  }

  /** True when every symbol is valid with a real bar for the latest interval (no fill). */
  get complete(): boolean {
    return this.#summary.complete;
  }

  /** Mean `ageMs` over symbols that have a bar; `null` when none has. */
  get avgAgeMs(): number | null {
    return this.#summary.avgAgeMs;
  }

  /** At least half the symbols valid and younger than `usableMaxAgeMs`. */
  get usable(): boolean {
    return this.#summary.usable;
  }

  #page(i: number): Page {
    return this.#paged ? ((this.#cells as CapturePages)[i >> PAGE_BITS] as Page) : (this.#cells as Page);
  }

  #bar(i: number): Bar | null {
    return this.#page(i)[i & PAGE_MASK] as Bar | null;
  }

  #fill(i: number): number {
    if (!this.#paged) {
      // One page: of 2n cells, or of the n bars alone (no fills).
      const page = this.#cells as Page;
      const n = this.#layout.symbols.length;
      return page.length === n ? 0 : (page[n + i] as number);
    }
    const page = this.#page(i);
    return page[(page.length >> 1) + (i & PAGE_MASK)] as number;
  }

  /** Number of symbols. */
  get size(): number {
    return this.#layout.symbols.length;
  }

  /** The symbols, in the manager's order. */
  get symbolNames(): readonly string[] {
    return this.#layout.symbols;
  }

  /** The position of `symbol` in `entries`, or -1 when the manager does not track it. */
  indexOf(symbol: string): number {
    return this.#layout.indexOf.get(symbol) ?? -1;
  }

  private slot(symbolOrIndex: string | number): number {
    const i = typeof symbolOrIndex === 'number' ? symbolOrIndex : this.indexOf(symbolOrIndex);
    return i >= 0 && i < this.#layout.symbols.length && Number.isInteger(i) ? i : -1;
  }

  /** The price of a symbol (by name or index): its last close; `null` when never seen or not tracked. */
  price(symbolOrIndex: string | number): number | null {
    const i = this.slot(symbolOrIndex);
    return i < 0 ? null : (this.#bar(i)?.close ?? null);
  }

  /** `asOf - bar.end` for a symbol, or `null` without a bar. */
  ageMs(symbolOrIndex: string | number): number | null {
    const i = this.slot(symbolOrIndex);
    const bar = i < 0 ? null : this.#bar(i);
    return bar === null || bar === undefined ? null : this.#asOf - bar.end;
  }

  /** The staleness weight of a symbol, `exp(-ageMs / tau)`; 0 without a bar. */
  weight(symbolOrIndex: string | number): number {
    const age = this.ageMs(symbolOrIndex);
    return age === null ? 0 : stalenessWeight(age, this.#layout.stalenessTauMs);
  }

  /** Whether a symbol is valid at `asOf` (seen, not filled past the limit, not too stale). */
  isValid(symbolOrIndex: string | number): boolean {
    const i = this.slot(symbolOrIndex);
    const bar = i < 0 ? null : this.#bar(i);
    if (bar === null || bar === undefined) return false;
    const l = this.#layout;
    return this.#fill(i) <= l.maxForwardFills && this.#asOf - bar.end <= l.maxStalenessMs;
  }

  /** Whether a symbol is under a trading halt or pause at `asOf`. */
  isHalted(symbolOrIndex: string | number): boolean {
    const h = this.#halted;
    if (h === null) return false;
    const i = this.slot(symbolOrIndex);
    return i >= 0 && h[i] === 1;
  }

  /** Whether a symbol is tradable at `asOf`: valid and not halted. */
  isTradable(symbolOrIndex: string | number): boolean {
    return this.isValid(symbolOrIndex) && !this.isHalted(symbolOrIndex);
  }

  #lazy(): Built {
    return (this.#built ??= { entries: new Array<SymbolSnapshot | undefined>(this.#layout.symbols.length) });
  }

  /** One symbol's entry (by name or index), built on first read; `undefined` when not tracked. */
  entry(symbolOrIndex: string | number): SymbolSnapshot | undefined {
    const i = this.slot(symbolOrIndex);
    if (i < 0) return undefined;
    const cache = this.#lazy().entries;
    return (cache[i] ??= this.build(i));
  }

  /** Every symbol's entry, in the manager's order. */
  get entries(): readonly SymbolSnapshot[] {
    const built = this.#lazy();
    if (built.all === undefined) {
      const n = this.#layout.symbols.length;
      const all = new Array<SymbolSnapshot>(n);
      for (let i = 0; i < n; i++) all[i] = this.entry(i) as SymbolSnapshot;
      built.all = Object.freeze(all);
    }
    return built.all;
  }

  /** The entries keyed by symbol. */
  get symbols(): Readonly<Record<string, SymbolSnapshot>> {
    const built = this.#lazy();
    if (built.bySymbol === undefined) {
      const by: Record<string, SymbolSnapshot> = {};
      for (const e of this.entries) by[e.symbol] = e;
      built.bySymbol = Object.freeze(by);
    }
    return built.bySymbol;
  }

  /** Symbols never seen or invalid, in the manager's order; halted symbols are in `halted` instead. */
  get missing(): readonly string[] {
    const built = this.#lazy();
    if (built.missing === undefined) {
      const out: string[] = [];
      const names = this.#layout.symbols;
      for (let i = 0; i < names.length; i++) if (!this.isValid(i) && !this.isHalted(i)) out.push(names[i] as string);
      built.missing = Object.freeze(out);
    }
    return built.missing;
  }

  /** Symbols under a trading halt or pause at `asOf`, in the manager's order. */
  get halted(): readonly string[] {
    const built = this.#lazy();
    if (built.halted === undefined) {
      const out: string[] = [];
      const h = this.#halted;
      const names = this.#layout.symbols;
      for (let i = 0; h !== null && i < names.length; i++) if (h[i] === 1) out.push(names[i] as string);
      built.halted = Object.freeze(out);
    }
    return built.halted;
  }

  [Symbol.iterator](): Iterator<SymbolSnapshot> {
    return this.entries[Symbol.iterator]();
  }

  /** A plain object with every field (what `JSON.stringify` writes). */
  toJSON(): SnapshotData {
    return {
      asOf: this.#asOf,
      symbols: this.symbols,
      entries: this.entries,
      missing: this.missing,
      halted: this.halted,
      forwardFilled: this.#summary.forwardFilled,
      validCount: this.#summary.validCount,
      complete: this.#summary.complete,
      avgAgeMs: this.#summary.avgAgeMs,
      usable: this.#summary.usable,
    };
  }

  private build(i: number): SymbolSnapshot {
    const l = this.#layout;
    const symbol = l.symbols[i] as string;
    const bar = this.#bar(i);
    const halted = this.isHalted(i);
    if (bar === null || bar === undefined) {
      return Object.freeze({ symbol, bar: null, ageMs: null, stalenessWeight: 0, fillCount: 0, forwardFilled: null, valid: false, price: null, halted, tradable: false });
    }
    const interval = l.intervalMs;
    const ageMs = this.#asOf - bar.end;
    const fillCount = this.#fill(i);
    let forwardFilled: ForwardFilledBar | null = null;
    if (fillCount > 0 && fillCount <= l.maxForwardFills) {
      const lastBoundary = Math.floor(this.#asOf / interval) * interval;
      forwardFilled = Object.freeze({
        symbol,
        start: lastBoundary - interval,
        end: lastBoundary,
        open: bar.close,
        high: bar.close,
        low: bar.close,
        close: bar.close,
        volume: 0,
        receivedAt: this.#asOf,
        isFillForward: true,
        sourceEnd: bar.end,
      });
    }
    const valid = fillCount <= l.maxForwardFills && ageMs <= l.maxStalenessMs;
    return Object.freeze({
      symbol,
      bar,
      ageMs,
      stalenessWeight: stalenessWeight(ageMs, l.stalenessTauMs),
      fillCount,
      forwardFilled,
      valid,
      price: bar.close,
      halted,
      tradable: valid && !halted,
    });
  }
}
