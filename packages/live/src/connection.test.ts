import { describe, expect, it } from 'vitest';
import type { FeedError } from '@feed/core';
import { ConnectionError, ManualClock } from '@feed/core';
import { fakeFactory } from '../test/fake-socket.js';
import { resolveReconnectPolicy } from './backoff.js';
import type { Session } from './connection.js';
import { Connection } from './connection.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function connection(options: { maxAttempts?: number; fatal?: (e: FeedError) => boolean } = {}) {
  const clock = new ManualClock(0);
  const { factory, sockets } = fakeFactory();
  const log: string[] = [];
  const closed: string[] = [];
  const c = new Connection(
    {
      url: 'ws://127.0.0.1:1/x',
      headers: () => ({}),
      factory,
      clock,
      policy: resolveReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0, maxAttempts: options.maxAttempts ?? 3 }),
      random: () => 0.5,
      connectTimeoutMs: 50,
      isFatal: options.fatal ?? (() => false),
      redact: (t) => t.replaceAll('SECRET', '***'),
    },
    {
      open: (s) => log.push(`open ${s.attempt}`),
      frame: (s, data) => log.push(`frame ${s.attempt} ${String(data)}`),
      pong: () => log.push('pong'),
      closed: (_s, reason) => closed.push(reason),
      retry: (attempt, delayMs, e) => log.push(`retry ${attempt} ${delayMs} ${e.message}`),
    },
  );
  return { c, clock, sockets, log, closed };
}

describe('Connection (on a ManualClock)', () => {
  it('an attempt that gets no handshake fails at connectTimeoutMs, and is retried after the backoff delay', async () => {
    const { c, clock, sockets, log } = connection();
    const done = c.connect();
    sockets[0]!.open();
    clock.advance(49);
    expect(sockets).toHaveLength(1);
    clock.advance(1); // the connect timeout
    await flush();
    expect(log).toContain('retry 1 100 no subscription reply within 50 ms');
    clock.advance(99);
    await flush();
    expect(sockets).toHaveLength(1);
    clock.advance(1); // the backoff delay
    await flush();
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    c.ready(c.session as Session);
    await expect(done).resolves.toBe(2);
    expect(sockets[0]!.terminated).toBe(true);
  });

  it('gives up after maxAttempts failures in a row with a ConnectionError naming the last', async () => {
    const { c, clock, sockets } = connection({ maxAttempts: 2 });
    const done = c.connect();
    const failed = done.catch((e: unknown) => e);
    sockets[0]!.serverClose(1011);
    await flush();
    clock.advance(100);
    await flush();
    sockets[1]!.serverClose(1011);
    const e = (await failed) as ConnectionError;
    expect(ConnectionError.isInstance(e)).toBe(true);
    expect(e.message).toMatch(/gave up after 2 attempts in a row; last: connection closed \(code 1011: bye\)/);
    expect(c.attempts).toBe(2);
  });

  it('a fatal error ends the attempts at once', async () => {
    const { c, sockets } = connection({ fatal: () => true });
    const done = c.connect();
    sockets[0]!.open();
    c.fail(c.session as Session, new ConnectionError({ message: 'refused for good' }));
    await expect(done).rejects.toThrow('refused for good');
    expect(sockets).toHaveLength(1);
  });

  it('terminate() during a backoff wait ends it at once with aborted, and no socket follows', async () => {
    const { c, sockets } = connection();
    const done = c.connect();
    sockets[0]!.serverClose();
    await flush();
    c.terminate();
    await expect(done).rejects.toMatchObject({ code: 'aborted' });
    expect(sockets).toHaveLength(1);
    expect(c.timers).toBe(0);
  });

  it('a ready session that closes by itself is reported (redacted) once; frames of an ended session are ignored', async () => {
    const { c, sockets, closed, log } = connection();
    const done = c.connect();
    sockets[0]!.open();
    sockets[0]!.receive('hello');
    c.ready(c.session as Session);
    await done;
    sockets[0]!.emit('close', 1006, Buffer.from('SECRET went away'));
    sockets[0]!.receive('late');
    expect(closed).toEqual(['connection closed (code 1006: *** went away)']);
    expect(log.filter((l) => l.startsWith('frame'))).toEqual(['frame 1 hello']);
    expect(c.session).toBeUndefined();
  });
});
