import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { Bar } from '@feed/core';
import { MINUTE_MS, SystemClock, makeBar, sameBarData, sleep } from '@feed/core';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { NatsBarFeed } from '@feed/nats';
import { NatsServer, findNatsServer } from '@feed/nats/testing';

const NATS = findNatsServer();
if (NATS === undefined && process.env.FEED_REQUIRE_NATS === '1') throw new Error('FEED_REQUIRE_NATS=1 but nats-server is not installed');

const SIX = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];
const HOLDER = fileURLToPath(new URL('./fixtures/lease-holder.ts', import.meta.url));
// Bars of minutes well in the past (the programs run on the system clock: nothing is ahead of it).
const BASE = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 2_000 * MINUTE_MS;

function minute(m: number): Bar[] {
  return SIX.map((symbol, i) => {
    const p = 20 + i * 7 + m * 0.01;
    return makeBar({ symbol, start: BASE + m * MINUTE_MS, open: p, high: p + 0.1, low: p - 0.1, close: p + 0.02, volume: 100 + m, receivedAt: 0 });
  });
}

const until = (check: () => void, timeout = 30_000): Promise<void> => vi.waitFor(check, { timeout, interval: 10 });

/** One `--live --publish` program (tsx) and the lines it printed. */
function program(holder: string, env: Record<string, unknown>): { proc: ChildProcess; lines: string[] } {
  const proc = spawn(process.execPath, ['--import', 'tsx', HOLDER], { env: { ...process.env, LEASE_HOLDER: JSON.stringify({ ...env, holder }) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let rest = '';
  proc.stdout?.on('data', (d: Buffer) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  proc.stderr?.on('data', (d: Buffer) => lines.push(`stderr: ${d.toString()}`));
  return { proc, lines };
}

describe.skipIf(NATS === undefined)('one holder of the Alpaca connection among several --live --publish programs (a lease in JetStream key-value)', () => {
  it('exactly one connects; kill -9 of the holder: the standby takes the lease within its TTL, connects, fills the minutes between from REST; every bar exactly once at a consumer', async () => {
    const alpaca = await FakeAlpacaServer.start();
    const nats = await NatsServer.start();
    const env = { nats: nats.url, url: alpaca.url(), restUrl: alpaca.restUrl, keys: alpaca.keys, symbols: SIX };
    const consumer = new NatsBarFeed({ symbols: SIX, connection: { servers: nats.url }, from: 'all', durable: 'reader' });
    const got: Bar[] = [];
    consumer.on('bar', (e) => got.push(e.bar));
    const a = program('program-a', env);
    let b: ReturnType<typeof program> | undefined;
    try {
      await until(() => expect(a.lines).toContain('live'));
      const standby = program('program-b', env);
      b = standby;
      await until(() => expect(standby.lines.some((l) => l.startsWith('standby'))).toBe(true));
      expect(standby.lines.join('\n')).toMatch(/standby: program-a holds the provider connection/);
      expect(alpaca.stats.connections).toBe(1);
      await consumer.connect();
      await consumer.start();
      const clock = new SystemClock();
      let m = 0;
      // A minute every 20 ms of real time: the stream runs while the programs hand over.
      const publishMinutes = async (count: number): Promise<void> => {
        for (const end = m + count; m < end; m++) {
          alpaca.publish(minute(m));
          await sleep(clock, 20);
        }
      };
      await publishMinutes(20);
      await until(() => expect(got.length).toBe(20 * SIX.length));
      a.proc.kill('SIGKILL');
      // Nobody holds the connection for about the lease's TTL: these minutes reach REST only.
      await publishMinutes(30);
      await until(() => expect(standby.lines).toContain('live'));
      await publishMinutes(20);
      const all = Array.from({ length: m }, (_, k) => minute(k)).flat();
      await until(() => expect(got.length).toBeGreaterThanOrEqual(all.length));
      const key = (x: Bar): string => `${x.symbol}@${x.start}`;
      expect(got.map(key).sort()).toEqual(all.map(key).sort());
      const want = new Map(all.map((x) => [key(x), x]));
      for (const x of got) expect(sameBarData(x, want.get(key(x)) as Bar)).toBe(true);
      // B connected only after A went: two connections in all, never two at once.
      expect(alpaca.stats.connections).toBe(2);
      expect(alpaca.stats.refused406).toBe(0);
      const filled = Number(/^filled (\d+)$/m.exec(standby.lines.join('\n'))?.[1]);
      expect(filled).toBeGreaterThan(0);
      expect(standby.lines.join('\n')).toMatch(/holding the provider connection/);
      // No key id or secret in anything either program printed.
      for (const l of [...a.lines, ...standby.lines]) {
        expect(l).not.toContain(alpaca.keys.keyId);
        expect(l).not.toContain(alpaca.keys.secretKey);
      }
    } finally {
      a.proc.kill('SIGKILL');
      b?.proc.kill('SIGKILL');
      await consumer.disconnect();
      await nats.stop();
      await alpaca.close();
    }
  }, 120_000);
});
