import { describe, expect, it } from 'vitest';
import { ManualClock, nyse } from '@feed/core';
import { FakeSocket } from '../test/fake-socket.js';
import { Session } from './connection.js';
import type { HeartbeatFault } from './heartbeat.js';
import { Heartbeat } from './heartbeat.js';

/** 2025-10-16 09:30 New York, a Thursday session. */
const OPEN = Date.UTC(2025, 9, 16, 13, 30);

function setup(at: number, expectsData = true) {
  const clock = new ManualClock(at);
  const faults: { fault: HeartbeatFault; detail: string; at: number }[] = [];
  const hb = new Heartbeat({
    clock,
    keepAlive: { pingIntervalMs: 10_000, pongTimeoutMs: 5_000 },
    watchdog: { noDataMs: 180_000, checkIntervalMs: 10_000, calendar: nyse },
    expectsData: () => expectsData,
    onFault: (_s, fault, detail) => faults.push({ fault, detail, at: clock.now() }),
  });
  const socket = new FakeSocket();
  socket.readyState = 1;
  const session = new Session(socket, 1, clock.now());
  session.phase = 'ready';
  hb.start(session);
  return { clock, hb, socket, session, faults };
}

describe('Heartbeat (on a ManualClock)', () => {
  it('keep-alive: a pong in time keeps the session; a missing pong is a fault exactly pongTimeoutMs after the ping', () => {
    const { clock, hb, socket, session, faults } = setup(OPEN + 3_600_000);
    clock.advance(10_000);
    expect(socket.pings).toBe(1);
    clock.advance(4_000);
    hb.pong(session);
    session.lastDataAt = clock.now();
    clock.advance(6_000); // the next ping at +20 s
    expect(socket.pings).toBe(2);
    expect(faults).toEqual([]);
    const pingAt = clock.now();
    clock.advance(4_999);
    expect(faults).toEqual([]);
    clock.advance(1);
    expect(faults).toEqual([{ fault: 'pong timeout', detail: 'no pong within 5000 ms', at: pingAt + 5_000 }]);
    expect(hb.pongTimeouts).toBe(1);
    expect(hb.timers).toBe(0);
  });

  it('watchdog: silence while the market is open trips after noDataMs (to the check interval)', () => {
    const { clock, hb, session, faults } = setup(OPEN + 3_600_000);
    // Pongs keep the connection alive; no data comes.
    hb.pong(session);
    for (let i = 0; i < 17; i++) {
      clock.advance(10_000);
      hb.pong(session);
    }
    expect(faults).toEqual([]);
    clock.advance(10_000);
    hb.pong(session);
    expect(faults.map((f) => f.fault)).toEqual(['no-data watchdog']);
    expect(faults[0]!.detail).toBe('no data for 180 s while the market is open');
    expect(hb.watchdogTrips).toBe(1);
  });

  it('watchdog: silence after the close is normal, and no data expected means no trip', () => {
    const night = setup(Date.UTC(2025, 9, 16, 21, 0));
    const idle = setup(OPEN + 3_600_000, false);
    for (const { clock, hb, session } of [night, idle]) {
      for (let i = 0; i < 60; i++) {
        clock.advance(10_000);
        hb.pong(session);
      }
    }
    expect(night.faults).toEqual([]);
    expect(idle.faults).toEqual([]);
  });

  it('stop() cancels every timer', () => {
    const { hb } = setup(OPEN);
    expect(hb.timers).toBe(2);
    hb.stop();
    expect(hb.timers).toBe(0);
  });
});
