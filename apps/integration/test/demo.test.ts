import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const appDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs the demo as a user would (a child process), returning its output and exit code. */
async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: appDir, env: { ...process.env, FEED_REAL_DATA_DIR: '' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function csv(startS: number, minutes: number[], close: number): string {
  const rows = minutes.map((m) => `x,${startS + m * 60},${close},${close + 1},${close - 1},${close},100`);
  return ['ts_utc,ts_nyt_epoch,open,high,low,close,volume', ...rows].join('\n');
}

describe('the demo, run as a child process', () => {
  it('replays --data DIR and prints the quality table and the last slice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-demo-'));
    const open = 1743514200; // 2025-04-01 09:30 New York
    writeFileSync(join(dir, 'TQQQ.csv'), csv(open, [0, 1, 2, 3], 56));
    writeFileSync(join(dir, 'SDS.csv'), csv(open, [0, 2, 3], 21));
    const r = await demo(['--data', dir, '--symbols', 'TQQQ,SDS,UPRO']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('replaying TQQQ 4, SDS 3 bars at speed 0');
    expect(r.stdout).toMatch(/TQQQ\s+4\s+0\s+0\s+0\s+0\.0\s+56\.00\s+1\.000\s+yes/);
    expect(r.stdout).toMatch(/SDS\s+3\s+0\s+0\s+1\s/);
    expect(r.stdout).toMatch(/UPRO\s+0 .* no$/m);
    expect(r.stdout).toContain('4 slices; last as of 2025-04-01T13:34:00.000Z');
    expect(r.stdout).toContain('no file for UPRO, and no underlying file to synthesize from');
  }, 60_000);

  it('synthesizes a leveraged symbol without a file from its underlying (UPRO = 3x SPY)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-demo-'));
    const open = 1743514200;
    writeFileSync(join(dir, 'TQQQ.csv'), csv(open, [0, 1, 2], 56));
    writeFileSync(join(dir, 'SPY.csv'), csv(open, [0, 1, 2], 560));
    const r = await demo(['--data', dir, '--symbols', 'TQQQ,UPRO']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/UPRO: no file; synthesized 3 bars from SPY\.csv \(3x daily reset, from 100\)/);
    expect(r.stdout).toMatch(/UPRO\s+3\s+0\s+0\s+0\s+0\.0\s+100\.00\s+1\.000\s+yes/);
  }, 60_000);

  it('with no data (--simulate), simulates a session with @feed/synth and replays the six ETFs', async () => {
    const r = await demo(['--simulate', '--date', '2025-10-16']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('simulating 2025-10-16 with @feed/synth (seed 1)');
    for (const s of ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX']) expect(r.stdout).toMatch(new RegExp(`^${s}\\s+391\\s+0\\s+0\\s+0\\s`, 'm'));
    expect(r.stdout).toContain('391 slices; last as of 2025-10-16T20:01:00.000Z; usable: yes');
  }, 60_000);

  it('exits 2 with the usage on a bad option', async () => {
    const r = await demo(['--speed', 'fast']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--speed must be a number >= 0 (got 'fast')");
    expect(r.stderr).toContain('usage: pnpm start');
  }, 60_000);
});
