import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, planFaults, runSoak } from '../scripts/soak/engine.js';
import { ALPACA, POLYGON } from '../scripts/soak/targets.js';

describe('fault soak (short; the full one is `pnpm soak`, run by .ci/run)', { timeout: 60_000 }, () => {
  // Inline and in a worker thread (worker: true): the same faults, the same checks.
  it.each([
    ['alpaca', 'json', ALPACA, false],
    ['alpaca', 'msgpack', ALPACA, false],
    ['polygon', 'json', POLYGON, false],
    ['alpaca', 'msgpack', ALPACA, true],
    ['polygon', 'json', POLYGON, true],
  ] as const)('every kind of fault once: each happened, and nothing is lost outside a reported gap (%s, %s, worker: %s)', async (_name, encoding, target, worker) => {
    const report = await runSoak({ target, seed: 7, minutes: 200, faults: FAULT_KINDS.length, encoding, worker });
    expect(report.problems).toEqual([]);
    for (const k of FAULT_KINDS) expect(report.injected[k]).toBe(1);
    expect(report.refused406).toBe(4);
    expect(report.watchdogTrips).toBe(1);
    expect(report.gapsUnfilled).toBe(2);
    expect(report.recovered).toBeGreaterThan(0);
    expect(report.maxHeldMs).toBeLessThanOrEqual(10_000);
  });

  it('runs across sessions and nights (a silence near the close trips the next morning)', async () => {
    const report = await runSoak({ target: POLYGON, seed: 11, minutes: 800, faults: 8, encoding: 'json', kinds: ['silence', 'drop'] });
    expect(report.problems).toEqual([]);
    expect(report.watchdogTrips).toBe(4);
  });

  it('fails without gap fill: the check sees the lost bars', async () => {
    const report = await runSoak({ target: ALPACA, seed: 7, minutes: 120, faults: 3, encoding: 'json', kinds: ['drop'], gapFill: false });
    expect(report.problems.some((p) => /lost, in no reported gap/.test(p))).toBe(true);
  });

  it('plans many faults in a short run without looping, and refuses too many with a clear error', () => {
    const plan = planFaults(390, 60, FAULT_KINDS, () => 0.5);
    expect(plan.size).toBe(60);
    expect(() => planFaults(30, 60, FAULT_KINDS, () => 0.5)).toThrow(/60 faults do not fit in 30 minutes/);
  });
});
