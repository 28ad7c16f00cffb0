/** A minute boundary (a bar end) that has bars but no slice yet, and how many symbols delivered it. */
interface PendingBoundary {
  readonly end: number;
  count: number;
}

/**
 * When slices close (semantics.md, "Slices"): the boundaries that have bars but no slice yet, in
 * order, and the rule that closes them. `emit(end)` is called once per closed boundary, in order; an
 * `emit` that feeds more bars (a listener calling `update`) is picked up by the same loop.
 */
export class SliceSchedule {
  private readonly pending: PendingBoundary[] = [];
  private emitting = false;
  /** The last boundary emitted. */
  lastEmitted = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly symbolCount: number,
    private readonly graceMs: number,
    private readonly emit: (end: number) => void,
  ) {}

  /** Counts one more symbol for the boundary `end` (kept sorted; almost always the last one). */
  count(end: number): void {
    const p = this.pending;
    let i = p.length - 1;
    while (i >= 0 && (p[i] as PendingBoundary).end > end) i--;
    if (i >= 0 && (p[i] as PendingBoundary).end === end) (p[i] as PendingBoundary).count++;
    else p.splice(i + 1, 0, { end, count: 1 });
  }

  /**
   * Emits, in order, every pending boundary that has closed at `now`: the clock has reached it and
   * either every symbol has delivered its bar or the grace has passed. A boundary before one that
   * closed closes too (no symbol can still deliver it in order). Boundaries at or after `holdFrom`
   * close only when complete.
   */
  close(now: number, holdFrom = Number.POSITIVE_INFINITY): void {
    const first = this.pending[0];
    if (first === undefined || now < first.end || this.emitting) return; // the common case: nothing closes
    this.emitting = true;
    try {
      for (;;) {
        const p = this.pending;
        let k = -1;
        for (let i = 0; i < p.length; i++) {
          const b = p[i] as PendingBoundary;
          if (now < b.end) break;
          if (b.count >= this.symbolCount || (now >= b.end + this.graceMs && b.end < holdFrom)) k = i;
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
    while (this.pending.length > 0 && (this.pending[0] as PendingBoundary).end <= now) this.emitNext();
  }

  private emitNext(): void {
    const b = this.pending.shift() as PendingBoundary;
    this.lastEmitted = b.end;
    this.emit(b.end);
  }
}
