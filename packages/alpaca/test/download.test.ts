import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MINUTE_MS, makeBar, makeCorporateAction, nyse } from '@feed/core';
import type { Bar } from '@feed/core';
import { actionFilePath, loadBars, readActionsCsv, readBarsFromCsv, readBasis } from '@feed/csv';
import { downloadBars } from '../src/index.js';
import { main } from '../src/download-cli.js';
import { FakeAlpacaServer } from '../src/testing.js';

let server: FakeAlpacaServer;
const dir = (): string => mkdtempSync(join(tmpdir(), 'feed-download-'));

/** Every minute from 04:00 to 20:00 New York on two sessions (an early close among them), pre- and post-market included. */
function sessionsWithExtendedHours(symbols: readonly string[], dates: readonly string[]): Bar[] {
  const out: Bar[] = [];
  for (const date of dates) {
    const s = nyse.sessionOn(date)!;
    for (let t = s.open - 330 * MINUTE_MS; t < s.open + 630 * MINUTE_MS; t += MINUTE_MS) {
      symbols.forEach((symbol, k) => {
        if (symbol === 'SVIX' && ((t / MINUTE_MS) % 7 === 0)) return; // a thin symbol skips minutes
        const p = 20 + k + ((t / MINUTE_MS) % 97) / 100;
        out.push(makeBar({ symbol, start: t, open: p, high: p + 0.03, low: p - 0.02, close: p + 0.01, volume: 100 + ((t / MINUTE_MS) % 50), receivedAt: 0 }));
      });
    }
  }
  return out;
}

beforeEach(async () => {
  server = await FakeAlpacaServer.start();
  server.rest.pageLimit = 1000;
});
afterEach(async () => {
  await server.close();
});

describe('downloadBars', () => {
  it('writes regular-hours bars in the real-data format; @feed/csv reads back the same bars', async () => {
    const all = sessionsWithExtendedHours(['TQQQ', 'SVIX'], ['2025-07-02', '2025-07-03']);
    server.addHistory(all);
    const out = dir();
    const progress: number[] = [];
    const report = await downloadBars({ symbols: ['TQQQ', 'SVIX'], from: '2025-07-02', to: '2025-07-03', outDir: out, baseUrl: server.restUrl, keys: server.keys, onProgress: (p) => progress.push(p.fraction) });
    // 09:30 to 16:00 inclusive (391), and 2025-07-03 closes at 13:00 (211).
    expect(report.sessions.map((s) => s.date)).toEqual(['2025-07-02', '2025-07-03']);
    const tqqq = report.files.find((f) => f.symbol === 'TQQQ')!;
    expect(tqqq.bars).toBe(602);
    expect(tqqq.sessions).toBe(2);
    expect(progress.at(-1)).toBe(1);
    expect(progress.length).toBeGreaterThan(2);
    for (const symbol of ['TQQQ', 'SVIX']) {
      const expected = all.filter((b) => b.symbol === symbol && (nyse.isOpen(b.start) || nyse.sessionAt(b.start - 1)?.close === b.start));
      const { bars, report: r } = await readBarsFromCsv(symbol, join(out, `${symbol}.csv`));
      expect(r.badRows).toBe(0);
      expect(bars.map(({ receivedAt: _, vwap: _v, tradeCount: _n, ...b }) => b)).toEqual(expected.map(({ receivedAt: _, vwap: _v, tradeCount: _n, ...b }) => b));
    }
    const text = readFileSync(join(out, 'TQQQ.csv'), 'utf8').split('\n');
    expect(text[0]).toBe('ts_utc,ts_nyt_epoch,open,high,low,close,volume');
    expect(text[1]).toMatch(/^2025-07-02T09:30:00-04:00,1751463000,/);
  });

  it('rejects a range without sessions, naming it', async () => {
    await expect(downloadBars({ symbols: ['TQQQ'], from: '2025-07-04', outDir: dir(), baseUrl: server.restUrl, keys: server.keys })).rejects.toThrow(/no trading session between 2025-07-04 and 2025-07-04/);
  });
});

describe('feed-alpaca-download CLI', () => {
  const io = (env: Record<string, string | undefined>) => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { env, out: (t: string) => out.push(t), err: (t: string) => err.push(t), tty: false } };
  };

  it('downloads, printing progress and a table', async () => {
    server.addHistory(sessionsWithExtendedHours(['TQQQ'], ['2025-07-02']));
    const o = io({ APCA_API_KEY_ID: server.keys.keyId, APCA_API_SECRET_KEY: server.keys.secretKey });
    const out = dir();
    const code = await main(['--symbols', 'tqqq', '--from', '2025-07-02', '--out', out, '--base-url', server.restUrl], o.io);
    expect(code).toBe(0);
    expect(o.out.join('')).toMatch(/\| TQQQ \| .*TQQQ\.csv \| 391 \| 1 \| 0 \|/);
    expect(o.err.join('')).toMatch(/100 %/);
    expect(o.out.join('') + o.err.join('')).not.toContain(server.keys.secretKey);
  });

  it("writes each file's basis (alpaca, the feed, raw) and its corporate actions beside it; a replay reads them", async () => {
    server.addHistory(sessionsWithExtendedHours(['TQQQ'], ['2025-07-02']));
    server.addCorporateActions([makeCorporateAction({ symbol: 'TQQQ', kind: 'forward_split', exDate: '2025-01-13', ratio: 2, source: 'test' }), makeCorporateAction({ symbol: 'TQQQ', kind: 'forward_split', exDate: '2025-12-01', ratio: 2, source: 'test' })]);
    const o = io({ APCA_API_KEY_ID: server.keys.keyId, APCA_API_SECRET_KEY: server.keys.secretKey });
    const out = dir();
    expect(await main(['--symbols', 'TQQQ', '--from', '2025-07-02', '--out', out, '--base-url', server.restUrl, '--feed', 'sip'], o.io)).toBe(0);
    expect(readBasis(join(out, 'TQQQ.csv'))).toEqual({ provider: 'alpaca', feed: 'sip', adjustment: 'raw' });
    // The year before the range (for a warm-up) to its end: the January split, not December's.
    expect((await readActionsCsv(actionFilePath(join(out, 'TQQQ.csv')))).actions.map((a) => a.exDate)).toEqual(['2025-01-13']);
    expect(o.out.join('')).toMatch(/corporate actions: 1 written/);
  });

  it('without keys: says which variables to set, exit 2', async () => {
    const o = io({});
    expect(await main(['--symbols', 'TQQQ', '--from', '2025-07-02'], o.io)).toBe(2);
    expect(o.err.join('')).toMatch(/set APCA_API_KEY_ID and APCA_API_SECRET_KEY/);
  });

  it('bad usage: names the problem, exit 2', async () => {
    const o = io({});
    expect(await main(['--symbols', 'TQQQ', '--from', '07/02/2025'], o.io)).toBe(2);
    expect(o.err.join('')).toMatch(/--from must be a date YYYY-MM-DD \(got '07\/02\/2025'\)/);
  });

  it('--version prints the package version, exit 0; a misspelt flag names the closest one, exit 2', async () => {
    const v = io({});
    expect(await main(['--version'], v.io)).toBe(0);
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(v.out.join('')).toBe(`feed-alpaca-download ${version}\n`);
    const typo = io({});
    expect(await main(['--symbls', 'TQQQ', '--from', '2025-07-02'], typo.io)).toBe(2);
    expect(typo.err.join('')).toMatch(/unknown argument '--symbls' \(did you mean --symbols\?\)/);
  });

  it('a rejected key pair: exit 1 with the typed error, no secret', async () => {
    const o = io({ APCA_API_KEY_ID: 'AKBADKEY1234', APCA_API_SECRET_KEY: 'bad-secret-5678' });
    expect(await main(['--symbols', 'TQQQ', '--from', '2025-07-02', '--out', dir(), '--base-url', server.restUrl], o.io)).toBe(1);
    const text = o.err.join('');
    expect(text).toMatch(/HttpError \(http\): HTTP 401/);
    expect(text).not.toContain('bad-secret-5678');
  });
});

describe('the download never loses data', () => {
  const io = (env: Record<string, string>) => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { env, out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), tty: false }, out, err };
  };
  const keys = (): Record<string, string> => ({ APCA_API_KEY_ID: server.keys.keyId, APCA_API_SECRET_KEY: server.keys.secretKey });

  it('an empty answer ({bars:{}}) is exit 1 naming the symbol and the range, and an existing file stays as it was', async () => {
    const out = dir();
    server.addHistory(sessionsWithExtendedHours(['TQQQ'], ['2025-10-15']));
    await main(['--symbols', 'TQQQ', '--from', '2025-10-15', '--out', out, '--base-url', server.restUrl], io(keys()).io);
    const before = readFileSync(join(out, 'TQQQ.csv'), 'utf8');
    expect(before.split('\n').length).toBeGreaterThan(390);
    // A day the server has nothing for: the API answers {"bars":{}}.
    const run = io(keys());
    expect(await main(['--symbols', 'TQQQ', '--from', '2025-10-16', '--out', out, '--base-url', server.restUrl], run.io)).toBe(1);
    expect(run.err.join('')).toMatch(/no bars for TQQQ in 2025-10-16\.\.2025-10-16/);
    expect(readFileSync(join(out, 'TQQQ.csv'), 'utf8')).toBe(before);
  });

  it('an existing file with more bars of the range is kept (exit 1, said why); --force replaces it', async () => {
    const out = dir();
    server.addHistory(sessionsWithExtendedHours(['TQQQ'], ['2025-10-15']));
    await main(['--symbols', 'TQQQ', '--from', '2025-10-15', '--out', out, '--base-url', server.restUrl], io(keys()).io);
    const before = readFileSync(join(out, 'TQQQ.csv'), 'utf8');
    // The server now has fewer bars for that day (a partial answer).
    await server.close();
    server = await FakeAlpacaServer.start();
    server.addHistory(sessionsWithExtendedHours(['TQQQ'], ['2025-10-15']).filter((b) => b.start % (2 * MINUTE_MS) === 0));
    const run = io(keys());
    expect(await main(['--symbols', 'TQQQ', '--from', '2025-10-15', '--out', out, '--base-url', server.restUrl], run.io)).toBe(1);
    expect(run.err.join('')).toMatch(/TQQQ: kept .*TQQQ\.csv: it holds 391 bars of 2025-10-15\.\.2025-10-15, the download only 196 \(--force replaces it\)/);
    expect(readFileSync(join(out, 'TQQQ.csv'), 'utf8')).toBe(before);
    const forced = io(keys());
    expect(await main(['--symbols', 'TQQQ', '--from', '2025-10-15', '--out', out, '--base-url', server.restUrl, '--force'], forced.io)).toBe(0);
    expect((await readBarsFromCsv('TQQQ', join(out, 'TQQQ.csv'))).bars).toHaveLength(196);
  });

  it('--format arrow writes TQQQ.arrow, read back to the same bars as the CSV', async () => {
    const out = dir();
    server.addHistory(sessionsWithExtendedHours(['TQQQ'], ['2025-10-15']));
    expect(await main(['--symbols', 'TQQQ', '--from', '2025-10-15', '--out', out, '--base-url', server.restUrl], io(keys()).io)).toBe(0);
    expect(await main(['--symbols', 'TQQQ', '--from', '2025-10-15', '--out', out, '--base-url', server.restUrl, '--format', 'arrow'], io(keys()).io)).toBe(0);
    const csv = await loadBars('TQQQ', join(out, 'TQQQ.csv'), { cache: false });
    const arrow = await loadBars('TQQQ', join(out, 'TQQQ.arrow'));
    expect(arrow.report.source).toBe('arrow');
    expect(Array.from(arrow.bars.start)).toEqual(Array.from(csv.bars.start));
    expect(Array.from(arrow.bars.close)).toEqual(Array.from(csv.bars.close));
  });
});
