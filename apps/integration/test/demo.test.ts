import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { MINUTE_MS, makeBar, nyse } from '@feed/core';
import type { Bar } from '@feed/core';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { FakePolygonServer } from '@feed/polygon/testing';
import { cleanEnv, runApp } from './run.js';

const demo = (args: string[], env = cleanEnv({ FEED_DATA_DIR: mkdtempSync(join(tmpdir(), 'feed-data-')) })) => runApp('src/main.ts', args, env);

function csv(startS: number, minutes: number[], close: number): string {
  const rows = minutes.map((m) => `x,${startS + m * 60},${close},${close + 1},${close - 1},${close},100`);
  return ['ts_utc,ts_nyt_epoch,open,high,low,close,volume', ...rows].join('\n');
}

const SIX = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];

describe('the demo, run as a child process', () => {
  it('with no arguments and no keys: prepares the last complete session (synthetic), replays it, prints the table', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'feed-data-'));
    const r = await demo([], cleanEnv({ FEED_DATA_DIR: dataDir }));
    expect(r.code).toBe(0);
    const session = /last complete session (\d{4}-\d{2}-\d{2})/.exec(r.stdout)?.[1];
    expect(session).toBeDefined();
    expect(r.stdout).toContain(`preparing ${session}`);
    expect(r.stdout).toMatch(/no Alpaca keys: .* will be synthesized/);
    const s = nyse.sessionOn(session!)!;
    const bars = (s.close - s.open) / MINUTE_MS + 1; // 09:30 .. 16:00 inclusive, as the real files
    for (const sym of SIX) {
      // Thin funds (SDS, UVXY, SVIX) skip minutes, as on IEX: count the file's rows.
      const rows = readFileSync(join(dataDir, 'synthetic', `${sym}.csv`), 'utf8').trim().split('\n').length - 1;
      if (['TQQQ', 'SQQQ', 'UPRO'].includes(sym)) expect(rows).toBe(bars);
      else expect(rows).toBeLessThanOrEqual(bars);
      expect(r.stdout).toMatch(new RegExp(`^  ${sym}\\s+synthetic\\s+${rows} bars`, 'm'));
      const filled = Number(new RegExp(`^${sym}\\s+${rows}\\s+0\\s+0\\s+(\\d+)\\s`, 'm').exec(r.stdout)?.[1]);
      expect(filled, sym).toBeGreaterThanOrEqual(0);
      if (sym === 'SDS' || sym === 'SVIX') expect(filled, `${sym} is forward-filled where it has gaps`).toBeGreaterThan(0);
      if (rows === bars) expect(filled).toBe(0);
    }
    expect(r.stdout).toMatch(/\[####################\] 100%/);
    expect(r.stdout).toContain(`${bars} slices; last as of`);
    expect(r.stdout).toContain('usable: yes');
  }, 60_000);

  it('replays --data DIR and prints the quality table and the last slice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-demo-'));
    const open = 1743514200; // 2025-04-01 09:30 New York
    writeFileSync(join(dir, 'TQQQ.csv'), csv(open, [0, 1, 2, 3], 56));
    writeFileSync(join(dir, 'SDS.csv'), csv(open, [0, 2, 3], 21));
    const r = await demo(['--data', dir, '--symbols', 'TQQQ,SDS,UPRO']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('replaying TQQQ 4, SDS 3 bars');
    expect(r.stdout).toMatch(/TQQQ\s+4\s+0\s+0\s+0\s+0\.0\s+56\.00\s+1\.000\s+yes/);
    expect(r.stdout).toMatch(/SDS\s+3\s+0\s+0\s+1\s/);
    expect(r.stdout).toMatch(/UPRO\s+0 .* no$/m);
    expect(r.stdout).toContain('4 slices; last as of 2025-04-01 09:34 ET');
    expect(r.stdout).toContain('no file for UPRO, and no underlying file to synthesize from');
    expect(r.stdout).toContain('warning: no bars for UPRO in the files: it is missing in every slice');
    expect(r.stdout).toContain('usable: yes (2 of 3 symbols valid)');
  }, 60_000);

  it('a date without a session is a usage error saying why; a date without data exits 1, never silent zeros', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-demo-dates-'));
    const open = Date.UTC(2025, 3, 1, 13, 30);
    writeFileSync(join(dir, 'TQQQ.csv'), csv(open, [0, 1, 2], 56));
    const weekend = await demo(['--data', dir, '--symbols', 'TQQQ', '--date', '2025-04-05']);
    expect(weekend.code).toBe(2);
    expect(weekend.stderr).toMatch(/--date: no NYSE session in 2025-04-05 \(a Saturday\)/);
    const holiday = await demo(['--data', dir, '--symbols', 'TQQQ', '--date', '2025-04-18']);
    expect(holiday.stderr).toMatch(/\(Good Friday, an exchange holiday\)/);
    const before = await demo(['--data', dir, '--symbols', 'TQQQ', '--date', '2025-03-03']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/no bars at all for 2025-03-03/);
    expect(before.stdout).not.toContain('1970');
  }, 60_000);

  it('warns of partial data: a file that ends before the range, a synthesized symbol whose underlying ends early', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-demo-partial-'));
    const open = 1743514200; // 2025-04-01 09:30 New York
    const day = 24 * 60;
    writeFileSync(join(dir, 'TQQQ.csv'), csv(open, [0, 1, day, day + 1], 56));
    writeFileSync(join(dir, 'SDS.csv'), csv(open, [0, 1], 21));
    writeFileSync(join(dir, 'SPY.csv'), csv(open, [0, 1], 560));
    const r = await demo(['--data', dir, '--symbols', 'TQQQ,SDS,UPRO', '--date', '2025-04-01..2025-04-02']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`warning: SDS: ${join(dir, 'SDS.csv')} ends on 2025-04-01, before the last session of 2025-04-01..2025-04-02 (2025-04-02): its replay is partial`);
    expect(r.stdout).toContain("warning: UPRO is synthesized from SPY's file, which ends on 2025-04-01, before the last session of 2025-04-01..2025-04-02: its replay is partial");
    expect(r.stdout).not.toMatch(/warning: TQQQ/);
  }, 60_000);

  it('synthesizes a leveraged symbol without a file from its underlying (UPRO = 3x SPY)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-demo-'));
    const open = 1743514200;
    writeFileSync(join(dir, 'TQQQ.csv'), csv(open, [0, 1, 2], 56));
    writeFileSync(join(dir, 'SPY.csv'), csv(open, [0, 1, 2], 560));
    const r = await demo(['--data', dir, '--symbols', 'TQQQ,UPRO']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/UPRO: no file; synthesized 3 bars from SPY\.csv \(3x daily reset, from 100\)/);
    expect(r.stdout).toContain('sessionOpen  2025-04-01 09:30 ET (0 min since the open, 390 to the close)');
    expect(r.stdout).toMatch(/UPRO\s+3\s+0\s+0\s+0\s+0\.0\s+100\.00\s+1\.000\s+yes/);
  }, 60_000);

  it('--simulate --date: simulates that session with @feed/synth and replays the six ETFs', async () => {
    const r = await demo(['--simulate', '--date', '2025-10-16']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('preparing 2025-10-16 (--simulate: synthetic only)');
    for (const s of ['TQQQ', 'SQQQ', 'UPRO']) expect(r.stdout).toMatch(new RegExp(`^${s}\\s+391\\s+0\\s+0\\s+0\\s`, 'm'));
    for (const s of ['SDS', 'SVIX']) expect(r.stdout).toMatch(new RegExp(`^${s}\\s+3[5-8]\\d\\s+0\\s+0\\s+[1-9]\\d*\\s`, 'm'));
    expect(r.stdout).toContain('391 slices; last as of 2025-10-16 16:01 ET; usable: yes (6 of 6 symbols valid)');
  }, 60_000);

  it('usage errors are found before any work and exit 2 with the reason: a date that does not exist, a holiday without --data, a report folder that does not exist', async () => {
    const badDate = await demo(['--date', '2025-13-45']);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toMatch(/--date: no such date '2025-13-45'/);
    const holiday = await demo(['--simulate', '--date', '2025-07-04']);
    expect(holiday.code).toBe(2);
    expect(holiday.stderr).toMatch(/no NYSE session in 2025-07-04 \(Independence Day, an exchange holiday\)/);
    const report = await demo(['--simulate', '--report', 'no-such-folder/r.html']);
    expect(report.code).toBe(2);
    expect(report.stderr).toMatch(/--report: the folder .*no-such-folder does not exist/);
    // Nothing was replayed first.
    expect(report.stdout).not.toContain('replaying');
  }, 60_000);

  it('--simulate and a synthesized symbol leave no temporary folder behind', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'feed-tmp-'));
    const dir = mkdtempSync(join(tmpdir(), 'feed-demo-data-'));
    const open = 1743514200;
    writeFileSync(join(dir, 'SPY.csv'), csv(open, [0, 1, 2], 560));
    writeFileSync(join(dir, 'TQQQ.csv'), csv(open, [0, 1, 2], 56));
    const env = cleanEnv({ FEED_DATA_DIR: mkdtempSync(join(tmpdir(), 'feed-data-')), TMPDIR: tmp });
    expect((await demo(['--simulate', '--date', '2025-10-16'], env)).code).toBe(0);
    expect((await demo(['--data', dir, '--symbols', 'TQQQ,UPRO'], env)).code).toBe(0);
    expect(readdirSync(tmp).filter((f) => f.startsWith('feed-demo-'))).toEqual([]);
  }, 60_000);

  it('exits 2 with the usage on a bad option', async () => {
    const r = await demo(['--speed', 'fast']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--speed must be a number >= 0 (got 'fast')");
    expect(r.stderr).toContain('usage: pnpm start');
  }, 60_000);

  it('names the closest option for a misspelt one; --version gives the packages it runs, as prepare-data does', async () => {
    const r = await demo(['--sped', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--sped' (did you mean --speed?)");
    const v = await demo(['--version']);
    expect(v.code).toBe(0);
    const core = (JSON.parse(readFileSync(new URL('../../../packages/core/package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(v.stdout.trim()).toMatch(new RegExp(`^feed-demo \\(@feed/core ${core.replace(/\./g, '\\.')}, .*@feed/nats \\d+\\.\\d+\\.\\d+\\)$`));
    const p = await runApp('src/prepare-data-cli.ts', ['--outt', 'x']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("unknown option '--outt' (did you mean --out?)");
    expect((await runApp('src/prepare-data-cli.ts', ['--version'])).stdout).toMatch(/^prepare-data \(@feed\/core /);
  }, 60_000);
});

describe('--live', () => {
  it('without keys: says which variables to set, exits non-zero', async () => {
    const r = await demo(['--live', '--url', 'ws://127.0.0.1:9/v2/iex']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Alpaca keys: set APCA_API_KEY_ID and APCA_API_SECRET_KEY/);
    expect(r.stdout).not.toMatch(/connecting|feed: \d+ symbols/); // said before any work
  }, 60_000);

  it('runs the same program on the fake Alpaca server: slices, the table, the feed line', async () => {
    const server = await FakeAlpacaServer.start();
    try {
      // The last five minutes (a live data manager rejects bars older than its maximum age).
      const open = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 5 * MINUTE_MS;
      const minute = (m: number): Bar[] =>
        SIX.map((symbol, k) => makeBar({ symbol, start: open + m * MINUTE_MS, open: 20 + k, high: 21 + k, low: 19 + k, close: 20.5 + k + m / 100, volume: 1000, receivedAt: 0 }));
      // Publish once the demo has subscribed: one frame a minute, all six symbols in it, so each
      // minute reaches the data manager whole; the demo stops after the fifth slice, which it can
      // only close once the fifth frame is in (no race with the wall clock or the machine's load).
      void server.waitFor((s) => s.subscribeMessages >= 1, 30_000).then(() => {
        for (let m = 0; m < 5; m++) server.publish(minute(m), { frameSize: 6 });
      });
      const r = await demo(['--live', '--url', server.url(), '--minutes', '5'], cleanEnv({ APCA_API_KEY_ID: server.keys.keyId, APCA_API_SECRET_KEY: server.keys.secretKey }));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`connecting to ${server.url()}`);
      expect(r.stdout.match(/^ {2}\d{4}-\d{2}-\d{2} \d{2}:\d{2} ET {2}6\/6 valid/gm)?.length).toBe(5);
      for (const s of SIX) expect(r.stdout).toMatch(new RegExp(`^${s}\\s+5\\s+0\\s+0\\s+0\\s`, 'm'));
      expect(r.stdout).toMatch(/feed \(alpaca\): \d+ bars, 0 errors, 0 reconnects/);
      expect(r.stdout).not.toContain(server.keys.secretKey);
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('--live --provider polygon', () => {
  it('runs the same program on the fake Polygon stream: one changed option', async () => {
    const server = await FakePolygonServer.start();
    try {
      const open = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 5 * MINUTE_MS;
      const minute = (m: number): Bar[] =>
        SIX.map((symbol, k) => makeBar({ symbol, start: open + m * MINUTE_MS, open: 20 + k, high: 21 + k, low: 19 + k, close: 20.5 + k + m / 100, volume: 1000, receivedAt: 0 }));
      // Publish once the demo has subscribed (waiting on the server's I/O, not on time).
      void vi.waitFor(() => expect(server.subscribeMessages).toBeGreaterThanOrEqual(1), { timeout: 30_000, interval: 5 }).then(() => {
        for (let m = 0; m < 5; m++) server.publish(minute(m), { frameSize: 6 });
      });
      const r = await demo(['--live', '--provider', 'polygon', '--url', server.wsUrl, '--minutes', '5'], cleanEnv({ POLYGON_API_KEY: server.apiKey }));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`connecting to ${server.wsUrl}`);
      expect(r.stdout.match(/^ {2}\d{4}-\d{2}-\d{2} \d{2}:\d{2} ET {2}6\/6 valid/gm)?.length).toBe(5);
      for (const s of SIX) expect(r.stdout).toMatch(new RegExp(`^${s}\\s+5\\s+0\\s+0\\s+0\\s`, 'm'));
      expect(r.stdout).toMatch(/feed \(polygon\): \d+ bars, 0 errors, 0 reconnects/);
      expect(r.stdout).not.toContain(server.apiKey);
    } finally {
      await server.close();
    }
  }, 60_000);
});

function chromium(): string | undefined {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      execFileSync('which', [c], { stdio: 'pipe' });
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

const browser = chromium();
const needBrowser = process.env.FEED_REQUIRE_CHROMIUM === '1';

describe('Ctrl-C', () => {
  it('prints the table so far and exits 130', async () => {
    const app = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--simulate', '--date', '2025-10-16', '--speed', '1'], {
      cwd: app,
      env: cleanEnv({ FEED_DATA_DIR: mkdtempSync(join(tmpdir(), 'feed-data-')) }),
    });
    let out = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Interrupt once the replay has begun (its first progress line), as a user would.
        if (/\[[#.]{20}\]/.test(out) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(out).toMatch(/^symbol\s+bars\s+rejected/m);
    expect(out).toContain('interrupted (Ctrl-C): the table above is what was replayed so far');
  }, 60_000);
});

describe('--report', () => {
  it('writes one self-contained HTML file (library inlined, no network reference)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'feed-report-')), 'report.html');
    const r = await demo(['--simulate', '--date', '2025-10-16', '--report', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`report: ${file}`);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('lightweight-charts');
    expect(html).toMatch(/LightweightCharts/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=["']https?:/);
    expect(html.length).toBeGreaterThan(100_000);
    // Synthetic symbols are marked (all six with --simulate), and the table has weight and validity.
    expect(html.match(/<td>[A-Z]+ <span class="synthetic">synthetic<\/span><\/td>/g)).toHaveLength(6);
    expect(html).toContain('<th>staleness weight</th><th>valid</th>');
    expect(html).toMatch(/<td>1\.000<\/td><td>yes<\/td>/);
  }, 60_000);

  it.skipIf(browser === undefined && !needBrowser)('headless Chromium draws all seven charts and logs no error', async () => {
    expect(browser, 'chromium is required (FEED_REQUIRE_CHROMIUM=1); .ci/run installs it').toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'feed-report-'));
    const file = join(dir, 'report.html');
    const r = await demo(['--simulate', '--date', '2025-10-16', '--report', file]);
    expect(r.code).toBe(0);
    const dom = execFileSync(browser!, ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=10000', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const body = /<body[^>]*>/.exec(dom)?.[0] ?? '';
    expect(body).toContain('data-drawn="yes"');
    expect(body).toContain('data-errors="0"');
    expect(body).toContain('data-charts="7"');
    // The chart titles carry the synthetic mark too (drawn by the page's script).
    expect(dom.match(/bars\) <span class="synthetic">synthetic<\/span>/g)).toHaveLength(6);
  }, 90_000);
});
