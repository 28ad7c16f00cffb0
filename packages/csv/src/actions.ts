import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { CorporateAction, CorporateActionKind, CorporateActions, CorporateActionsRequest } from '@feed/core';
import { CORPORATE_ACTION_KINDS, ConfigError, CsvError, makeCorporateAction } from '@feed/core';
import { writeAtomically } from './arrow.js';

/**
 * The columns of a corporate-action file (`TQQQ.actions.csv` beside `TQQQ.csv`): one action per
 * line. `ratio` for splits (new shares per old), `amount` (and optionally `price_before`) for cash
 * dividends; the other cells empty.
 */
export const ACTION_COLUMNS = ['symbol', 'kind', 'ex_date', 'ratio', 'amount', 'price_before', 'source'] as const;

/** The actions file of a bar file: `dir/TQQQ.csv` (or `.arrow`) -> `dir/TQQQ.actions.csv`. */
export function actionFilePath(barFile: string): string {
  return barFile.replace(/\.(csv|arrow)$/i, '') + '.actions.csv';
}

/** Whether `barFile` has an actions file beside it. */
export function hasActionFile(barFile: string): boolean {
  return existsSync(actionFilePath(barFile));
}

const cell = (v: number | undefined): string => (v === undefined ? '' : String(v));
const quote = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The file's text for `actions`, by ex-date. */
export function actionsCsv(actions: readonly CorporateAction[]): string {
  const lines = [ACTION_COLUMNS.join(',')];
  for (const a of [...actions].sort((x, y) => (x.exDate < y.exDate ? -1 : x.exDate > y.exDate ? 1 : x.symbol < y.symbol ? -1 : 1))) {
    lines.push([quote(a.symbol), a.kind, a.exDate, cell(a.ratio), cell(a.amount), cell(a.priceBefore), quote(a.source)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Writes an actions file (atomically). */
export async function writeActionsCsv(path: string, actions: readonly CorporateAction[]): Promise<void> {
  await writeAtomically(path, Buffer.from(actionsCsv(actions)));
}

/** What `readActionsCsv` found: the good actions, and each bad line as a typed error. */
export interface ActionsReport {
  readonly actions: CorporateAction[];
  readonly errors: CsvError[];
}

/** Parses an actions file's text (`file` names it in errors): bad lines are `CsvError`s with file and line, never thrown. */
export function parseActionsCsv(text: string, file: string): ActionsReport {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').trim();
  if (header !== ACTION_COLUMNS.join(',')) {
    throw new CsvError({ code: 'csv_column', message: `not a corporate-action file: the header must be ${ACTION_COLUMNS.join(',')} (got ${JSON.stringify(header.slice(0, 120))})`, file, line: 1 });
  }
  const actions: CorporateAction[] = [];
  const errors: CsvError[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line.trim() === '') continue;
    let cells: string[];
    try {
      const rows: string[][] = parse(line);
      cells = rows[0] ?? [];
    } catch (error) {
      errors.push(new CsvError({ code: 'csv_row', message: `unreadable line (${(error as Error).message.slice(0, 80)})`, file, line: n + 1 }));
      continue;
    }
    if (cells.length !== ACTION_COLUMNS.length) {
      errors.push(new CsvError({ code: 'csv_row', message: `${cells.length} fields, expected ${ACTION_COLUMNS.length}`, file, line: n + 1 }));
      continue;
    }
    const [symbol, kind, exDate, ratio, amount, before, source] = cells as [string, string, string, string, string, string, string];
    const num = (v: string): number | undefined => (v === '' ? undefined : Number(v));
    try {
      if (!CORPORATE_ACTION_KINDS.includes(kind as CorporateActionKind)) throw new ConfigError({ code: 'invalid_option', message: `kind '${kind.slice(0, 20)}' is not one of ${CORPORATE_ACTION_KINDS.join(', ')}`, issues: [{ path: 'kind', message: 'unknown' }] });
      const r = num(ratio);
      const a = num(amount);
      const p = num(before);
      actions.push(makeCorporateAction({ symbol, kind: kind as CorporateActionKind, exDate, source: source === '' ? 'file' : source, ...(r === undefined ? {} : { ratio: r }), ...(a === undefined ? {} : { amount: a }), ...(p === undefined ? {} : { priceBefore: p }) }));
    } catch (error) {
      const e = error as ConfigError;
      errors.push(new CsvError({ code: 'csv_row', message: e.message, file, line: n + 1, column: e.issues?.[0]?.path }));
    }
  }
  return { actions, errors };
}

/** Reads an actions file (a missing or unreadable file, or a wrong header, is thrown as a `CsvError`). */
export async function readActionsCsv(path: string): Promise<ActionsReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CsvError({ code: 'csv_file', message: `cannot read the corporate-action file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, file: path, cause: error });
  }
  return parseActionsCsv(text, path);
}

/**
 * Actions files as a `CorporateActions` source (`{ SYMBOL: path }`): what a replay, a warm-up or the
 * download reads offline. A bad line is told to `onError` (file and line) and skipped.
 */
export class FileCorporateActions implements CorporateActions {
  constructor(
    private readonly files: Readonly<Record<string, string>>,
    private readonly onError: (error: CsvError) => void = () => undefined,
  ) {}

  async actionsBySymbol(request: CorporateActionsRequest): Promise<Map<string, CorporateAction[]>> {
    const out = new Map<string, CorporateAction[]>();
    for (const symbol of request.symbols) {
      const path = this.files[symbol];
      if (path === undefined || !existsSync(path)) continue;
      const { actions, errors } = await readActionsCsv(path);
      for (const e of errors) this.onError(e);
      out.set(symbol, actions.filter((a) => a.symbol === symbol && a.exDate >= request.from && a.exDate <= request.to));
    }
    return out;
  }
}
