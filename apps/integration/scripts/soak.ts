/**
 * The fault soak of every live provider (see soak/engine.ts):
 *
 *   pnpm soak [--provider alpaca|polygon|all] [--thread inline|worker|both] [--runs N]
 *             [--seed N] [--minutes N] [--faults N] [--encoding json|msgpack]
 *
 * Prints one row a run; exit 1 when a check fails (each problem printed), 2 on bad arguments.
 */
import type { SoakEncoding, SoakReport, SoakTarget } from './soak/engine.js';
import { HEAD_AND_TAIL, runSoak } from './soak/engine.js';
import { TARGETS } from './soak/targets.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const usage = (message: string): never => {
  console.error(`soak: ${message}`);
  process.exit(2);
};
const number = (name: string, fallback: string): number => {
  const v = Number(arg(name, fallback));
  if (!Number.isInteger(v) || v < 0) usage(`--${name} must be a whole number >= 0 (got '${arg(name, fallback)}')`);
  return v;
};
const provider = arg('provider', 'all');
const targets: SoakTarget[] = provider === 'all' ? Object.values(TARGETS) : [TARGETS[provider] ?? usage(`--provider must be alpaca, polygon or all (got '${provider}')`)];
const thread = arg('thread', 'both');
if (!['inline', 'worker', 'both'].includes(thread)) usage(`--thread must be inline, worker or both (got '${thread}')`);
const threads = thread === 'both' ? [false, true] : [thread === 'worker'];
const base = number('seed', '20251016');
const runs = number('runs', '2');
const minutes = number('minutes', '390');
const faults = number('faults', String(Math.max(1, Math.floor((minutes - HEAD_AND_TAIL) / 12))));

let failed = false;
console.log('| provider | thread | run | encoding | seed | minutes | bars | faults | reconnects | refused | watchdog | REST retries | recovered | gaps unfilled (bars) | max held | problems | time |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const target of targets) {
  for (const worker of threads) {
    for (let r = 0; r < runs; r++) {
      const encoding = (arg('encoding', '') || target.encodings[r % target.encodings.length]) as SoakEncoding;
      if (!target.encodings.includes(encoding)) usage(`${target.name} speaks ${target.encodings.join(' and ')}, not ${encoding}`);
      const seed = base + r;
      let report: SoakReport;
      try {
        report = await runSoak({ target, seed, minutes, faults, encoding, worker });
      } catch (error) {
        if (error instanceof RangeError) usage(error.message);
        throw error;
      }
      console.log(
        `| ${target.name} | ${worker ? 'worker' : 'inline'} | ${r + 1} | ${encoding} | ${seed} | ${minutes} | ${report.bars} | ${report.faults.length} | ${report.reconnects} | ${report.refused406} | ${report.watchdogTrips} | ${report.restRetries} | ${report.recovered} | ${report.gapsUnfilled} (${report.lostInReportedGaps}) | ${(report.maxHeldMs / 1000).toFixed(1)} s | ${report.problems.length} | ${(report.ms / 1000).toFixed(1)} s |`,
      );
      if (report.problems.length > 0) {
        failed = true;
        for (const f of report.faults) console.log(`    ${f}`);
        for (const p of report.problems) console.log(`    PROBLEM: ${p}`);
      }
    }
  }
}
process.exit(failed ? 1 : 0);
