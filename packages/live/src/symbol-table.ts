/**
 * Per-symbol state of a live feed in dense arrays, by the feed's symbol index (core's
 * `indexOfSymbol`): a bar costs one map lookup in all, not one per field or per counter.
 */
export class SymbolTable {
  /** Start of the last minute bar delivered, or NaN. */
  lastStart = new Float64Array(16).fill(Number.NaN);
  latencyCount = new Float64Array(16);
  latencySum = new Float64Array(16);
  latencyMax = new Float64Array(16);

  constructor(private readonly indexOf: (symbol: string) => number) {}

  /** The symbol's index, with room in every array. */
  index(symbol: string): number {
    const i = this.indexOf(symbol);
    if (i >= this.lastStart.length) this.#grow(i + 1);
    return i;
  }

  /** The last delivered minute bar's start, or undefined. */
  lastStartOf(symbol: string): number | undefined {
    const v = this.lastStart[this.index(symbol)] as number;
    return Number.isNaN(v) ? undefined : v;
  }

  #grow(min: number): void {
    let n = this.lastStart.length * 2;
    while (n < min) n *= 2;
    const grow = (a: Float64Array, fill: number): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(new ArrayBuffer(n * 8)).fill(fill);
      b.set(a);
      return b;
    };
    this.lastStart = grow(this.lastStart, Number.NaN);
    this.latencyCount = grow(this.latencyCount, 0);
    this.latencySum = grow(this.latencySum, 0);
    this.latencyMax = grow(this.latencyMax, 0);
  }
}
