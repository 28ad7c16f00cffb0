import type { RejectReason } from '@feed/core';
import { REJECT_REASONS } from '@feed/core';
import type { SymbolQuality } from './types.js';

// The field table: numbers kept per symbol, at `index * NUM_FIELDS + field` in one Float64Array for
// all symbols. Object fields holding doubles would each be a separate heap number, scattered in
// memory: with 10 000 symbols, a cache miss per field per update.
export const LATEST_START = 0; // data, not a statistic: kept by reset()
/**
 * Outcomes of a warm-up that are not updates (its rejections, duplicates and revisions, counted in
 * those fields too): `updates` is derived, every update having exactly one outcome.
 */
export const WARMUP_OTHER = 1;
export const ACCEPTED = 2;
export const DUPLICATES = 3;
export const REVISIONS = 4;
const REJECTED = 5;
export const LATE_BARS = 6;
// Slices are one counter for all symbols (`SymbolStats.slices`): each slice counts for every symbol.
export const FORWARD_FILLED = 7;
export const INVALID_SLICES = 8;
export const LATENCY_SUM = 9;
// The latency's count is ACCEPTED: every accepted bar has a latency, and only those.
export const LATENCY_MAX = 10;
export const AGE_SUM = 11;
export const AGE_COUNT = 12;
export const HALTED_SLICES = 13;
export const WARMUP_BARS = 14;
export const RECOVERED = 15;
export const CORPORATE_ACTIONS = 16;
export const NUM_FIELDS = 17;

const REASON_INDEX = new Map<RejectReason, number>(REJECT_REASONS.map((r, i) => [r, i]));

/** Every symbol's counters, and rejections by reason (allocated on a symbol's first rejection). */
export class SymbolStats {
  readonly num: Float64Array;
  /**
   * Slices every symbol had its bar for (fill 0, age 0): counted here once rather than in every
   * symbol's AGE_COUNT, which reads with it added.
   */
  completeSlices = 0;
  /** Slices emitted: every symbol's `slices` (each slice counts for every symbol, halted or not). */
  slices = 0;
  private readonly byReason: (Uint32Array | undefined)[];

  constructor(readonly count: number) {
    this.num = new Float64Array(count * NUM_FIELDS);
    this.byReason = new Array<Uint32Array | undefined>(count).fill(undefined);
    for (let i = 0; i < count; i++) {
      this.num[i * NUM_FIELDS + LATEST_START] = Number.NEGATIVE_INFINITY;
      this.reset(i);
    }
  }

  /** Zeroes symbol `i`'s counters; its latest start is kept. */
  reset(i: number): void {
    const k = i * NUM_FIELDS;
    this.num.fill(0, k + 1, k + NUM_FIELDS);
    this.num[k + LATENCY_MAX] = Number.NEGATIVE_INFINITY;
    this.byReason[i] = undefined;
  }

  /** Counts a rejection of symbol `i`. */
  reject(i: number, reason: RejectReason): void {
    this.num[i * NUM_FIELDS + REJECTED] = (this.num[i * NUM_FIELDS + REJECTED] as number) + 1;
    const counts = (this.byReason[i] ??= new Uint32Array(REJECT_REASONS.length));
    const r = REASON_INDEX.get(reason) as number;
    counts[r] = (counts[r] as number) + 1;
  }

  /** Symbol `i`'s counters as `SymbolQuality`. */
  quality(i: number): SymbolQuality {
    return toQuality(this.num.subarray(i * NUM_FIELDS, (i + 1) * NUM_FIELDS), this.byReason[i], this.completeSlices, this.slices);
  }

  /**
   * The sum over all symbols, plus rejections that belong to no symbol (unknown names, non-objects),
   * which count as updates and rejections too.
   */
  total(unattributed: Partial<Record<RejectReason, number>>): SymbolQuality {
    const sum = new Float64Array(NUM_FIELDS);
    sum[LATENCY_MAX] = Number.NEGATIVE_INFINITY;
    const reasons = new Uint32Array(REJECT_REASONS.length);
    for (let i = 0; i < this.count; i++) {
      const k = i * NUM_FIELDS;
      for (let f = 1; f < NUM_FIELDS; f++) {
        const v = this.num[k + f] as number;
        if (f === LATENCY_MAX) {
          if (v > (sum[f] as number)) sum[f] = v;
        } else sum[f] = (sum[f] as number) + v;
      }
      const counts = this.byReason[i];
      if (counts !== undefined) for (let r = 0; r < counts.length; r++) reasons[r] = (reasons[r] as number) + (counts[r] as number);
    }
    for (const [reason, n] of Object.entries(unattributed) as [RejectReason, number][]) {
      sum[REJECTED] = (sum[REJECTED] as number) + n;
      const r = REASON_INDEX.get(reason) as number;
      reasons[r] = (reasons[r] as number) + n;
    }
    return toQuality(sum, reasons, this.completeSlices * this.count, this.slices * this.count);
  }
}

/** `complete`: slices counted in `completeSlices`, added to AGE_COUNT (their age is 0); `slices`: the slices counted. */
function toQuality(f: Float64Array, counts: Uint32Array | undefined, complete: number, slices: number): SymbolQuality {
  const byReason: Partial<Record<RejectReason, number>> = {};
  for (let i = 0; counts !== undefined && i < counts.length; i++) {
    const n = counts[i] as number;
    if (n > 0) byReason[REJECT_REASONS[i] as RejectReason] = n;
  }
  const latencyCount = f[ACCEPTED] as number;
  const ageCount = (f[AGE_COUNT] as number) + complete;
  return {
    updates: (f[ACCEPTED] as number) + (f[DUPLICATES] as number) + (f[REVISIONS] as number) + (f[REJECTED] as number) - (f[WARMUP_OTHER] as number),
    accepted: f[ACCEPTED] as number,
    duplicates: f[DUPLICATES] as number,
    revisions: f[REVISIONS] as number,
    rejected: f[REJECTED] as number,
    rejectedByReason: byReason,
    lateBars: f[LATE_BARS] as number,
    slices,
    forwardFilledIntervals: f[FORWARD_FILLED] as number,
    invalidSlices: f[INVALID_SLICES] as number,
    haltedSlices: f[HALTED_SLICES] as number,
    warmUpBars: f[WARMUP_BARS] as number,
    recoveredBars: f[RECOVERED] as number,
    corporateActions: f[CORPORATE_ACTIONS] as number,
    avgLatencyMs: latencyCount === 0 ? null : (f[LATENCY_SUM] as number) / latencyCount,
    maxLatencyMs: latencyCount === 0 ? null : (f[LATENCY_MAX] as number),
    avgAgeMs: ageCount === 0 ? null : (f[AGE_SUM] as number) / ageCount,
  };
}
