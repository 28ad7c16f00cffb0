import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real-data directory: FEED_REAL_DATA_DIR, else shared/data/real beside the repository. */
export function realDataDir(): string | undefined {
  const fromEnv = process.env.FEED_REAL_DATA_DIR;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const dir = resolve(repoRoot, '../shared/data/real');
  return existsSync(dir) ? dir : undefined;
}

/** Bar starts (epoch s) of a real-data file, read with plain string splitting (independent of the loader). */
export function rawStarts(path: string): number[] {
  const lines = readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  return lines.map((l) => Number(l.split(',')[1]));
}
