import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv } from './run.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['core', 'csv', 'data-manager', 'mock', 'live', 'alpaca', 'polygon', 'synth'];
const scratch: string[] = [];
const tmp = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
};
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

const version = (root: string, dir: string): string => (JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { version: string }).version;
const bump = (v: string, kind: 'minor' | 'patch'): string => {
  const [a, b, c] = v.split('.').map(Number) as [number, number, number];
  return kind === 'minor' ? `${a}.${b + 1}.0` : `${a}.${b}.${c + 1}`;
};

/** pnpm: the one running this test (npm_execpath), else the README's. */
function pnpm(args: string[], cwd: string): string {
  const exec = process.env.npm_execpath;
  if (exec !== undefined && /pnpm/.test(exec)) return execFileSync(process.execPath, [exec, ...args], { cwd, encoding: 'utf8', stdio: 'pipe' });
  return execFileSync('npx', ['-y', 'pnpm@10.34.9', ...args], { cwd, encoding: 'utf8', stdio: 'pipe' });
}

describe('release flow', () => {
  it('a changeset for @feed/csv alone bumps csv (minor) and, as patches, exactly its dependents', () => {
    const copy = tmp('feed-release-');
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      mkdirSync(dirname(join(copy, f)), { recursive: true });
      cpSync(join(REPO, f), join(copy, f));
    }
    symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'));
    // Only this test's changeset: pending ones of real work would change the expected bumps.
    for (const f of readdirSync(join(copy, '.changeset'))) if (f.endsWith('.md') && f !== 'README.md') rmSync(join(copy, '.changeset', f));
    writeFileSync(join(copy, '.changeset', 'csv-change.md'), "---\n'@feed/csv': minor\n---\n\nA change to csv alone.\n");
    execFileSync(process.execPath, [join(REPO, 'node_modules/@changesets/cli/bin.js'), 'version'], { cwd: copy, stdio: 'pipe' });
    const expected: Record<string, string> = {
      'packages/core': version(REPO, 'packages/core'),
      'packages/data-manager': version(REPO, 'packages/data-manager'),
      'packages/csv': bump(version(REPO, 'packages/csv'), 'minor'),
      // These depend on @feed/csv, whose 0.2.0 leaves their ^0.1.0 range.
      'packages/mock': bump(version(REPO, 'packages/mock'), 'patch'),
      'packages/live': bump(version(REPO, 'packages/live'), 'patch'),
      'packages/alpaca': bump(version(REPO, 'packages/alpaca'), 'patch'),
      // Polygon depends on csv only through @feed/live, whose patch stays inside its range.
      'packages/polygon': version(REPO, 'packages/polygon'),
      'packages/synth': bump(version(REPO, 'packages/synth'), 'patch'),
      'apps/integration': version(REPO, 'apps/integration'),
      'tooling/tsconfig': version(REPO, 'tooling/tsconfig'),
    };
    const got = Object.fromEntries(Object.keys(expected).map((d) => [d, version(copy, d)]));
    expect(got).toEqual(expected);
    expect(readFileSync(join(copy, 'packages/csv/CHANGELOG.md'), 'utf8')).toContain('A change to csv alone.');
  }, 60_000);

  it('pnpm pack of every package installs into an empty project with npm, which imports each from ESM and CommonJS', () => {
    const packs = tmp('feed-packs-');
    for (const p of PACKAGES) pnpm(['pack', '--pack-destination', packs], join(REPO, 'packages', p));
    const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz')).map((f) => join(packs, f));
    expect(tarballs).toHaveLength(PACKAGES.length);
    // workspace: ranges must have been rewritten to real versions.
    for (const t of tarballs) {
      const manifest = execFileSync('tar', ['-xOzf', t, 'package/package.json'], { encoding: 'utf8' });
      expect(manifest, t).not.toContain('workspace:');
      const listing = execFileSync('tar', ['-tzf', t], { encoding: 'utf8' });
      expect(listing, t).toContain('package/LICENSE');
      expect(listing, t).toContain('package/dist/index.js');
    }
    const project = tmp('feed-consumer-');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs], { cwd: project, stdio: 'pipe' });
    const checks: [string, string][] = [
      ['@feed/core', 'makeBar'],
      ['@feed/data-manager', 'MultiSymbolDataManager'],
      ['@feed/csv', 'loadBars'],
      ['@feed/mock', 'MockMultiSymbolFeed'],
      ['@feed/live', 'RetryingGet'],
      ['@feed/alpaca', 'AlpacaMultiSymbolFeed'],
      ['@feed/alpaca/testing', 'FakeAlpacaServer'],
      ['@feed/polygon', 'PolygonMultiSymbolFeed'],
      ['@feed/polygon/testing', 'FakePolygonServer'],
      ['@feed/synth', 'generateLeveraged'],
    ];
    const esm = checks.map(([m, e]) => `if (typeof (await import(${JSON.stringify(m)}))[${JSON.stringify(e)}] !== 'function') throw new Error(${JSON.stringify(`${m}: no ${e}`)});`).join('\n');
    const cjs = checks.map(([m, e]) => `if (typeof require(${JSON.stringify(m)})[${JSON.stringify(e)}] !== 'function') throw new Error(${JSON.stringify(`${m}: no ${e}`)});`).join('\n');
    execFileSync(process.execPath, ['--input-type=module', '-e', `${esm}\nconsole.log('esm ok');`], { cwd: project, stdio: 'pipe' });
    execFileSync(process.execPath, ['--input-type=commonjs', '-e', `${cjs}\nconsole.log('cjs ok');`], { cwd: project, stdio: 'pipe' });
    // The contract travels inside @feed/core, and every README's link to it resolves in node_modules.
    expect(readFileSync(join(project, 'node_modules/@feed/core/docs/semantics.md'), 'utf8')).toMatch(/^# Semantics/);
    for (const p of PACKAGES) {
      const readme = readFileSync(join(project, 'node_modules/@feed', p, 'README.md'), 'utf8');
      const links = [...readme.matchAll(/\]\((\.{1,2}\/[^)#\s]+)\)/g)].map((m) => m[1] as string);
      for (const l of links.filter((x) => x.endsWith('.md'))) expect(existsSync(join(project, 'node_modules/@feed', p, l)), `${p}/README.md -> ${l}`).toBe(true);
      if (p !== 'core') expect(readme, p).toContain('](../core/docs/semantics.md)');
    }
    // apache-arrow is an optional peer: not installed unasked; without it CSV works (cache off, said
    // in the report) and an Arrow file is a typed error naming the package to install.
    expect(readdirSync(join(project, 'node_modules'))).not.toContain('apache-arrow');
    writeFileSync(join(project, 'TQQQ.csv'), 'ts_utc,ts_nyt_epoch,open,high,low,close,volume\n2025-10-16T09:30:00-04:00,1760621400,1,1,1,1,10\n');
    const lean = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { loadBars, readArrowFile } from '@feed/csv';
const { report } = await loadBars('TQQQ', 'TQQQ.csv');
console.log(report.source, report.loaded, report.cacheError);
try { await readArrowFile('TQQQ.arrow'); } catch (e) { console.log(e.code, e.message); }`,
      ],
      { cwd: project, encoding: 'utf8', env: cleanEnv({ FEED_CACHE_DIR: join(project, 'cache') }) },
    );
    expect(lean).toContain('csv 1 the cache is off: it needs apache-arrow, an optional peer dependency of @feed/csv (npm install apache-arrow)');
    expect(lean).toContain('missing_dependency reading TQQQ.arrow needs apache-arrow, an optional peer dependency of @feed/csv: npm install apache-arrow');
    // The commands the packages ship.
    expect(execFileSync(join(project, 'node_modules/.bin/feed-alpaca-download'), ['--help'], { encoding: 'utf8' })).toContain('usage: feed-alpaca-download');
    expect(execFileSync(join(project, 'node_modules/.bin/feed-polygon-download'), ['--help'], { encoding: 'utf8' })).toContain('usage: feed-polygon-download');
    const synth = spawnSync(join(project, 'node_modules/.bin/feed-synth'), ['--help'], { encoding: 'utf8' });
    expect(synth.status).toBe(0);
    expect(synth.stdout + synth.stderr).toMatch(/usage: feed-synth/);
  }, 240_000);
});
