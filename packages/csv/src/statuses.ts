import { existsSync } from 'node:fs';
import type { TradingEffect, TradingStatus, TradingStatusKind } from '@feed/core';
import { CsvError, makeTradingStatus } from '@feed/core';
import { writeAtomically } from './arrow.js';
import { readSidecarText, sidecarCell, sidecarRows } from './sidecar.js';

/**
 * The columns of a trading-status sidecar (`TQQQ.statuses.csv` beside `TQQQ.csv`): one status per
 * line, in time order. `at` is an ISO 8601 instant with milliseconds (UTC); the text fields are
 * quoted when they hold a comma or a quote; the bands are empty when absent.
 */
export const STATUS_COLUMNS = ['at', 'symbol', 'kind', 'effect', 'code', 'message', 'reason_code', 'reason_message', 'limit_up', 'limit_down', 'tape'] as const;

const KINDS: readonly TradingStatusKind[] = ['status', 'luld'];
const EFFECTS: readonly TradingEffect[] = ['halt', 'resume', 'none'];

/** The sidecar of a bar file: `dir/TQQQ.csv` (or `.arrow`) -> `dir/TQQQ.statuses.csv`. */
export function statusFilePath(barFile: string): string {
  return barFile.replace(/\.(csv|arrow)$/i, '') + '.statuses.csv';
}


/** The sidecar's text for `statuses` (sorted by `at`; `receivedAt` is not kept: a replay hands a status over at its `at`). */
export function statusesCsv(statuses: readonly TradingStatus[]): string {
  const lines = [STATUS_COLUMNS.join(',')];
  for (const s of [...statuses].sort((a, b) => a.at - b.at)) {
    lines.push(
      [
        new Date(s.at).toISOString(),
        sidecarCell(s.symbol),
        s.kind,
        s.effect,
        sidecarCell(s.code),
        sidecarCell(s.message),
        sidecarCell(s.reasonCode),
        sidecarCell(s.reasonMessage),
        s.limitUp === undefined ? '' : String(s.limitUp),
        s.limitDown === undefined ? '' : String(s.limitDown),
        sidecarCell(s.tape),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes a status sidecar (atomically: a reader never sees half a file). */
export async function writeStatusesCsv(path: string, statuses: readonly TradingStatus[]): Promise<void> {
  await writeAtomically(path, Buffer.from(statusesCsv(statuses)));
}

/** What `readStatusesCsv` found: the good statuses, and each bad line as a typed error. */
export interface StatusesReport {
  readonly statuses: TradingStatus[];
  /** One `CsvError` (code `csv_row`, file and line) per line that could not be read. */
  readonly errors: CsvError[];
}

/**
 * Reads a status sidecar: every good line becomes a `TradingStatus` (`receivedAt` = its `at`), each
 * bad line a `CsvError` with file and line, never thrown (a missing header or file is thrown as a
 * `CsvError`). The statuses are returned in time order.
 */
export async function readStatusesCsv(path: string): Promise<StatusesReport> {
  return parseStatusesCsv(await readSidecarText(path, 'status file'), path);
}

/** Whether `barFile` has a status sidecar. */
export function hasStatusFile(barFile: string): boolean {
  return existsSync(statusFilePath(barFile));
}

/** Parses a sidecar's text (`file` names it in errors). */
export function parseStatusesCsv(text: string, file: string): StatusesReport {
  const { rows, errors } = sidecarRows(text, file, STATUS_COLUMNS, 'status file');
  const statuses: TradingStatus[] = [];
  for (const { cells, line } of rows) {
    const bad = (message: string, column?: string): void => {
      errors.push(new CsvError({ code: 'csv_row', message, file, line, column }));
    };
    const [at, symbol, kind, effect, code, message, reasonCode, reasonMessage, up, down, tape] = cells as [string, string, string, string, string, string, string, string, string, string, string];
    const t = Date.parse(at);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || !Number.isFinite(t)) {
      bad(`at '${at.slice(0, 40)}' is not an ISO 8601 instant`, 'at');
      continue;
    }
    if (symbol === '') {
      bad('symbol is empty', 'symbol');
      continue;
    }
    if (!KINDS.includes(kind as TradingStatusKind)) {
      bad(`kind '${kind.slice(0, 20)}' is not status or luld`, 'kind');
      continue;
    }
    if (!EFFECTS.includes(effect as TradingEffect)) {
      bad(`effect '${effect.slice(0, 20)}' is not halt, resume or none`, 'effect');
      continue;
    }
    const band = (v: string, column: string): number | undefined | null => {
      if (v === '') return undefined;
      const x = Number(v);
      if (!(Number.isFinite(x) && x > 0)) {
        bad(`${column} '${v.slice(0, 20)}' is not a price > 0`, column);
        return null;
      }
      return x;
    };
    const limitUp = band(up, 'limit_up');
    const limitDown = band(down, 'limit_down');
    if (limitUp === null || limitDown === null) continue;
    statuses.push(makeTradingStatus({ symbol, at: t, kind: kind as TradingStatusKind, effect: effect as TradingEffect, code, message, reasonCode, reasonMessage, limitUp, limitDown, tape, receivedAt: t }));
  }
  statuses.sort((a, b) => a.at - b.at);
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { statuses, errors };
}
