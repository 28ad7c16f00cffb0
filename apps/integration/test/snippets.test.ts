import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findNatsServer } from '@feed/nats/testing';
import { generateFiles } from '@feed/synth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from './run.js';
import { blocks, imported, installLine, programs } from './snippets.js';

/**
 * Every TypeScript snippet of the READMEs, run as a newcomer runs it: in a blank npm project that
 * installs the packed tarballs with only the README's own install line (the other @feed packages
 * resolve to their tarballs too, as the registry would, but a snippet may import only what the
 * line installs), from a folder holding `data/` (synthetic files of 2025-10-16 for the six ETFs,
 * SPY and QQQ). Each snippet is type-checked with `tsc --strict` (a skipped one too) and run; the package READMEs'
 * `npx` commands run there as well. A block that cannot run here (keys, the network) says why in
 * a `<!-- snippet: skip (why) -->` line, and this test prints every skip.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = readdirSync(join(REPO, 'packages')).filter((p) => readdirSync(join(REPO, 'packages', p)).includes('package.json'));
const require = createRequire(import.meta.url);
const TSX = pathToFileURL(require.resolve('tsx')).href;
const TSC = require.resolve('typescript/bin/tsc');
const TYPES = join(REPO, 'apps/integration/node_modules/@types');
const READMES: [string, string][] = [['README.md', join(REPO, 'README.md')], ...PACKAGES.map((p): [string, string] => [`packages/${p}/README.md`, join(REPO, 'packages', p, 'README.md')])];

const scratch = mkdtempSync(join(tmpdir(), 'feed-snippets-'));
const tarballs = new Map<string, string>();
const data = join(scratch, 'data');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function pnpm(args: string[], cwd: string): void {
  const exec = process.env.npm_execpath;
  if (exec !== undefined && /pnpm/.test(exec)) execFileSync(process.execPath, [exec, ...args], { cwd, stdio: 'pipe' });
  else execFileSync('npx', ['-y', 'pnpm@10.34.9', ...args], { cwd, stdio: 'pipe' });
}

beforeAll(async () => {
  const packs = join(scratch, 'packs');
  mkdirSync(packs);
  for (const p of PACKAGES) {
    const before = new Set(readdirSync(packs));
    pnpm(['pack', '--pack-destination', packs], join(REPO, 'packages', p));
    const name = (JSON.parse(readFileSync(join(REPO, 'packages', p, 'package.json'), 'utf8')) as { name: string }).name;
    const file = readdirSync(packs).find((f) => !before.has(f)) as string;
    tarballs.set(name, join(packs, file));
  }
  await generateFiles({ outDir: data, from: '2025-10-16', to: '2025-10-16', seed: 42 });
}, 180_000);

/** A blank project with the README's install line installed from the tarballs. */
function project(name: string, install: readonly string[]): string {
  const dir = join(scratch, name.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(dir);
  const overrides = Object.fromEntries([...tarballs].filter(([n]) => !install.includes(n)).map(([n, t]) => [n, `file:${t}`]));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'newcomer', version: '1.0.0', private: true, type: 'module', overrides }));
  const specs = install.map((n) => tarballs.get(n) ?? n);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], { cwd: dir, stdio: 'pipe' });
  cpSync(data, join(dir, 'data'), { recursive: true });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', noEmit: true, skipLibCheck: true, typeRoots: [TYPES], types: ['node'] }, include: ['snippet-*.ts'] }),
  );
  return dir;
}

/** The @feed/nats snippet starts a real nats-server: skipped without one, unless CI requires it. */
const noNats = findNatsServer() === undefined && process.env.FEED_REQUIRE_NATS !== '1';
const skipped: string[] = [];
afterAll(() => {
  if (skipped.length > 0) console.log(`README blocks not run here, and why:\n${skipped.map((s) => `  ${s}`).join('\n')}`);
});

for (const [name, path] of READMES) {
  const all = blocks(readFileSync(path, 'utf8'));
  const progs = programs(all);
  const commands = all.filter((b) => b.lang === 'sh' && b.directive.kind === 'run' && name !== 'README.md').flatMap((b) => b.code.split('\n')).filter((l) => l.startsWith('npx '));
  for (const b of all) if (b.directive.kind === 'skip') skipped.push(`${name}:${b.line} (${b.lang}): ${b.directive.reason}`);
  if (progs.length === 0 && commands.length === 0) continue;

  describe(`${name}: the snippets, in a blank project`, () => {
    const install = installLine(all);
    let dir = '';
    beforeAll(() => {
      dir = project(name, install ?? []);
      for (const p of progs) writeFileSync(join(dir, `snippet-${p.line}.ts`), p.code);
    }, 120_000);

    it('has an install line naming every package its snippets import', () => {
      expect(install, `${name} has no \`npm install\` line`).toBeDefined();
      const needed = [...new Set(progs.flatMap((p) => imported(p.code)))].sort();
      expect(needed.filter((n) => !(install as string[]).includes(n)), `${name}: imported but not installed`).toEqual([]);
    });

    it.skipIf(progs.length === 0)('type-checks with tsc --strict', () => {
      const r = spawnSync(process.execPath, [TSC, '-p', '.'], { cwd: dir, encoding: 'utf8' });
      expect(r.stdout + r.stderr, name).toBe('');
      expect(r.status).toBe(0);
    }, 120_000);

    for (const p of progs.filter((x) => x.skip === undefined)) {
      it.skipIf(noNats && name === 'packages/nats/README.md')(`runs the snippet at line ${p.line}`, () => {
        const r = spawnSync(process.execPath, ['--import', TSX, `snippet-${p.line}.ts`], { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
        expect(r.stderr, `${name}:${p.line}`).not.toMatch(/Error|error/);
        expect(r.status, `${name}:${p.line}\n${r.stdout}\n${r.stderr}`).toBe(0);
      }, 150_000);
    }

    for (const c of commands) {
      it(`runs \`${c}\``, () => {
        const r = spawnSync('bash', ['-c', c], { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
        expect(r.status, `${c}\n${r.stdout}\n${r.stderr}`).toBe(0);
      }, 150_000);
    }
  });
}
