import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { CsvError } from '@feed/core';

/** A text cell of a sidecar file, quoted when it holds a comma, a quote or a line break. */
export function sidecarCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A sidecar file's text (`what` names it in the error), or a `CsvError` (`csv_file`) when it cannot be read. */
export async function readSidecarText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CsvError({ code: 'csv_file', message: `cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, file: path, cause: error });
  }
}

/**
 * The rows of a sidecar file (the statuses and the corporate actions beside a bar file): the header
 * must be `columns` (else a `csv_column` error is thrown); each later line is split by csv-parse
 * (quotes allowed), and one that cannot be read or has another number of fields is a `CsvError`
 * (`csv_row`, file and line) among `errors`, never thrown. Empty lines are skipped.
 */
export function sidecarRows(text: string, file: string, columns: readonly string[], what: string): { rows: { cells: string[]; line: number }[]; errors: CsvError[] } {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').trim();
  if (header !== columns.join(',')) {
    throw new CsvError({ code: 'csv_column', message: `not a ${what}: the header must be ${columns.join(',')} (got ${JSON.stringify(header.slice(0, 120))})`, file, line: 1 });
  }
  const rows: { cells: string[]; line: number }[] = [];
  const errors: CsvError[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line.trim() === '') continue;
    let cells: string[];
    try {
      const parsed: string[][] = parse(line);
      cells = parsed[0] ?? [];
    } catch (error) {
      errors.push(new CsvError({ code: 'csv_row', message: `unreadable line (${(error as Error).message.slice(0, 80)})`, file, line: n + 1 }));
      continue;
    }
    if (cells.length !== columns.length) {
      errors.push(new CsvError({ code: 'csv_row', message: `${cells.length} fields, expected ${columns.length}`, file, line: n + 1 }));
      continue;
    }
    rows.push({ cells, line: n + 1 });
  }
  return { rows, errors };
}
