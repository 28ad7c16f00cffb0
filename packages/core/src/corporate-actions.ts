import type { Bar } from './bar.js';
import { barFromValues } from './bar.js';
import { NEW_YORK } from './calendar.js';
import { invalidOption } from './options.js';
import { zonedTimeToEpoch } from './time-zone.js';

/** The corporate actions that change a price series: forward and reverse splits, cash dividends. */
export type CorporateActionKind = 'forward_split' | 'reverse_split' | 'cash_dividend';

/** The kinds, in a fixed order. */
export const CORPORATE_ACTION_KINDS: readonly CorporateActionKind[] = ['forward_split', 'reverse_split', 'cash_dividend'];

/**
 * One corporate action of one symbol, as of its ex-date (the first session priced on the new basis).
 * A split's `ratio` is new shares per old share: 2 for a 2-for-1 forward split, 0.1 for a 1-for-10
 * reverse split; a dividend's `amount` is cash per share. `priceBefore`, when known, is the raw close
 * of the last regular-hours bar before the ex-date (what a dividend's factor is computed from).
 */
export interface CorporateAction {
  readonly symbol: string;
  readonly kind: CorporateActionKind;
  /** New York date, `YYYY-MM-DD`. */
  readonly exDate: string;
  /** Splits: new shares per old share (> 0). */
  readonly ratio?: number;
  /** Cash dividends: cash per share (> 0). */
  readonly amount?: number;
  /** Cash dividends: the raw close before the ex-date, when known. */
  readonly priceBefore?: number;
  /** Where it came from: `alpaca`, `polygon`, `file`, `synth`, ... */
  readonly source: string;
}

/** What a corporate-action source takes: symbols and a range of ex-dates (inclusive, `YYYY-MM-DD`), abortable. */
export interface CorporateActionsRequest {
  readonly symbols: readonly string[];
  /** First ex-date to include. */
  readonly from: string;
  /** Last ex-date to include. */
  readonly to: string;
  readonly signal?: AbortSignal;
}

/**
 * A source of corporate actions (`AlpacaCorporateActionsClient`, `PolygonCorporateActionsClient`, a
 * file: `readCorporateActionsCsv` of `@feed/csv`), beside `HistoricalBars`.
 */
export interface CorporateActions {
  /** Every action of the request, per symbol, by ex-date. */
  actionsBySymbol(request: CorporateActionsRequest): Promise<Map<string, CorporateAction[]>>;
}

/**
 * How bars are adjusted when read: `raw` (as traded), `split` (splits), `dividend` (cash dividends),
 * `all` (both). Prices are divided by the split ratios (volumes multiplied) and multiplied by each
 * dividend's factor `1 - amount / priceBefore`, for every action whose ex-date is after the bar's
 * session and at most the as-of date: no look-ahead.
 */
export type Adjustment = 'raw' | 'split' | 'dividend' | 'all';

/** The adjustments, in a fixed order. */
export const ADJUSTMENTS: readonly Adjustment[] = ['raw', 'split', 'dividend', 'all'];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A frozen `CorporateAction`, checked: a bad field is a `ConfigError` naming it. */
export function makeCorporateAction(init: CorporateAction): CorporateAction {
  if (typeof init.symbol !== 'string' || init.symbol === '') throw invalidOption('symbol', 'must be a non-empty string');
  if (!CORPORATE_ACTION_KINDS.includes(init.kind)) throw invalidOption('kind', `must be one of ${CORPORATE_ACTION_KINDS.join(', ')}`);
  if (typeof init.exDate !== 'string' || !DATE.test(init.exDate)) throw invalidOption('exDate', `must be YYYY-MM-DD (got ${String(init.exDate)})`);
  const a: { -readonly [K in keyof CorporateAction]: CorporateAction[K] } = { symbol: init.symbol, kind: init.kind, exDate: init.exDate, source: init.source };
  if (init.kind === 'cash_dividend') {
    if (!(typeof init.amount === 'number' && Number.isFinite(init.amount) && init.amount > 0)) throw invalidOption('amount', `a dividend's amount must be a number > 0 (got ${String(init.amount)})`);
    a.amount = init.amount;
    if (init.priceBefore !== undefined) {
      if (!(Number.isFinite(init.priceBefore) && init.priceBefore > init.amount)) throw invalidOption('priceBefore', `must be a price above the dividend (got ${String(init.priceBefore)})`);
      a.priceBefore = init.priceBefore;
    }
  } else {
    const r = init.ratio;
    if (!(typeof r === 'number' && Number.isFinite(r) && r > 0 && r !== 1)) throw invalidOption('ratio', `a split's ratio must be a number > 0, not 1 (got ${String(r)})`);
    if (init.kind === 'forward_split' && r < 1) throw invalidOption('ratio', `a forward split's ratio is above 1 (got ${r})`);
    if (init.kind === 'reverse_split' && r > 1) throw invalidOption('ratio', `a reverse split's ratio is below 1 (got ${r})`);
    a.ratio = r;
  }
  return Object.freeze(a);
}

/** One key per action (symbol, kind, ex-date, ratio or amount): what a repeat of it shares. */
export function actionKey(a: CorporateAction): string {
  return `${a.symbol}|${a.kind}|${a.exDate}|${a.ratio ?? ''}|${a.amount ?? ''}`;
}

/** A list of actions as a `CorporateActions` source (each request answered from the list). */
export function actionsFrom(list: readonly CorporateAction[]): CorporateActions {
  return {
    actionsBySymbol: (req) => Promise.resolve(new Map(req.symbols.map((s) => [s, list.filter((a) => a.symbol === s && a.exDate >= req.from && a.exDate <= req.to)]))),
  };
}

/** Whether an adjustment applies this kind of action. */
export function adjusts(adjustment: Adjustment, kind: CorporateActionKind): boolean {
  if (adjustment === 'all') return true;
  if (adjustment === 'raw') return false;
  return adjustment === 'split' ? kind !== 'cash_dividend' : kind === 'cash_dividend';
}

/**
 * One stretch of a symbol's bars and the factors that put it on the basis of the as-of date: every
 * bar starting before `before` (and after the previous segment's) has its prices times `price` and
 * its volume times `volume`. Segments are in `before` order; bars after the last are unchanged.
 */
export interface AdjustmentSegment {
  readonly before: number;
  readonly price: number;
  readonly volume: number;
}

/**
 * The segments of `symbol`'s adjustment as of `asOf` (actions with ex-date <= `asOf`, of the kinds
 * `adjustment` applies): each segment's factor is the product, in ex-date order, of the factors of
 * the actions after it (a split `1 / ratio`, volume `ratio`; a dividend `1 - amount / priceBefore`).
 * A dividend without `priceBefore` asks `closeBefore(exDateStart)` for the raw close before its
 * ex-date; without one it is left out and listed in `unpriced`. The one computation behind
 * `adjustBars` and the replay's columns, so that every path agrees to the last decimal.
 */
export function adjustmentSegments(
  actions: readonly CorporateAction[],
  options: { readonly symbol: string; readonly adjustment: Adjustment; readonly asOf: string; readonly closeBefore: (t: number) => number | undefined },
): { segments: AdjustmentSegment[]; unpriced: CorporateAction[] } {
  const { symbol, adjustment, asOf } = options;
  const unpriced: CorporateAction[] = [];
  if (adjustment === 'raw') return { segments: [], unpriced };
  const steps: { at: number; exDate: string; price: number; volume: number }[] = [];
  for (const a of actions) {
    if (a.symbol !== symbol || !adjusts(adjustment, a.kind) || a.exDate > asOf) continue;
    const at = exDateStart(a.exDate);
    if (a.kind === 'cash_dividend') {
      const before = a.priceBefore ?? options.closeBefore(at);
      if (before === undefined || !(before > (a.amount as number))) {
        unpriced.push(a);
        continue;
      }
      steps.push({ at, exDate: a.exDate, price: 1 - (a.amount as number) / before, volume: 1 });
    } else {
      steps.push({ at, exDate: a.exDate, price: 1 / (a.ratio as number), volume: a.ratio as number });
    }
  }
  steps.sort((x, y) => x.at - y.at);
  const segments: AdjustmentSegment[] = [];
  for (let j = 0; j < steps.length; j++) {
    let price = 1;
    let volume = 1;
    for (let k = j; k < steps.length; k++) {
      price *= (steps[k] as { price: number }).price;
      volume *= (steps[k] as { volume: number }).volume;
    }
    segments.push({ before: (steps[j] as { at: number }).at, price, volume });
  }
  return { segments, unpriced };
}

/** What an adjustment did: the bars, and the dividends it could not price (no `priceBefore`, no bar before their ex-date). */
export interface AdjustResult {
  readonly bars: Bar[];
  /** Dividends left out: neither `priceBefore` nor a bar before the ex-date to take it from. */
  readonly unpriced: readonly CorporateAction[];
}

/**
 * Adjusts one symbol's bars (in time order) as of the date `asOf`, using only actions with
 * ex-date <= `asOf` (no look-ahead): `adjustmentSegments`' factors, prices times the price factor,
 * volumes times the volume factor (shares scale inversely to a split), `vwap` as prices,
 * `tradeCount` kept. A dividend without `priceBefore` takes the raw close of the last bar before its
 * ex-date among `bars`. The one function behind REST history, warm-up and gap fill (the replay
 * scales its columns with the same segments), so that they agree to the last decimal.
 */
export function adjustBars(bars: readonly Bar[], actions: readonly CorporateAction[], options: { readonly adjustment: Adjustment; readonly asOf: string }): AdjustResult {
  if (options.adjustment === 'raw' || bars.length === 0) return { bars: [...bars], unpriced: [] };
  const symbol = (bars[0] as Bar).symbol;
  const closeBefore = (t: number): number | undefined => {
    for (let i = bars.length - 1; i >= 0; i--) if ((bars[i] as Bar).start < t) return (bars[i] as Bar).close;
    return undefined;
  };
  const { segments, unpriced } = adjustmentSegments(actions, { symbol, adjustment: options.adjustment, asOf: options.asOf, closeBefore });
  if (segments.length === 0) return { bars: [...bars], unpriced };
  const out: Bar[] = new Array<Bar>(bars.length);
  let j = 0;
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i] as Bar;
    while (j < segments.length && b.start >= (segments[j] as AdjustmentSegment).before) j++;
    const seg = segments[j];
    out[i] = seg === undefined ? b : scaleBar(b, seg.price, seg.volume);
  }
  return { bars: out, unpriced };
}

/**
 * `adjustBars` over bars of several symbols in time order (a warm-up's, a gap fill's): each symbol
 * adjusted on its own, the order kept.
 */
export function adjustAll(bars: readonly Bar[], actions: readonly CorporateAction[], options: { readonly adjustment: Adjustment; readonly asOf: string }): AdjustResult {
  if (options.adjustment === 'raw' || actions.length === 0) return { bars: [...bars], unpriced: [] };
  const bySymbol = new Map<string, number[]>();
  for (let i = 0; i < bars.length; i++) {
    const s = (bars[i] as Bar).symbol;
    const list = bySymbol.get(s);
    if (list === undefined) bySymbol.set(s, [i]);
    else list.push(i);
  }
  const out = [...bars];
  const unpriced: CorporateAction[] = [];
  for (const idx of bySymbol.values()) {
    const r = adjustBars(
      idx.map((i) => bars[i] as Bar),
      actions,
      options,
    );
    for (let k = 0; k < idx.length; k++) out[idx[k] as number] = r.bars[k] as Bar;
    unpriced.push(...r.unpriced);
  }
  return { bars: out, unpriced };
}

/** A bar with prices times `price` and volume times `volume` (a frozen bar, `isFrozenBar`). */
export function scaleBar(b: Bar, price: number, volume: number): Bar {
  return barFromValues(
    b.symbol,
    b.start,
    b.end - b.start,
    b.open * price,
    b.high * price,
    b.low * price,
    b.close * price,
    b.volume * volume,
    b.vwap === undefined ? Number.NaN : b.vwap * price,
    b.tradeCount ?? -1,
    b.receivedAt,
  );
}

/**
 * A digest of a set of actions (order-free): part of a cache key, so that a cache built before an
 * action was known is never served after (FNV-1a over the sorted lines, hex).
 */
export function actionsDigest(actions: readonly CorporateAction[]): string {
  const lines = actions.map((a) => `${actionKey(a)}|${a.priceBefore ?? ''}`).sort();
  let h = 0x811c9dc5;
  for (const line of lines) {
    for (let i = 0; i < line.length; i++) {
      h ^= line.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= 10;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * `feed.on('corporateAction', ...)`: an action takes effect for `symbol` before the first bar of its
 * ex-date session that the feed delivers (that bar is on the new basis). A data manager attached to
 * the feed rebases the symbol's history. `late`: the action became known only after bars of its
 * ex-date session had been delivered (those bars were already on the new basis; the history before
 * them is rebased now).
 */
export interface CorporateActionEvent {
  readonly type: 'corporateAction';
  readonly action: CorporateAction;
  readonly late: boolean;
}

/** Midnight New York at the start of `date` (`YYYY-MM-DD`): a bar starting at or after it is of that date or later. */
export function exDateStart(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return zonedTimeToEpoch(NEW_YORK, y, m, d);
}

/**
 * Which corporate actions are due as a feed delivers bars: per symbol, the actions whose ex-date the
 * feed has not yet passed, in ex-date order, so that one comparison a bar (`due`) tells when an
 * action must be announced, before the first bar of its ex-date. Every feed uses it, so replay,
 * live and NATS announce the same actions before the same bars.
 */
export class ExDateTracker {
  /** Per symbol: pending actions in ex-date order, and the first one's ex-date start. */
  readonly #pending = new Map<string, { actions: CorporateAction[]; next: number }>();
  /** Per symbol, the start of the last bar seen. */
  readonly #last = new Map<string, number>();
  readonly #known = new Set<string>();

  constructor(private readonly adjustment: Adjustment) {}

  /** Whether any action is pending (none: the feed skips the per-bar check). */
  get empty(): boolean {
    return this.#pending.size === 0;
  }

  /**
   * Adds actions (repeats ignored). Those whose ex-date the symbol's bars have passed already are
   * returned: due now, late.
   */
  add(actions: readonly CorporateAction[]): CorporateAction[] {
    const late: CorporateAction[] = [];
    for (const a of actions) {
      if (!adjusts(this.adjustment, a.kind)) continue;
      const key = actionKey(a);
      if (this.#known.has(key)) continue;
      this.#known.add(key);
      const at = exDateStart(a.exDate);
      const last = this.#last.get(a.symbol);
      if (last !== undefined && last >= at) {
        late.push(a);
        continue;
      }
      const p = this.#pending.get(a.symbol) ?? { actions: [], next: Number.POSITIVE_INFINITY };
      p.actions.push(a);
      p.actions.sort((x, y) => (x.exDate < y.exDate ? -1 : x.exDate > y.exDate ? 1 : 0));
      p.next = exDateStart((p.actions[0] as CorporateAction).exDate);
      this.#pending.set(a.symbol, p);
    }
    return late;
  }

  /**
   * The actions due before a bar of `symbol` starting at `start` (ex-date at or before the bar's
   * date, not yet announced), removed from the pending ones; usually none, in one lookup. Records
   * the bar as seen.
   */
  due(symbol: string, start: number): CorporateAction[] | undefined {
    const last = this.#last.get(symbol);
    if (last === undefined || start > last) this.#last.set(symbol, start);
    const p = this.#pending.get(symbol);
    if (p === undefined || start < p.next) return undefined;
    const out: CorporateAction[] = [];
    while (p.actions.length > 0 && exDateStart((p.actions[0] as CorporateAction).exDate) <= start) out.push(p.actions.shift() as CorporateAction);
    if (p.actions.length === 0) this.#pending.delete(symbol);
    else p.next = exDateStart((p.actions[0] as CorporateAction).exDate);
    return out;
  }

  /** Marks the bars up to `start` as seen for `symbol` without announcing (a warm-up's bars, already on the new basis). */
  seen(symbol: string, start: number): void {
    const last = this.#last.get(symbol);
    if (last === undefined || start > last) this.#last.set(symbol, start);
    const p = this.#pending.get(symbol);
    if (p === undefined) return;
    // Actions the seen bars are past were applied by the adjustment of those bars already.
    while (p.actions.length > 0 && exDateStart((p.actions[0] as CorporateAction).exDate) <= start) p.actions.shift();
    if (p.actions.length === 0) this.#pending.delete(symbol);
    else p.next = exDateStart((p.actions[0] as CorporateAction).exDate);
  }
}
