/** The CSV layouts the replay understands, recognized by header name. */
export type CsvFormat = 'real' | 'original' | 'alpaca';

/** Which columns each layout needs (the time column first, then open, high, low, close, volume). */
export const CSV_COLUMNS: Readonly<Record<CsvFormat, readonly string[]>> = {
  real: ['ts_nyt_epoch', 'open', 'high', 'low', 'close', 'volume'],
  original: ['timestamp', 'open', 'high', 'low', 'close', 'volume'],
  alpaca: ['t', 'o', 'h', 'l', 'c', 'v'],
};

/**
 * Finds the layout of a header row (names are trimmed and compared case-insensitively; a BOM and
 * extra columns are fine). Returns the format and the index of each needed column, or the list of
 * missing columns of the closest layout.
 */
export function detectCsvFormat(
  header: readonly string[],
): { ok: true; format: CsvFormat; indices: number[] } | { ok: false; missing: string[]; closest: CsvFormat } {
  const names = header.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim().toLowerCase());
  let best: { format: CsvFormat; missing: string[] } | undefined;
  for (const format of ['real', 'original', 'alpaca'] as const) {
    const indices = CSV_COLUMNS[format].map((c) => names.indexOf(c));
    const missing = CSV_COLUMNS[format].filter((_, i) => indices[i] === -1);
    if (missing.length === 0) return { ok: true, format, indices };
    if (best === undefined || missing.length < best.missing.length) best = { format, missing };
  }
  const b = best as { format: CsvFormat; missing: string[] };
  return { ok: false, missing: b.missing, closest: b.format };
}
