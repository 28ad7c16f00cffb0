import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bar } from '@feed/core';
import { MINUTE_MS, makeBar, nyse } from '@feed/core';
import { realDataCsv } from '@feed/csv';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { FakePolygonServer } from '@feed/polygon/testing';
import { MIN_BARS_PER_SESSION } from '../src/prepare-data.js';
import { cleanEnv, runApp } from './run.js';

const DATE = '2025-10-16';
const session = nyse.sessionOn(DATE)!;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'feed-prepare-'));

/** `count` bars of `symbol` from the open of `date`. */
function sessionBars(symbol: string, count: number, price: number, date = DATE): Bar[] {
  const s = nyse.sessionOn(date)!;
  return Array.from({ length: count }, (_, i) =>
    makeBar({ symbol, start: s.open + i * MINUTE_MS, open: price, high: price + 0.1, low: price - 0.1, close: price + 0.05, volume: 1000 + i, receivedAt: 0 }),
  );
}
const write = (path: string, bars: Bar[]): void => writeFileSync(path, Buffer.concat(realDataCsv(bars).chunks));

const prepare = (args: string[], env = cleanEnv()) => runApp('src/prepare-data-cli.ts', args, env);
const row = (out: string, symbol: string): string => out.split('\n').find((l) => l.startsWith(`${symbol.padEnd(7)}`)) ?? '';

describe('pnpm prepare-data, run as a child process', () => {
  let server: FakeAlpacaServer | undefined;
  beforeEach(() => {
    server = undefined;
  });
  afterEach(async () => {
    await server?.close();
  });

  it('uses existing files with enough bars, synthesizes the rest, and never overwrites real data', async () => {
    const data = tmp();
    const out = tmp();
    write(join(data, 'TQQQ.csv'), sessionBars('TQQQ', 391, 60));
    // Too few bars for the session: real, but not enough; it must stay as it is.
    write(join(data, 'SDS.csv'), sessionBars('SDS', MIN_BARS_PER_SESSION - 1, 20));
    const sdsBefore = readFileSync(join(data, 'SDS.csv'));
    const r = await prepare([DATE, '--data', data, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(row(r.stdout, 'TQQQ')).toMatch(/existing\s+391\s+.*TQQQ\.csv/);
    for (const s of ['SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX']) {
      const rows = readFileSync(join(out, 'synthetic', `${s}.csv`), 'utf8').trim().split('\n').length - 1;
      expect(rows).toBeGreaterThanOrEqual(MIN_BARS_PER_SESSION);
      expect(row(r.stdout, s)).toMatch(new RegExp(`synthetic\\s+${rows}\\s+.*synthetic/${s}\\.csv`));
    }
    expect(row(r.stdout, 'SQQQ')).toMatch(/-3x QQQ \(daily reset\), on simulated QQQ/);
    expect(r.stdout).toMatch(/no Alpaca keys/);
    expect(readFileSync(join(data, 'SDS.csv')).equals(sdsBefore)).toBe(true);
    expect(existsSync(join(out, 'synthetic', 'SDS.csv'))).toBe(true);
    expect(existsSync(join(out, 'SDS.csv'))).toBe(false);
  }, 60_000);

  it('builds the synthetic funds on an existing SPY file', async () => {
    const data = tmp();
    write(join(data, 'SPY.csv'), sessionBars('SPY', 391, 660));
    const r = await prepare([DATE, '--data', data, '--out', tmp(), '--symbols', 'UPRO,SDS']);
    expect(r.code).toBe(0);
    expect(row(r.stdout, 'UPRO')).toMatch(/synthetic\s+391\s+.*3x SPY \(daily reset\), on SPY from .*SPY\.csv/);
  }, 60_000);

  it('with keys: downloads from Alpaca (the fake server), regular hours only, and says so', async () => {
    server = await FakeAlpacaServer.start();
    const all: Bar[] = [];
    for (const [k, s] of ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'].entries()) all.push(...sessionBars(s, 391, 20 + k));
    // A pre-market bar, which must not be written.
    all.push(makeBar({ symbol: 'TQQQ', start: session.open - 60 * MINUTE_MS, open: 1, high: 1, low: 1, close: 1, volume: 1, receivedAt: 0 }));
    server.addHistory(all);
    const out = tmp();
    const env = cleanEnv({ APCA_API_KEY_ID: server.keys.keyId, APCA_API_SECRET_KEY: server.keys.secretKey, FEED_ALPACA_DATA_URL: server.restUrl });
    const r = await prepare([DATE, '--out', out], env);
    expect(r.code).toBe(0);
    for (const s of ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX']) expect(row(r.stdout, s)).toMatch(/downloaded\s+391\s+/);
    expect(readFileSync(join(out, 'TQQQ.csv'), 'utf8').split('\n')).toHaveLength(391 + 2);
    expect(r.stdout + r.stderr).not.toContain(server.keys.secretKey);
  }, 60_000);

  it('with only POLYGON_API_KEY: downloads from Polygon (the fake server), regular hours only, and says so', async () => {
    const polygon = await FakePolygonServer.start();
    try {
      const all: Bar[] = [];
      for (const [k, s] of ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'].entries()) all.push(...sessionBars(s, 391, 20 + k));
      all.push(makeBar({ symbol: 'TQQQ', start: session.open - 60 * MINUTE_MS, open: 1, high: 1, low: 1, close: 1, volume: 1, receivedAt: 0 }));
      polygon.addBars(all);
      const out = tmp();
      const r = await prepare([DATE, '--out', out], cleanEnv({ POLYGON_API_KEY: polygon.apiKey, FEED_POLYGON_URL: polygon.url }));
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('from Polygon');
      for (const s of ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX']) expect(row(r.stdout, s)).toMatch(/downloaded\s+391\s+.*downloaded from Polygon/);
      expect(readFileSync(join(out, 'TQQQ.csv'), 'utf8').split('\n')).toHaveLength(391 + 2);
      expect(r.stdout + r.stderr).not.toContain(polygon.apiKey);
      // --source alpaca without Alpaca keys: nothing downloaded, and it says what to set.
      const alpacaOnly = await prepare([DATE, '--out', tmp(), '--symbols', 'TQQQ', '--source', 'alpaca'], cleanEnv({ POLYGON_API_KEY: polygon.apiKey, FEED_POLYGON_URL: polygon.url }));
      expect(alpacaOnly.stdout).toMatch(/no Alpaca keys: TQQQ will be synthesized/);
    } finally {
      await polygon.close();
    }
  }, 60_000);

  it('a failed download (rejected keys) falls back to synthetic data and says why', async () => {
    server = await FakeAlpacaServer.start();
    const env = cleanEnv({ APCA_API_KEY_ID: 'AKWRONG12345', APCA_API_SECRET_KEY: 'wrong-secret-999', FEED_ALPACA_DATA_URL: server.restUrl });
    const r = await prepare([DATE, '--out', tmp(), '--symbols', 'TQQQ'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/download failed \(http: HTTP 401: not authenticated.*falling back to synthetic data/);
    expect(row(r.stdout, 'TQQQ')).toMatch(/synthetic\s+391/);
    expect(r.stdout).not.toContain('wrong-secret-999');
  }, 60_000);

  it('rejects a bad date with the usage, exit 2', async () => {
    const r = await prepare(['16/10/2025']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unexpected argument '16\/10\/2025'/);
  }, 60_000);
});
