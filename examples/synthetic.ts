/**
 * Synthetic data, no network: one session of the six leveraged ETFs (and the SPY and QQQ they are
 * built from) as CSV files in examples/data. Run: pnpm --filter @feed/examples synthetic
 */
import { fileURLToPath } from 'node:url';
import { generateFiles } from '@feed/synth';

const files = await generateFiles({ outDir: fileURLToPath(new URL('./data', import.meta.url)), from: '2025-10-16', to: '2025-10-16', seed: 42 });
for (const f of files) console.log(`${f.symbol.padEnd(5)} ${String(f.bars).padStart(4)} bars  ${f.source}`);
