import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a new user: no Alpaca keys, no data directory override unless given. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // NODE_PATH: pnpm points it at its store, where a blank project would find packages it never installed.
  for (const k of ['NODE_PATH', 'APCA_API_KEY_ID', 'APCA_API_SECRET_KEY', 'ALPACA_PAPER_API_KEY', 'ALPACA_PAPER_SECRET_KEY', 'POLYGON_API_KEY', 'FEED_REAL_DATA_DIR', 'FEED_DATA_DIR', 'FEED_ALPACA_DATA_URL', 'FEED_POLYGON_URL']) delete env[k];
  return { ...env, ...extra };
}

/** Runs one of the app's programs (src/main.ts, src/prepare-data-cli.ts) as a child process, as a user would. */
export async function runApp(script: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: APP_DIR, env, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
