import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** 2025-04-01 09:30 New York, in epoch seconds. */
const OPEN_S = 1743514200;
export const OPEN = OPEN_S * 1000;
export const MIN = 60_000;

/** Writes files into a fresh temporary directory; returns their paths by name. */
export function writeFiles(files: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'feed-mock-'));
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    writeFileSync(path, text);
    out[name] = path;
  }
  return out;
}

/** A real-data-format file with bars at the given minutes after the open, close = 100 + minute. */
export function realCsv(minutes: readonly number[], base = 100): string {
  const rows = minutes.map((m) => {
    const t = OPEN_S + m * 60;
    const c = base + m;
    const iso = new Date((t - 4 * 3600) * 1000).toISOString().slice(0, 19) + '-04:00';
    return `${iso},${t},${c},${c + 0.5},${c - 0.5},${c + 0.25},${1000 + m}.0`;
  });
  return ['ts_utc,ts_nyt_epoch,open,high,low,close,volume', ...rows].join('\n') + '\n';
}
