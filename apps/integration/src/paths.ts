import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The app's own data directory (git-ignored): downloads and synthetic files of `prepare-data` and the
 * demo. `FEED_DATA_DIR` moves it (tests use a temporary directory).
 */
export const APP_DATA_DIR = process.env.FEED_DATA_DIR || fileURLToPath(new URL('../data', import.meta.url));

/**
 * Where the user ran the command: the root scripts pass it (`FEED_USER_CWD`, from pnpm's `INIT_CWD`),
 * since pnpm runs the app inside `apps/integration`. Paths on the command line resolve against it,
 * and paths printed are relative to it.
 */
const USER_CWD = process.env.FEED_USER_CWD || process.cwd();

/** A path the user typed, as an absolute path. */
export function userPath(p: string): string {
  return resolve(USER_CWD, p);
}

/** A path to print: relative to where the user is, when that is shorter. */
export function shownPath(p: string): string {
  const r = relative(USER_CWD, p);
  return r !== '' && r.length < p.length ? r : p;
}

const temporary: string[] = [];
/** A temporary folder of this run, removed when the process exits (normally, by an error or by process.exit). */
export function runTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'feed-demo-'));
  if (temporary.length === 0) {
    process.once('exit', () => {
      for (const d of temporary) rmSync(d, { recursive: true, force: true });
    });
  }
  temporary.push(dir);
  return dir;
}
