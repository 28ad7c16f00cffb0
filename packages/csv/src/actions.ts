import { existsSync } from 'node:fs';
import type { CorporateAction, CorporateActionKind, CorporateActions, CorporateActionsRequest } from '@feed/core';
import { CORPORATE_ACTION_KINDS, ConfigError, CsvError, makeCorporateAction } from '@feed/core';
import { writeAtomically } from './arrow.js';
import { readSidecarText, sidecarCell, sidecarRows } from './sidecar.js';

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

/** The file's text for `actions`, by ex-date. */
export function actionsCsv(actions: readonly CorporateAction[]): string {
  const lines = [ACTION_COLUMNS.join(',')];
  for (const a of [...actions].sort((x, y) => (x.exDate < y.exDate ? -1 : x.exDate > y.exDate ? 1 : x.symbol < y.symbol ? -1 : 1))) {
    lines.push([sidecarCell(a.symbol), a.kind, a.exDate, cell(a.ratio), cell(a.amount), cell(a.priceBefore), sidecarCell(a.source)].join(','));
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
  const { rows, errors } = sidecarRows(text, file, ACTION_COLUMNS, 'corporate-action file');
  const actions: CorporateAction[] = [];
  for (const { cells, line } of rows) {
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
      errors.push(new CsvError({ code: 'csv_row', message: e.message, file, line, column: e.issues?.[0]?.path }));
    }
  }
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { actions, errors };
}

/** Reads an actions file (a missing or unreadable file, or a wrong header, is thrown as a `CsvError`). */
export async function readActionsCsv(path: string): Promise<ActionsReport> {
  return parseActionsCsv(await readSidecarText(path, 'corporate-action file'), path);
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
