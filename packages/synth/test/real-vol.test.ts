import { validateBar } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { realDataLine } from '@feed/csv';
import { VOL_MODELS, correlation, generateVolEtf } from '../src/index.js';
import { commonMinuteReturns, readBars, realDataDir } from './real-files.js';

const dir = realDataDir();
if (dir === undefined && process.env.FEED_REQUIRE_REAL_DATA === '1') throw new Error('FEED_REQUIRE_REAL_DATA=1 but no real data directory');

describe.skipIf(dir === undefined)('real data: UVXY and SVIX generated from the real SPY file', () => {
  it('beat the plain -4x / +2x SPY proxies and reach 0.80 / 0.78 minute-return correlation with the real files', async () => {
    const spy = await readBars(dir as string, 'SPY');
    const lines: string[] = [];
    for (const [symbol, proxy, target] of [
      ['UVXY', -4, 0.8],
      ['SVIX', 2, 0.78],
    ] as const) {
      const real = await readBars(dir as string, symbol);
      const syn = generateVolEtf(spy, { symbol, model: VOL_MODELS[symbol]!, initialPrice: real[0]!.open, seed: 1 });
      expect(syn.filter((b) => validateBar(b) !== undefined)).toEqual([]);
      const [rs, rr] = commonMinuteReturns(syn, real);
      const model = correlation(rs, rr);
      const [ps, pr] = commonMinuteReturns(spy, real);
      const plain = correlation(
        ps.map((x) => proxy * x),
        pr,
      );
      lines.push(`${symbol}: model ${model.toFixed(4)} vs plain ${proxy}x SPY ${plain.toFixed(4)} over ${rs.length} minutes (target >= ${target})`);
      expect(model).toBeGreaterThanOrEqual(target);
      expect(model).toBeGreaterThan(plain);
    }
    console.log(lines.join('\n'));
  }, 60_000);

  it('is reproducible: the same inputs and seed give byte-identical output; another seed changes only the noise', async () => {
    const spy = (await readBars(dir as string, 'SPY')).slice(0, 5_000);
    const gen = (seed: number): string[] => generateVolEtf(spy, { symbol: 'UVXY', model: VOL_MODELS.UVXY!, initialPrice: 20, seed }).map((b) => realDataLine(b));
    const a = gen(7);
    expect(gen(7)).toEqual(a);
    const b = gen(8);
    expect(b).not.toEqual(a);
    // Closes come from the model, not the noise.
    expect(b.map((l) => l.split(',')[5])).toEqual(a.map((l) => l.split(',')[5]));
  }, 60_000);
});
