#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { FeedError, closestName, loadSymbolConfig, symbolProblem } from '@feed/core';
import type { GenerateOptions } from './generate.js';
import { generateFiles } from './generate.js';

const USAGE = `usage: feed-synth --out DIR [--spy FILE] [--qqq FILE] [--from YYYY-MM-DD --to YYYY-MM-DD] [--seed N] [--symbols A,B] [--config FILE]
                  [--format csv|arrow] [--splits SYMBOL:YYYY-MM-DD:RATIO,...]

Writes the ETF files (TQQQ, SQQQ, UPRO, SDS, UVXY, SVIX by default) and their base files (SPY, QQQ)
into DIR in the real-data CSV format (or Arrow IPC with --format arrow). Bases come from --spy / --qqq files, or are simulated over the
NYSE sessions of --from .. --to. --splits places splits in the funds (UVXY:2025-10-16:0.1 is a
1-for-10 reverse split on that date): the files hold the bars as traded, and SYMBOL.actions.csv the split.`;

class UsageError extends Error {}
/** `--version`: printed, exit 0. */
class VersionRequest extends Error {}

const FLAGS = ['out', 'spy', 'qqq', 'from', 'to', 'seed', 'symbols', 'config', 'format', 'splits', 'help', 'version'];

/** This package's version (its package.json is one folder above src/ and dist/). */
function version(): string {
  try {
    const v = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

function parse(argv: string[]): GenerateOptions {
  const opts: GenerateOptions = { outDir: '' };
  const base: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--help' || flag === '-h') throw new UsageError('');
    if (flag === '--version' || flag === '-V') throw new VersionRequest();
    if (!FLAGS.includes(flag.replace(/^--/, ''))) {
      const near = flag.startsWith('--') ? closestName(flag.slice(2), FLAGS) : undefined;
      throw new UsageError(`unknown option '${flag}'${near === undefined ? '' : ` (did you mean --${near}?)`}`);
    }
    const value = argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case '--out':
        opts.outDir = value;
        break;
      case '--spy':
        base.SPY = value;
        break;
      case '--qqq':
        base.QQQ = value;
        break;
      case '--from':
        opts.from = value;
        break;
      case '--to':
        opts.to = value;
        break;
      case '--seed': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seed must be a whole number >= 0 (got '${value}')`);
        opts.seed = n;
        break;
      }
      case '--symbols':
        opts.symbols = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
        for (const s of opts.symbols) {
          const problem = symbolProblem(s);
          if (problem !== undefined) throw new UsageError(`--symbols: ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s)} ${problem}`);
        }
        break;
      case '--splits':
        opts.splits = value.split(',').map((item) => {
          const m = /^([A-Za-z0-9.]+):(\d{4}-\d{2}-\d{2}):([0-9.]+)$/.exec(item.trim());
          const ratio = m === null ? Number.NaN : Number(m[3]);
          if (m === null || !(ratio > 0) || ratio === 1) throw new UsageError(`--splits: '${item.slice(0, 60)}' is not SYMBOL:YYYY-MM-DD:RATIO (a ratio > 0, not 1: 2 a 2-for-1 split, 0.1 a 1-for-10 reverse split)`);
          return { symbol: (m[1] as string).toUpperCase(), exDate: m[2] as string, ratio };
        });
        break;
      case '--format':
        if (value !== 'csv' && value !== 'arrow') throw new UsageError(`--format must be csv or arrow (got '${value}')`);
        opts.format = value;
        break;
      case '--config':
        (opts as { configPath?: string }).configPath = value;
        break;
      default:
        throw new UsageError(`unknown option '${flag}'`);
    }
  }
  if (opts.outDir === '') throw new UsageError('--out DIR is required');
  for (const d of [opts.from, opts.to]) if (d !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new UsageError(`dates are YYYY-MM-DD (got '${d}')`);
  if ((opts.from === undefined) !== (opts.to === undefined)) throw new UsageError(`give both --from and --to, or neither (got only ${opts.from === undefined ? '--to' : '--from'})`);
  opts.baseFiles = base;
  return opts;
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  const configPath = (opts as { configPath?: string }).configPath;
  if (configPath !== undefined) opts.config = await loadSymbolConfig(configPath);
  const started = process.hrtime.bigint();
  const files = await generateFiles({
    ...opts,
    onProgress: (e) => process.stderr.write(`[${e.done}/${e.total}] ${e.symbol.padEnd(5)} ${e.bars.toLocaleString('en-US').padStart(9)} bars  ${e.source}\n`),
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${files.map((f) => f.path).join('\n')}\nwrote ${files.length} files in ${(ms / 1000).toFixed(2)} s\n`);
}

main().catch((error: unknown) => {
  if (error instanceof VersionRequest) {
    process.stdout.write(`feed-synth ${version()}\n`);
    return;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message ? `feed-synth: ${error.message}\n\n` : ''}${USAGE}\n`);
    process.exitCode = error.message ? 2 : 0;
    return;
  }
  process.stderr.write(`feed-synth: ${FeedError.isInstance(error) ? error.message : error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
