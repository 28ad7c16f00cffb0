/**
 * Per-symbol state of a live feed in dense arrays: each symbol gets an index once (at subscription
 * or first sight), and a bar costs one map lookup, not one per field.
 */
export class SymbolTable {
  readonly #index = new Map<string, number>();
  readonly #names: string[] = [];
  /** Start of the last minute bar delivered, or NaN. */
  lastStart = new Float64Array(16).fill(Number.NaN);
  latencyCount = new Float64Array(16);
  latencySum = new Float64Array(16);
  latencyMax = new Float64Array(16);

  get size(): number {
    return this.#names.length;
  }

  /** The symbol's index, added when new. */
  indexOf(symbol: string): number {
    const i = this.#index.get(symbol);
    if (i !== undefined) return i;
    const n = this.#names.length;
    if (n === this.lastStart.length) this.#grow();
    this.#index.set(symbol, n);
    this.#names.push(symbol);
    return n;
  }

  /** The symbol's index, or undefined when it was never seen. */
  find(symbol: string): number | undefined {
    return this.#index.get(symbol);
  }

  nameOf(index: number): string {
    return this.#names[index] as string;
  }

  /** The last delivered minute bar's start, or undefined. */
  lastStartOf(symbol: string): number | undefined {
    const i = this.#index.get(symbol);
    if (i === undefined) return undefined;
    const v = this.lastStart[i] as number;
    return Number.isNaN(v) ? undefined : v;
  }

  #grow(): void {
    const n = this.lastStart.length * 2;
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
