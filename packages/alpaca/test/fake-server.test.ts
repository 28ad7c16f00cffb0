import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualBarFeed, ManualClock } from '@feed/core';
import { FakeAlpacaServer } from '../src/testing.js';
import { bars, data, feedOn, record, OPEN, until } from './helpers.js';

let server: FakeAlpacaServer;
beforeEach(async () => {
  server = await FakeAlpacaServer.start();
});
afterEach(async () => {
  await server.close();
});

describe('FakeAlpacaServer', () => {
  it('streams the bars of a BarSource (here a ManualBarFeed), batched into frames', async () => {
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    const source = new ManualBarFeed(['TQQQ', 'SQQQ'], new ManualClock(OPEN));
    const stop = server.streamFrom(source);
    await source.connect();
    await source.start();
    const sent = bars(['TQQQ', 'SQQQ'], 3);
    const framesBefore = server.stats.framesSent;
    source.push(...sent);
    await until(() => expect(rec.bars).toHaveLength(6));
    expect(rec.bars.map(data)).toEqual(sent.map(data));
    expect(server.stats.framesSent - framesBefore).toBe(1);
    stop();
    source.push(...bars(['TQQQ'], 1, OPEN + 600_000));
    expect(server.history('TQQQ')).toHaveLength(3);
    await feed.disconnect();
  });

  it('plays a script: bars, a drop, waiting for the client to come back, more bars', async () => {
    const feed = feedOn(server);
    const rec = record(feed);
    await feed.connect();
    await feed.start();
    await server.play([{ bars: bars(['TQQQ'], 2) }, { drop: true }, { waitForClients: 1 }, { bars: bars(['TQQQ'], 1, OPEN + 120_000) }]);
    await until(() => expect(rec.bars).toHaveLength(3));
    expect(feed.stats().reconnects).toBe(1);
    await feed.disconnect();
  });

  it('answers a subscribe before auth with 401, a second auth with 403, and bad syntax with 400', async () => {
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(server.url());
    const replies: unknown[] = [];
    ws.on('message', (d: Buffer) => replies.push(...(JSON.parse(d.toString('utf8')) as unknown[])));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ action: 'subscribe', bars: ['TQQQ'] }));
    ws.send(JSON.stringify({ action: 'auth', key: server.keys.keyId, secret: server.keys.secretKey }));
    ws.send(JSON.stringify({ action: 'auth', key: server.keys.keyId, secret: server.keys.secretKey }));
    ws.send('not json');
    ws.send(JSON.stringify({ action: 'subscribe', bars: ['TQQQ'], updatedBars: ['*'] }));
    await until(() => expect(replies).toHaveLength(6));
    expect(replies).toEqual([
      { T: 'success', msg: 'connected' },
      { T: 'error', code: 401, msg: 'not authenticated' },
      { T: 'success', msg: 'authenticated' },
      { T: 'error', code: 403, msg: 'already authenticated' },
      { T: 'error', code: 400, msg: 'invalid syntax' },
      expect.objectContaining({ T: 'subscription', bars: ['TQQQ'], updatedBars: ['*'] }),
    ]);
    ws.close();
  });
});
