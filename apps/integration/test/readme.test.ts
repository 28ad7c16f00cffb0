import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from './run.js';

/**
 * The README's commands, run verbatim (in a folder whose name has a space) (the pinned pnpm replaced by the one running the tests, to stay
 * offline) from the root of a fresh copy of the repository, with the real data beside it as a user
 * has it: exit codes and output checked.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const PNPM = 'npx -y pnpm@10.34.9';
const realData = process.env.FEED_REAL_DATA_DIR || join(REPO, '../shared/data/real');
const haveRealData = existsSync(join(realData, 'TQQQ.csv'));

/** Every README line that runs pnpm, from its sh code blocks. */
const commands = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l.startsWith(PNPM));

let root = '';
let pnpm = '';
beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'feed-readme-'));
  // A folder name with a space, as many users have: every path is built from file URLs properly.
  root = join(base, 'my feed');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(REPO, f))) continue;
    mkdirSync(dirname(join(root, f)), { recursive: true });
    cpSync(join(REPO, f), join(root, f));
  }
  if (haveRealData) {
    mkdirSync(join(base, 'shared/data'), { recursive: true });
    symlinkSync(realData, join(base, 'shared/data/real'));
  }
  const exec = process.env.npm_execpath;
  pnpm = exec !== undefined && /pnpm/.test(exec) ? `"${process.execPath}" "${exec}"` : PNPM;
}, 60_000);
afterAll(() => {
  if (root !== '') rmSync(dirname(root), { recursive: true, force: true });
});

const ran_ = new Set<string>();
function sh(command: string): { code: number; out: string; err: string } {
  ran_.add(command);
  const r = spawnSync('bash', ['-c', command.split(PNPM).join(pnpm)], { cwd: root, env: cleanEnv({ CI: '' }), encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("the README's commands, from a fresh copy", () => {
  it('lists the commands this test runs', () => {
    expect(commands[0]).toBe(`${PNPM} install && ${PNPM} --silent start`);
    expect(commands).toContain(`${PNPM} install && ${PNPM} test`);
    expect(commands.some((c) => c.includes('--data ../shared/data/real'))).toBe(true);
  });

  it('the first command installs and runs the demo: the last complete session, six symbols, the table', () => {
    const r = sh(commands[0] as string);
    expect(r.err).not.toMatch(/WARN|ERR_PNPM/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/slices; last as of \d{4}-\d{2}-\d{2} 16:01 ET; usable: yes \(6 of 6 symbols valid\)/);
    expect(r.out).not.toContain('ELIFECYCLE');
  }, 240_000);

  it.skipIf(!haveRealData)('the --data example replays all six symbols on its date and writes the report where it was run', () => {
    const line = commands.find((c) => c.includes('--data ../shared/data/real')) as string;
    const r = sh(line);
    expect(r.code).toBe(0);
    for (const s of ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX']) expect(r.out).toMatch(new RegExp(`^${s}\\s+[1-9][\\d,]*\\s`, 'm'));
    expect(r.out).toContain('usable: yes (6 of 6 symbols valid)');
    expect(r.out).toContain('report: report.html');
    expect(existsSync(join(root, 'report.html'))).toBe(true);
  }, 240_000);

  it.each(['--live --feed', '--live --publish'])('the %s example, without keys, names the variables to set and exits 1 before it connects to anything', (flag) => {
    const r = sh(commands.find((c) => c.includes(flag)) as string);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/APCA_API_KEY_ID and APCA_API_SECRET_KEY/);
    expect(r.out).not.toMatch(/connecting/);
  }, 240_000);

  it('the examples command runs them from sources in a fresh copy (nothing built)', () => {
    const r = sh(commands.find((c) => c.includes('--filter @feed/examples synthetic')) as string);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(root, 'packages/synth/dist'))).toBe(false);
    expect(r.out).toMatch(/^TQQQ\s+391 bars/m);
    expect(r.out).toMatch(/replayed \d+ bars, 391 slices/);
  }, 240_000);

  it('the prepare-data example prepares the range and says where each file came from', () => {
    const r = sh(commands.find((c) => c.includes('prepare-data')) as string);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^TQQQ\s+(existing|synthetic)\s+\d+/m);
    expect(r.out).toMatch(/prepared 6 files/);
  }, 240_000);

  it('runs every command of the README, or says here why not', () => {
    const all = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '');
    const ran = [...ran_];
    const notHere: Record<string, string> = {
      [`${PNPM} install && ${PNPM} test`]: 'the test suite itself: .ci/run runs it from a fresh clone',
      'nats-server -js -sd /var/lib/feed-nats': 'a server that runs until stopped; demo-nats.test.ts starts the same server (NatsServer)',
      [`${PNPM} --silent start -- --nats nats://127.0.0.1:4222`]: 'reads until Ctrl-C; demo-nats.test.ts runs it against a publishing demo',
      'npm install @feed/core @feed/data-manager @feed/mock': 'the install line of the events snippet: snippets.test.ts installs it in a blank project',
    };
    if (!haveRealData) notHere[commands.find((c) => c.includes('--data ../shared/data/real')) as string] = 'no real data beside the repository';
    expect(all.filter((c) => !ran.includes(c) && notHere[c] === undefined)).toEqual([]);
  });
});
