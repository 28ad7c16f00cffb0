import { describe, expect, it } from 'vitest';
import { runSoak } from '../scripts/soak.js';

describe('fault soak (short; the full one is `pnpm soak`, run by .ci/run)', () => {
  it.each(['json', 'msgpack'] as const)('after drops, 406s and a silence, the history equals the source exactly (%s)', async (encoding) => {
    const report = await runSoak({ seed: 7, minutes: 120, drops: 3, encoding, minuteDelayMs: 2 });
    expect(report.firstDifference).toBeUndefined();
    expect(report.equal).toBe(true);
    expect(report.reconnects).toBeGreaterThanOrEqual(5);
    expect(report.watchdogTrips).toBe(1);
    expect(report.refused406).toBe(4);
    expect(report.recovered).toBeGreaterThan(0);
  });

  it('fails without gap fill: the check sees the lost bars', async () => {
    const report = await runSoak({ seed: 7, minutes: 120, drops: 3, encoding: 'json', minuteDelayMs: 2, gapFill: false });
    expect(report.equal).toBe(false);
    expect(report.firstDifference).toMatch(/history has .* source has/);
  });
});
