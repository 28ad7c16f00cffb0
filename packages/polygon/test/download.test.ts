import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MINUTE_MS, barFromValues, zonedTimeToEpoch } from '@feed/core';
import { main } from '../src/download-cli.js';
import { FakePolygonServer } from '../src/testing.js';

let server: FakePolygonServer;
beforeEach(async () => {
  server = await FakePolygonServer.start({ pageSize: 200 });
});
afterEach(async () => {
  await server.close();
});

/** A whole day of minutes for `symbol` on 2025-10-06 (pre-market to after hours), as Polygon has them. */
function addDay(symbol: string): void {
  const first = zonedTimeToEpoch('America/New_York', 2025, 10, 6, 8, 0, 0);
  const bars = Array.from({ length: 12 * 60 }, (_, m) => barFromValues(symbol, first + m * MINUTE_MS, MINUTE_MS, 50, 51, 49, 50.5, 100, Number.NaN, -1, 0));
  server.addBars(bars);
}

async function run(argv: string[], env: Record<string, string | undefined>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { env, out: (t) => (out += t), err: (t) => (err += t), tty: false });
  return { code, out, err };
}

describe('feed-polygon-download (the shared download command with Polygon as the source)', () => {
  it('writes the regular session with the closing-auction bar, one file per symbol, and says so', async () => {
    addDay('TQQQ');
    addDay('SQQQ');
    const dir = mkdtempSync(join(tmpdir(), 'feed-polygon-dl-'));
    const r = await run(['--symbols', 'TQQQ,SQQQ', '--from', '2025-10-06', '--out', dir, '--base-url', server.url], { POLYGON_API_KEY: server.apiKey });
    expect(r.err).not.toContain('feed-polygon-download:'); // progress lines only
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\| TQQQ \| .*TQQQ\.csv \| 391 \| 1 \|/);
    const lines = readFileSync(join(dir, 'SQQQ.csv'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(392); // the header and 09:30 .. 16:00
    expect(`${r.out}${r.err}`).not.toContain(server.apiKey);
  });

  it('without a key it says what to set and exits 2; a symbol without bars exits 1', async () => {
    const none = await run(['--symbols', 'TQQQ', '--from', '2025-10-06'], {});
    expect(none.code).toBe(2);
    expect(none.err).toContain('set POLYGON_API_KEY');
    const dir = mkdtempSync(join(tmpdir(), 'feed-polygon-dl-'));
    const empty = await run(['--symbols', 'NOPE', '--from', '2025-10-06', '--out', dir, '--base-url', server.url], { POLYGON_API_KEY: server.apiKey });
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/no bars for NOPE/);
  });
});
