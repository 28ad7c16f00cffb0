import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const pkg = fileURLToPath(new URL('..', import.meta.url));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: pkg });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('feed-synth, run as a command', () => {
  it('writes the files for a date range with a progress display', async () => {
    const out = mkdtempSync(join(tmpdir(), 'feed-synth-cli-'));
    const r = await cli(['--out', out, '--from', '2025-10-16', '--to', '2025-10-16', '--seed', '4', '--symbols', 'UPRO,SDS']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[1\/3\] SPY +391 bars {2}simulated/);
    expect(r.stderr).toMatch(/\[3\/3\] SDS +3\d\d bars {2}-2x SPY \(daily reset\), no trade in 3\.0 % of minutes/);
    expect(r.stdout).toMatch(/wrote 3 files in \d+\.\d\d s/);
    for (const s of ['SPY', 'UPRO', 'SDS']) expect(existsSync(join(out, `${s}.csv`))).toBe(true);
  }, 60_000);

  it('prints the usage for --help (exit 0), and a usage error for a bad option (exit 2)', async () => {
    expect(await cli(['--help'])).toMatchObject({ code: 0 });
    const r = await cli(['--out', '/tmp/x', '--seed', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--seed must be a whole number >= 0 (got 'abc')");
    expect((await cli([])).stderr).toContain('--out DIR is required');
    const half = await cli(['--out', '/tmp/x', '--from', '2025-10-01']);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('give both --from and --to, or neither (got only --from)');
  }, 60_000);

  it('--version prints the package version (exit 0); a misspelt option names the closest one (exit 2)', async () => {
    const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `feed-synth ${version}\n` });
    const typo = await cli(['--outt', '/tmp/x']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown option '--outt' (did you mean --out?)");
  }, 60_000);

  it('--symbols ../pwned (a path, not a ticker): a usage error (exit 2), nothing written', async () => {
    const root = mkdtempSync(join(tmpdir(), 'feed-synth-hostile-'));
    const r = await cli(['--out', join(root, 'out'), '--from', '2025-10-16', '--to', '2025-10-16', '--symbols', 'UPRO,../pwned']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--symbols: "../PWNED" must be a ticker');
    expect(existsSync(join(root, 'out'))).toBe(false);
    expect(existsSync(join(root, 'PWNED.csv'))).toBe(false);
  }, 60_000);

  it('exits 1 with a clear message for a missing input file', async () => {
    const r = await cli(['--out', '/tmp/x', '--spy', '/nonexistent/SPY.csv', '--symbols', 'UPRO']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^feed-synth: \/nonexistent\/SPY\.csv: cannot open: ENOENT/);
  }, 60_000);
});
