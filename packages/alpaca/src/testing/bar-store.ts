import type { Bar } from '@feed/core';

/** Bars per symbol in start order; a bar with the start of a stored one replaces it (a revision). */
export class BarStore {
  readonly #bySymbol = new Map<string, Bar[]>();

  put(bar: Bar): void {
    let list = this.#bySymbol.get(bar.symbol);
    if (list === undefined) {
      list = [];
      this.#bySymbol.set(bar.symbol, list);
    }
    const last = list[list.length - 1];
    if (last === undefined || last.start < bar.start) {
      list.push(bar);
      return;
    }
    const i = lowerBound(list, bar.start);
    if (list[i]?.start === bar.start) list[i] = bar;
    else list.splice(i, 0, bar);
  }

  bars(symbol: string): readonly Bar[] {
    return this.#bySymbol.get(symbol) ?? [];
  }

  /** Bars of `symbol` with `from <= start <= to`. */
  range(symbol: string, from: number, to: number): readonly Bar[] {
    const list = this.#bySymbol.get(symbol) ?? [];
    const i = lowerBound(list, from);
    let j = i;
    while (j < list.length && (list[j] as Bar).start <= to) j++;
    return list.slice(i, j);
  }
}

function lowerBound(list: readonly Bar[], start: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as Bar).start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
