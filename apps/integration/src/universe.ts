import type { SymbolConfig } from '@feed/core';
import { symbolsOf } from '@feed/core';

/** One line per configured symbol: name, leverage, underlying and description. */
export function describeUniverse(config: SymbolConfig): string[] {
  return symbolsOf(config).map((s) => {
    const info = config.symbols[s];
    if (info === undefined) return s;
    const lev = `${info.leverage > 0 ? '+' : ''}${info.leverage}x`;
    return `${s.padEnd(6)} ${lev.padStart(6)} ${info.underlying.padEnd(12)} ${info.description}`;
  });
}
