/**
 * The download command against hostile input: symbols that would name paths, a history that sends
 * what was not asked. Every case is named after the attack; nothing may be written outside --out.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bar, HistoricalBars, HistoryRequest } from '@feed/core';
import { ConfigError, MINUTE_MS, barFromValues } from '@feed/core';
import type { CliIo, DownloadProvider } from '../src/index.js';
import { downloadBars, runDownloadCli } from '../src/index.js';

const OPEN = Date.UTC(2025, 9, 16, 13, 30);
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function scratch(): Promise<{ root: string; out: string }> {
  const root = await mkdtemp(join(tmpdir(), 'feed-hostile-dl-'));
  dirs.push(root);
  return { root, out: join(root, 'out') };
}

/** A history that answers every asked symbol with three bars, and adds bars for `extra` symbols nobody asked for. */
function history(extra: string[] = []): HistoricalBars & { asked: HistoryRequest[] } {
  const asked: HistoryRequest[] = [];
  return {
    asked,
    barsBySymbol: (r) => {
      asked.push(r);
      const out = new Map<string, Bar[]>();
      for (const s of [...r.symbols, ...extra]) out.set(s, [0, 1, 2].map((m) => barFromValues(s, OPEN + m * MINUTE_MS, MINUTE_MS, 10, 11, 9, 10.5, 100, Number.NaN, -1, 0)));
      return Promise.resolve(out);
    },
  };
}

function cli(h: HistoricalBars): { io: CliIo; out: string[]; err: string[]; provider: DownloadProvider } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { env: {}, out: (t) => out.push(t), err: (t) => err.push(t), tty: false },
    provider: { command: 'feed-test-download', usage: 'usage: feed-test-download ...', flags: {}, options: () => ({ history: h }) },
  };
}

describe('the download command against hostile input', () => {
  it.each(['../pwned', '../../etc/cron.d/x', '/abs', 'a/b/c', '..', 'x y', 'ab\\cd', 'X'.repeat(30)])('--symbols %s: a usage error (exit 2) naming the symbol; nothing written anywhere', async (symbol) => {
    const { root, out } = await scratch();
    const h = history();
    const c = cli(h);
    const code = await runDownloadCli(['--symbols', `TQQQ,${symbol}`, '--from', '2025-10-16', '--out', out], c.io, c.provider);
    expect(code).toBe(2);
    expect(c.err.join('')).toMatch(/--symbols: ".*" must/);
    expect(c.err.join('')).not.toMatch(/ENOENT|\.tmp/);
    expect(h.asked).toHaveLength(0);
    expect(await readdir(root)).toEqual([]);
  });

  it('--symbols btc/usd: a pair is a ticker, written as BTC_USD.csv inside --out', async () => {
    const { out } = await scratch();
    const c = cli(history());
    expect(await runDownloadCli(['--symbols', 'btc/usd', '--from', '2025-10-16', '--out', out], c.io, c.provider)).toBe(0);
    expect(await readdir(out)).toEqual(['BTC_USD.csv']);
  });

  it('a history that also sends bars for "../../EVIL" and "__proto__": only the asked symbols are written', async () => {
    const { root, out } = await scratch();
    const c = cli(history(['../../EVIL', '__proto__']));
    expect(await runDownloadCli(['--symbols', 'TQQQ', '--from', '2025-10-16', '--out', out], c.io, c.provider)).toBe(0);
    expect(await readdir(out)).toEqual(['TQQQ.csv']);
    expect((await readdir(root)).sort()).toEqual(['out']);
  });

  it('downloadBars called with a path for a symbol: a ConfigError before any request', async () => {
    const { out } = await scratch();
    const h = history();
    const e = await downloadBars({ symbols: ['TQQQ', '../PWNED'], from: '2025-10-16', outDir: out, history: h }).catch((x: unknown) => x);
    expect(ConfigError.isInstance(e)).toBe(true);
    expect((e as ConfigError).issues).toEqual([{ path: 'symbols[1]', message: '"../PWNED" must be a ticker: uppercase letters and digits, with . or - inside and at most one / (BRK.B, BTC/USD)' }]);
    expect(h.asked).toHaveLength(0);
  });
});
