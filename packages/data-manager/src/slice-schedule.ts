/**
 * When slices close (semantics.md, "Slices"): the boundaries (bar ends) that have bars but no slice
 * yet, in order, with how many symbols delivered each, and the rule that closes them. `emit` is
 * called once per closed boundary, in order; an `emit` that feeds more bars (a listener calling
 * `update`) is picked up by the same loop.
 *
 * The pending boundaries are a ring of two typed arrays (ends, counts): a minute costs no
 * allocation, and taking the oldest moves an index (almost always one or two are pending).
 */
export class SliceSchedule<T = unknown> {
  private ends = new Float64Array(16);
  private counts = new Int32Array(16);
  /** Physical slot of the oldest pending boundary, and how many are pending. */
  private head = 0;
  private size = 0;
  /** The newest pending boundary and its slot (NaN when none: equal to no end). */
  private newestEnd = Number.NaN;
  private newestSlot = 0;
  /** Pending boundaries every symbol has counted for. */
  private completePending = 0;
  /**
   * The oldest pending boundary (+Infinity when none): `close(now)` can close nothing while `now` is
   * before it, which the manager checks before calling.
   */
  nextEnd = Number.POSITIVE_INFINITY;
  private emitting = false;
  /** The last boundary emitted. */
  lastEmitted = Number.NEGATIVE_INFINITY;

  /**
   * `emit(owner, end, complete)` is called once per closed boundary (`complete`: every symbol counted
   * for it, and none for a later one); `owner` is passed back rather than bound in a closure, so that
   * every schedule calls the same function.
   */
  constructor(
    private readonly symbolCount: number,
    private readonly graceMs: number,
    private readonly owner: T,
    private readonly emit: (owner: T, end: number, complete: boolean) => void,
  ) {}

  /** Boundaries pending (for tests). */
  get pendingCount(): number {
    return this.size;
  }

  /** The physical slot of pending boundary `i` (0 = oldest). */
  private slot(i: number): number {
    const s = this.head + i;
    return s < this.ends.length ? s : s - this.ends.length;
  }

  /**
   * Counts one more symbol for the boundary `end` (kept sorted; almost always the newest one). Small
   * on purpose: the manager's `update` inlines it, and the compiler's inlining budget is shared.
   */
  count(end: number): void {
    if (end === this.newestEnd) {
      const s = this.newestSlot;
      const c = (this.counts[s] as number) + 1;
      this.counts[s] = c;
      if (c === this.symbolCount) this.completePending++;
    } else this.countOther(end);
  }

  /**
   * Whether `close(now, ...)` may close a boundary: the clock has reached the oldest, and some
   * pending boundary is complete or the oldest's grace has passed. Never false when one would close
   * (a boundary past its grace means the oldest is too); the manager asks before calling `close`
   * for each bar, which in a replay (the clock already at the bar's end) is most bars.
   */
  mayClose(now: number): boolean {
    return now >= this.nextEnd && (this.completePending > 0 || now >= this.nextEnd + this.graceMs);
  }

  /** `end` is not the newest pending boundary: a new newest one, or an earlier one. */
  private countOther(end: number): void {
    const n = this.size;
    if (n > 0 && this.newestEnd > end) {
      this.countEarlier(end);
      return;
    }
    if (n === this.ends.length) this.grow();
    const s = this.slot(n);
    this.ends[s] = end;
    this.counts[s] = 1;
    if (this.symbolCount === 1) this.completePending++;
    this.size = n + 1;
    this.newestEnd = end;
    this.newestSlot = s;
    if (n === 0) this.nextEnd = end;
  }

  /** `end` is before the newest pending boundary: counted in place, or inserted in order. */
  private countEarlier(end: number): void {
    let i = this.size - 1;
    while (i >= 0 && (this.ends[this.slot(i)] as number) > end) i--;
    if (i >= 0 && this.ends[this.slot(i)] === end) {
      const s = this.slot(i);
      const c = (this.counts[s] as number) + 1;
      this.counts[s] = c;
      if (c === this.symbolCount) this.completePending++;
      return;
    }
    if (this.size === this.ends.length) this.grow();
    // Shift the later ones up by one, then write at i + 1.
    for (let j = this.size; j > i + 1; j--) {
      const to = this.slot(j);
      const from = this.slot(j - 1);
      this.ends[to] = this.ends[from] as number;
      this.counts[to] = this.counts[from] as number;
    }
    const s = this.slot(i + 1);
    this.ends[s] = end;
    this.counts[s] = 1;
    if (this.symbolCount === 1) this.completePending++;
    this.size++;
    this.newestSlot = this.slot(this.size - 1);
    this.nextEnd = this.ends[this.head] as number;
  }

  private grow(): void {
    const ends = new Float64Array(this.ends.length * 2);
    const counts = new Int32Array(this.ends.length * 2);
    for (let i = 0; i < this.size; i++) {
      const s = this.slot(i);
      ends[i] = this.ends[s] as number;
      counts[i] = this.counts[s] as number;
    }
    this.ends = ends;
    this.counts = counts;
    this.head = 0;
    this.newestSlot = this.size - 1;
  }

  /**
   * Emits, in order, every pending boundary that has closed at `now`: the clock has reached it and
   * either every symbol has delivered its bar or the grace has passed. A boundary before one that
   * closed closes too (no symbol can still deliver it in order). Boundaries at or after `holdFrom`
   * close only when complete.
   */
  close(now: number, holdFrom = Number.POSITIVE_INFINITY): void {
    // The common case: nothing closes.
    if (now < this.nextEnd || this.emitting) return;
    this.emitting = true;
    try {
      for (;;) {
        let k = -1;
        for (let i = 0; i < this.size; i++) {
          const s = this.slot(i);
          const end = this.ends[s] as number;
          if (now < end) break;
          if ((this.counts[s] as number) >= this.symbolCount || (now >= end + this.graceMs && end < holdFrom)) k = i;
        }
        if (k < 0) return;
        this.emitNext();
      }
    } finally {
      this.emitting = false;
    }
  }

  /** Closes every pending boundary at or before `now` without waiting for the grace. */
  flush(now: number): void {
    while (this.size > 0 && this.nextEnd <= now) this.emitNext();
  }

  private emitNext(): void {
    const s = this.head;
    const end = this.ends[s] as number;
    const count = this.counts[s] as number;
    if (count >= this.symbolCount) this.completePending--;
    this.head = s + 1 === this.ends.length ? 0 : s + 1;
    this.size--;
    if (this.size === 0) {
      this.nextEnd = Number.POSITIVE_INFINITY;
      this.newestEnd = Number.NaN;
    } else this.nextEnd = this.ends[this.head] as number;
    this.lastEmitted = end;
    // Complete: every symbol delivered this boundary's bar, and no later boundary has a bar yet.
    this.emit(this.owner, end, count >= this.symbolCount && this.size === 0);
  }
}
