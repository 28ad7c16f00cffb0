import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { configIssues } from './options.js';
import { symbolSchema } from './symbol-name.js';

// One rule for a symbol everywhere (options, files, CLIs, the network): `symbol-name.ts`.
const symbolName = symbolSchema;

const symbolInfo = z.strictObject({
  description: z.string().min(1, 'must not be empty'),
  underlying: z.string().min(1, 'must not be empty'),
  leverage: z
    .number({ error: 'must be a number' })
    .refine((v) => Number.isFinite(v) && v !== 0, 'must be a finite, non-zero number')
    .refine((v) => Math.abs(v) <= 10, 'must be between -10 and 10'),
  expenseRatio: z
    .number({ error: 'must be a number' })
    .min(0, 'must be >= 0 (a yearly fraction: 0.0095 is 0.95 %)')
    .max(0.1, 'must be <= 0.1 (a yearly fraction: 0.0095 is 0.95 %)'),
  /** Optional per-symbol volume scale used by the synthetic generator. */
  volumeFactor: z.number().positive('must be > 0').optional(),
});

const correlations = z.strictObject({
  symbols: z.array(symbolName).min(1, 'must list at least one symbol'),
  matrix: z.array(z.array(z.number({ error: 'must be a number' }).min(-1, 'must be >= -1').max(1, 'must be <= 1'))),
});

const symbolConfigSchema = z
  .strictObject({
    version: z.literal(1, { error: 'must be 1' }),
    symbols: z.record(symbolName, symbolInfo).refine((r) => Object.keys(r).length > 0, 'must list at least one symbol'),
    correlations: correlations.optional(),
  })
  .superRefine((cfg, ctx) => {
    const c = cfg.correlations;
    if (c === undefined) return;
    const n = c.symbols.length;
    const seen = new Set<string>();
    c.symbols.forEach((s, i) => {
      if (seen.has(s)) ctx.addIssue({ code: 'custom', path: ['correlations', 'symbols', i], message: `'${s}' is listed twice` });
      seen.add(s);
      if (!(s in cfg.symbols)) {
        ctx.addIssue({ code: 'custom', path: ['correlations', 'symbols', i], message: `'${s}' is not in symbols` });
      }
    });
    if (c.matrix.length !== n) {
      ctx.addIssue({ code: 'custom', path: ['correlations', 'matrix'], message: `must have ${n} rows (one per symbol), has ${c.matrix.length}` });
      return;
    }
    c.matrix.forEach((row, i) => {
      if (row.length !== n) {
        ctx.addIssue({ code: 'custom', path: ['correlations', 'matrix', i], message: `must have ${n} columns, has ${row.length}` });
        return;
      }
      if (row[i] !== 1) ctx.addIssue({ code: 'custom', path: ['correlations', 'matrix', i, i], message: 'the diagonal must be 1' });
      for (let j = 0; j < i; j++) {
        const upper = c.matrix[j]?.[i];
        if (upper !== undefined && row[j] !== upper) {
          ctx.addIssue({
            code: 'custom',
            path: ['correlations', 'matrix', i, j],
            message: `must equal matrix[${j}][${i}] (${upper}): the matrix must be symmetric`,
          });
        }
      }
    });
  });

/** One symbol of the configuration: description, underlying, leverage, expense ratio. */
export type SymbolInfo = z.infer<typeof symbolInfo>;
/** A validated symbol configuration: the symbols and their correlation matrix. */
export type SymbolConfig = z.infer<typeof symbolConfigSchema>;

/** The zod schema of the symbol configuration file. */
export const SymbolConfigSchema: z.ZodType<SymbolConfig> = symbolConfigSchema;

/** `symbols.TQQQ.leverage`, `correlations.matrix[2][3]`. */
/**
 * Validates a parsed symbol configuration. Throws a `ConfigError` that lists every problem as
 * `path: message` (for example `symbols.SDS.leverage: must be a finite, non-zero number`).
 */
export function parseSymbolConfig(input: unknown, source = 'symbol configuration'): SymbolConfig {
  const result = symbolConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = configIssues(result.error);
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  throw new ConfigError({ message: `${source} is invalid:\n${lines}`, issues, source, cause: result.error });
}

/** Reads and validates a symbol configuration JSON file; errors name the file, the field and the problem. */
export async function loadSymbolConfig(path: string): Promise<SymbolConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError({ message: `cannot read ${path}: ${(error as Error).message}`, source: path, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError({ message: `${path} is not valid JSON: ${(error as Error).message}`, source: path, cause: error });
  }
  return parseSymbolConfig(json, path);
}

/** The six leveraged ETFs of the first users, in their usual order. */
export const DEFAULT_SYMBOLS = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'] as const;

/**
 * The default universe. Leverage of the volatility ETFs is approximate (UVXY targets 1.5x and SVIX
 * -1x the daily move of short-term VIX futures). Correlations are of minute returns, measured on
 * the real April-October 2025 files over the minutes both symbols traded (UPRO, which has no real
 * file, takes SPY's: a constant multiple has the same correlation).
 */
export const DEFAULT_SYMBOL_CONFIG: SymbolConfig = parseSymbolConfig(
  {
    version: 1,
    symbols: {
      TQQQ: { description: 'ProShares UltraPro QQQ (3x Nasdaq-100)', underlying: 'QQQ', leverage: 3, expenseRatio: 0.0084 },
      SQQQ: { description: 'ProShares UltraPro Short QQQ (-3x Nasdaq-100)', underlying: 'QQQ', leverage: -3, expenseRatio: 0.0095 },
      UPRO: { description: 'ProShares UltraPro S&P 500 (3x S&P 500)', underlying: 'SPY', leverage: 3, expenseRatio: 0.0091 },
      SDS: { description: 'ProShares UltraShort S&P 500 (-2x S&P 500)', underlying: 'SPY', leverage: -2, expenseRatio: 0.0089 },
      UVXY: { description: 'ProShares Ultra VIX Short-Term Futures (1.5x)', underlying: 'VIX_FUTURES', leverage: 1.5, expenseRatio: 0.0095 },
      SVIX: { description: '-1x Short VIX Futures ETF', underlying: 'VIX_FUTURES', leverage: -1, expenseRatio: 0.0147 },
    },
    correlations: {
      symbols: ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'],
      matrix: [
        [1, -0.97, 0.95, -0.9, -0.81, 0.78],
        [-0.97, 1, -0.93, 0.91, 0.8, -0.74],
        [0.95, -0.93, 1, -0.9, -0.8, 0.77],
        [-0.9, 0.91, -0.9, 1, 0.79, -0.75],
        [-0.81, 0.8, -0.8, 0.79, 1, -0.91],
        [0.78, -0.74, 0.77, -0.75, -0.91, 1],
      ],
    },
  },
  'default symbol configuration',
);

/** The symbols of a configuration, in file order. */
export function symbolsOf(config: SymbolConfig): string[] {
  return Object.keys(config.symbols);
}
