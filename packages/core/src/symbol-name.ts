import { z } from 'zod';
import { ConfigError } from './errors.js';

/** The longest symbol accepted anywhere (options, files, the network): longer ones are refused. */
export const MAX_SYMBOL_LENGTH = 21;

/**
 * A ticker: uppercase letters and digits, with `.` and `-` inside (`BRK.B`, `BF-B`), and one `/`
 * between two such parts for a provider's crypto or currency pairs (`BTC/USD`); 1 to 21 characters.
 * Nothing else: no lowercase, no `_`, no spaces, no `..`, no leading `.` or `-`, so that a symbol
 * can never name a path, a prototype key (`__proto__`, `constructor`) or a hidden file.
 */
const TICKER = /^[A-Z0-9][A-Z0-9.-]*(?:\/[A-Z0-9][A-Z0-9.-]*)?$/;

/** Why `symbol` is not a ticker (see `isSymbol`), or `undefined` when it is one. */
export function symbolProblem(symbol: unknown): string | undefined {
  if (typeof symbol !== 'string') return `must be a string, not ${symbol === null ? 'null' : typeof symbol}`;
  if (symbol.length === 0) return 'must not be empty';
  if (symbol.length > MAX_SYMBOL_LENGTH) return `must be at most ${MAX_SYMBOL_LENGTH} characters (has ${symbol.length})`;
  if (!TICKER.test(symbol)) return 'must be a ticker: uppercase letters and digits, with . or - inside and at most one / (BRK.B, BTC/USD)';
  return undefined;
}

/** Whether `symbol` is a ticker this project accepts (see `symbolProblem` for the rule). */
export function isSymbol(symbol: unknown): symbol is string {
  return symbolProblem(symbol) === undefined;
}

/** A short, printable form of untrusted text for an error message (at most 40 characters, control characters escaped). */
export function quoteSymbol(symbol: unknown): string {
  const text = typeof symbol === 'string' ? symbol : String(symbol);
  const cut = text.length > 40 ? `${text.slice(0, 40)}... (${text.length} characters)` : text;
  return JSON.stringify(cut);
}

/**
 * Checks every symbol at a boundary (a CLI flag, a configuration file, a feed's options) and returns
 * them; the first bad one is a `ConfigError` naming it, where it came from (`source`, `path`) and why.
 */
export function checkSymbols(symbols: readonly unknown[], source: string, path = 'symbols'): string[] {
  const issues = symbols.flatMap((s, i) => {
    const problem = symbolProblem(s);
    return problem === undefined ? [] : [{ path: `${path}[${i}]`, message: `${quoteSymbol(s)} ${problem}` }];
  });
  if (issues.length > 0) {
    throw new ConfigError({
      code: 'invalid_option',
      message: `${source}: bad symbol${issues.length > 1 ? 's' : ''}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      issues,
      source,
    });
  }
  return symbols as string[];
}

/** The zod schema of one symbol (the rule of `symbolProblem`), for option and file schemas. */
export const symbolSchema: z.ZodType<string> = z.string('must be a symbol (a string)').superRefine((s, ctx) => {
  const problem = symbolProblem(s);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${quoteSymbol(s)} ${problem}` });
});

/**
 * The file name of a symbol's data: the symbol itself, with a pair's `/` written as `_` (`BTC_USD`),
 * which no ticker contains, so two symbols never share a name. Throws a `ConfigError` for anything
 * that is not a ticker: a file name is only ever built from a checked symbol.
 */
export function symbolFileName(symbol: string, extension: string): string {
  checkSymbols([symbol], 'file name');
  return `${symbol.replace('/', '_')}.${extension}`;
}
