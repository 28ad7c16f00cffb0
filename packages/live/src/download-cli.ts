/**
 * The download command every provider shares: flags, progress, the table, exit codes and the
 * never-lose-data rules of `downloadBars`. A provider's command (`feed-alpaca-download`,
 * `feed-polygon-download`) supplies only its name, usage, extra flags and history client.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FeedError, closestName, symbolProblem } from '@feed/core';
import type { DownloadOptions } from './download.js';
import { downloadBars } from './download.js';

/** What a provider's download command adds to the shared one: its name, usage, keys and history client. */
export interface DownloadProvider {
  /** The command's name, in messages (`feed-alpaca-download`). */
  readonly command: string;
  readonly usage: string;
  /** The provider package's version, for `--version` (`packageVersion(import.meta.url)`). */
  readonly version?: string | undefined;
  /** Flags beyond the shared ones (`symbols from to out format base-url force`), with their allowed values. */
  readonly flags: Readonly<Record<string, readonly string[]>>;
  /** The provider's history client (with its keys) and any other option of `downloadBars`, or why it cannot run (exit 2). */
  options(args: Readonly<Record<string, string>>, io: CliIo): (Partial<DownloadOptions> & Pick<DownloadOptions, 'history'>) | string;
}

/** Where a command reads its environment and writes its output (the process, or a test's buffers). */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Whether `err` is a terminal (progress is redrawn in place) or a log (a line per 10 %). */
  readonly tty: boolean;
  readonly fetch?: typeof fetch;
}

/**
 * The version in the package.json nearest above a module (`import.meta.url` of a command's entry,
 * in `src/` or `dist/`), or undefined.
 */
export function packageVersion(moduleUrl: string): string | undefined {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 5; i++) {
    try {
      const v = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
      if (typeof v === 'string') return v;
    } catch {
      // not here: one folder up
    }
    dir = dirname(dir);
  }
  return undefined;
}

function parse(argv: readonly string[], provider: DownloadProvider): Record<string, string> | string {
  const out: Record<string, string> = {};
  const flags = ['symbols', 'from', 'to', 'out', 'base-url', 'format', ...Object.keys(provider.flags)];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--version' || a === '-V') return 'version';
    if (a === '--force') {
      out.force = 'yes';
      continue;
    }
    const m = new RegExp(`^--(${flags.join('|')})(?:=(.*))?$`).exec(a);
    if (m === null) {
      const near = a.startsWith('--') ? closestName(a.slice(2).split('=')[0] as string, [...flags, 'force', 'help', 'version']) : undefined;
      return `unknown argument '${a}'${near === undefined ? '' : ` (did you mean --${near}?)`}`;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value.startsWith('--')) return `--${m[1]} needs a value`;
    out[m[1] as string] = value;
  }
  if (out.symbols === undefined) return '--symbols is required';
  if (out.from === undefined) return '--from is required';
  for (const k of ['from', 'to'] as const) {
    if (out[k] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(out[k])) return `--${k} must be a date YYYY-MM-DD (got '${out[k]}')`;
  }
  for (const [flag, allowed] of Object.entries(provider.flags)) {
    const v = out[flag];
    if (v !== undefined && !allowed.includes(v)) return `--${flag} must be ${allowed.join(', ')} (got '${v}')`;
  }
  if (out.format !== undefined && !['csv', 'arrow'].includes(out.format)) return `--format must be csv or arrow (got '${out.format}')`;
  return out;
}

/**
 * The download command every provider shares (the same flags, progress, table, exit codes and
 * never-lose-data rules of `downloadBars`), with the provider's keys and history client.
 */
export async function runDownloadCli(argv: readonly string[], io: CliIo, provider: DownloadProvider): Promise<number> {
  const name = provider.command;
  const args = parse(argv, provider);
  if (args === 'help') {
    io.out(`${provider.usage}\n`);
    return 0;
  }
  if (args === 'version') {
    io.out(`${name} ${provider.version ?? 'unknown'}\n`);
    return 0;
  }
  if (typeof args === 'string') {
    io.err(`${name}: ${args}\n${provider.usage}\n`);
    return 2;
  }
  const own = provider.options(args, io);
  if (typeof own === 'string') {
    io.err(`${name}: ${own}\n`);
    return 2;
  }
  const symbols = (args.symbols as string).split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const s of symbols) {
    const problem = symbolProblem(s);
    if (problem !== undefined) {
      io.err(`${name}: --symbols: ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s)} ${problem}\n${provider.usage}\n`);
      return 2;
    }
  }
  if (symbols.length === 0) {
    io.err(`${name}: --symbols lists no symbol\n${provider.usage}\n`);
    return 2;
  }
  let lastTenth = -1;
  const started = performance.now();
  try {
    const report = await downloadBars({
      symbols,
      from: args.from as string,
      ...(args.to === undefined ? {} : { to: args.to }),
      outDir: args.out ?? '.',
      format: (args.format ?? 'csv') as 'csv' | 'arrow',
      force: args.force === 'yes',
      ...own,
      onProgress: (p) => {
        const pct = Math.round(p.fraction * 100);
        if (io.tty) {
          const filled = Math.round(p.fraction * 30);
          io.err(`\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${String(pct).padStart(3)} %  ${p.bars} bars  ${p.symbol}   `);
        } else if (Math.floor(pct / 10) > lastTenth) {
          lastTenth = Math.floor(pct / 10);
          io.err(`${pct} %  ${p.bars} bars  ${p.symbol}\n`);
        }
      },
    });
    if (io.tty) io.err('\n');
    io.out(`downloaded ${report.sessions.length} session(s), ${args.from}..${args.to ?? args.from}, in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    io.out('| symbol | file | bars | sessions | outside regular hours (not written) |\n|---|---|---|---|---|\n');
    for (const f of report.files) io.out(`| ${f.symbol} | ${f.path} | ${f.bars} | ${f.sessions} | ${f.outsideHours} |\n`);
    if (report.actionsError !== undefined) io.err(`${name}: the bars are written, but the corporate actions could not be read (no .actions.csv written): ${report.actionsError.message}\n`);
    else if (report.files.length > 0 && provider.options !== undefined) io.out(`corporate actions: ${report.actions} written beside the files (.actions.csv); each file's basis in .basis.json\n`);
    const range = `${args.from}..${args.to ?? args.from}`;
    for (const k of report.kept) {
      io.err(`${name}: ${k.symbol}: kept ${k.path}: it holds ${k.existing} bars of ${range}, the download only ${k.downloaded} (--force replaces it)\n`);
    }
    if (report.empty.length > 0) {
      io.err(`${name}: no bars for ${report.empty.join(', ')} in ${range} (nothing written for ${report.empty.length === 1 ? 'it' : 'them'}): a wrong symbol, a range without data on this feed, or a plan that cannot read it\n`);
    }
    return report.empty.length > 0 || report.kept.length > 0 ? 1 : 0;
  } catch (error) {
    if (io.tty) io.err('\n');
    const what = FeedError.isInstance(error) ? `${error.name} (${error.code})` : 'error';
    io.err(`${name}: ${what}: ${(error as Error).message}\n`);
    return 1;
  }
}

/** Runs a command's `main` on this process: its arguments, environment and streams; sets the exit code. */
export function runCommand(main: (argv: readonly string[], io: CliIo) => Promise<number>): void {
  void main(process.argv.slice(2), {
    env: process.env,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    tty: process.stderr.isTTY === true,
  }).then((code) => {
    process.exitCode = code;
  });
}
