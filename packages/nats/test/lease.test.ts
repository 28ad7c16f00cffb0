import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '@feed/core';
import type { NatsConnection } from '@nats-io/nats-core';
import type { LeaseEvent } from '../src/index.js';
import { ConnectionLease, connectNats, leaseAccount } from '../src/index.js';
import { NatsServer } from '../src/testing.js';
import { NATS_SERVER } from './nats-server.js';

/** Waits for real I/O (the server's answers); time moves only by the manual clocks. */
const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 5 });
const TTL = 3_000;

describe.skipIf(NATS_SERVER === undefined)('ConnectionLease: one holder of the provider connection (JetStream key-value, compare-and-set)', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeEach(async () => {
    server = await NatsServer.start();
    nc = await connectNats({ servers: server.url });
  });
  afterEach(async () => {
    await nc.close();
    await server.stop();
  });

  const open = async (holder: string, clock: ManualClock): Promise<{ lease: ConnectionLease; events: LeaseEvent[] }> => {
    const lease = await ConnectionLease.open({ connection: nc, account: leaseAccount('AKFAKEKEYID'), holder, ttlMs: TTL, clock });
    const events: LeaseEvent[] = [];
    for (const t of ['acquired', 'standby', 'lost', 'error'] as const) lease.on(t, (e) => events.push(e));
    await lease.start();
    return { lease, events };
  };

  it('the first program holds it, the second waits; when the holder stops renewing, the standby takes it after the TTL on its own clock, and the old holder learns it lost it', async () => {
    const clockA = new ManualClock(0);
    const clockB = new ManualClock(1_000_000); // the machines' clocks need not agree
    const a = await open('a', clockA);
    expect(a.lease.held).toBe(true);
    await a.lease.whenHeld();
    const b = await open('b', clockB);
    expect(b.lease.held).toBe(false);
    expect(b.events).toEqual([{ type: 'standby', holder: 'a' }]);
    expect(b.lease.currentHolder).toBe('a');
    // While a renews (every TTL / 3), b never takes it.
    for (let i = 0; i < 9; i++) {
      const before = a.lease;
      clockA.advance(TTL / 3);
      await until(() => expect(clockA.pendingTimers).toBe(1));
      clockB.advance(TTL / 3);
      await until(() => expect(clockB.pendingTimers).toBe(1));
      expect(before.held).toBe(true);
      expect(b.lease.held).toBe(false);
    }
    // a's process hangs (its clock stops): after a TTL without a change, b takes it.
    for (let i = 0; i < 4 && !b.lease.held; i++) {
      clockB.advance(TTL / 3);
      await until(() => expect(clockB.pendingTimers).toBe(1));
    }
    expect(b.lease.held).toBe(true);
    expect(b.events.at(-1)).toMatchObject({ type: 'acquired', holder: 'b' });
    // a wakes up: its renewal is refused, it lets go.
    clockA.advance(TTL / 3);
    await until(() => expect(a.events.at(-1)).toEqual({ type: 'lost', reason: 'another program took the lease' }));
    expect(a.lease.held).toBe(false);
    await a.lease.release();
    await b.lease.release();
  });

  it('release() hands it over at the next look, without waiting for the TTL; a key id never appears in the key', async () => {
    const clockA = new ManualClock(0);
    const clockB = new ManualClock(0);
    const a = await open('a', clockA);
    const b = await open('b', clockB);
    expect(a.lease.key).toBe(`lease.${leaseAccount('AKFAKEKEYID')}`);
    expect(a.lease.key).not.toContain('AKFAKEKEYID');
    await a.lease.release();
    clockB.advance(TTL / 3);
    await until(() => expect(b.lease.held).toBe(true));
    await b.lease.whenHeld();
    await b.lease.release();
  });

  it('refuses a bad account name or TTL with a clear error', async () => {
    await expect(ConnectionLease.open({ connection: nc, account: 'has space' })).rejects.toThrow(/account must be letters/);
    await expect(ConnectionLease.open({ connection: nc, account: 'x', ttlMs: 0 })).rejects.toThrow(/ttlMs must be >= 30/);
  });
});
