/**
 * Calibrates the volatility-ETF models on the real files and prints the coefficients (to paste into
 * VOL_MODELS) and the figures for the README. Run: pnpm calibrate (reads FEED_REAL_DATA_DIR or
 * shared/data/real).
 */
import { calibrateVolModel, correlation } from '../src/vol-model.js';
import { commonMinuteReturns, readBars, realDataDir } from '../test/real-files.js';

const dir = realDataDir();
if (dir === undefined) {
  console.error('no real data: set FEED_REAL_DATA_DIR');
  process.exit(1);
}
const spy = await readBars(dir, 'SPY');
for (const [symbol, proxy] of [['UVXY', -4], ['SVIX', 2]] as const) {
  const etf = await readBars(dir, symbol);
  const { model, correlation: c, minutes } = calibrateVolModel(spy, etf);
  const [rs, re] = commonMinuteReturns(spy, etf);
  const p = correlation(rs.map((x) => proxy * x), re);
  console.log(`${symbol}: ${minutes} minutes; model correlation ${c.toFixed(4)}; plain ${proxy}x SPY proxy ${p.toFixed(4)}`);
  console.log(`  coefficients: [${model.coefficients.map((x) => x.toPrecision(6)).join(', ')}]`);
}
