import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Bar } from '@feed/core';
import { MINUTE_MS, makeBar } from '@feed/core';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { connectNats } from '@feed/nats';
import { NatsServer, findNatsServer } from '@feed/nats/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { cleanEnv, runApp } from './run.js';

const NATS = findNatsServer();
if (NATS === undefined && process.env.FEED_REQUIRE_NATS === '1') throw new Error('FEED_REQUIRE_NATS=1 but nats-server is not installed');
const SIX = ['TQQQ', 'SQQQ', 'UPRO', 'SDS', 'UVXY', 'SVIX'];

describe.skipIf(NATS === undefined)('the demo over NATS: --live --publish holds the Alpaca connection, --nats reads', () => {
  it('both print the same five slices and quality table', async () => {
    const alpaca = await FakeAlpacaServer.start();
    const nats = await NatsServer.start();
    const nc = await connectNats({ servers: nats.url });
    try {
      const open = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 5 * MINUTE_MS;
      const minute = (m: number): Bar[] =>
        SIX.map((symbol, k) => makeBar({ symbol, start: open + m * MINUTE_MS, open: 20 + k, high: 21 + k, low: 19 + k, close: 20.5 + k + m / 100, volume: 1000, receivedAt: 0 }));
      const env = (): NodeJS.ProcessEnv => cleanEnv({ FEED_DATA_DIR: mkdtempSync(join(tmpdir(), 'feed-data-')), APCA_API_KEY_ID: alpaca.keys.keyId, APCA_API_SECRET_KEY: alpaca.keys.secretKey });
      const publisher = runApp('src/main.ts', ['--live', '--url', alpaca.url(), '--publish', nats.url, '--minutes', '5'], env());
      // The consumer starts once the publisher has made the stream, and the bars flow once it reads.
      const jsm = await jetstreamManager(nc);
      await vi.waitFor(async () => expect((await jsm.streams.names().next()).includes('FEED_BARS')).toBe(true), { timeout: 30_000, interval: 50 });
      const consumer = runApp('src/main.ts', ['--nats', nats.url, '--minutes', '5'], env());
      await vi.waitFor(async () => expect((await jsm.consumers.list('FEED_BARS').next()).length).toBe(1), { timeout: 30_000, interval: 50 });
      await alpaca.waitFor((s) => s.subscribeMessages >= 1, 30_000);
      for (let m = 0; m < 5; m++) alpaca.publish(minute(m), { frameSize: 6 });
      const [p, c] = await Promise.all([publisher, consumer]);
      for (const r of [p, c]) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout.match(/^ {2}\d{4}-\d{2}-\d{2} \d{2}:\d{2} ET {2}6\/6 valid/gm)?.length).toBe(5);
        for (const s of SIX) expect(r.stdout).toMatch(new RegExp(`^${s}\\s+5\\s+0\\s+0\\s+0\\s`, 'm'));
      }
      expect(p.stdout).toContain(`publishing every bar to ${nats.url}`);
      expect(p.stdout).toMatch(/published 30 bars in \d+ messages \(0 repeats dropped by JetStream, 0 dropped, 0 refused\)/);
      // It competed for the one Alpaca connection and, alone, holds it.
      expect(p.stdout).toMatch(/holding the provider connection \(lease lease\.[0-9a-f]{16}/);
      expect(p.stdout).not.toContain(alpaca.keys.keyId);
      expect(c.stdout).toContain(`connecting to ${nats.url}`);
      expect(c.stdout).toMatch(/feed \(nats\): 30 bars, 0 errors/);
    } finally {
      await nc.close();
      await nats.stop();
      await alpaca.close();
    }
  }, 90_000);
});
