// Sums Vitest's per-package "Tests ..." lines from a log into one plain closing line:
// "N passed, N failed" (", N skipped" when any were skipped).
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const line of text.split('\n')) {
  const m = /^\S*:?\s*Tests\s+(.*)$/.exec(line.replace(/^[^:]+:test:\s*/, ''));
  if (!m) continue;
  const body = m[1];
  passed += Number(/(\d+) passed/.exec(body)?.[1] ?? 0);
  failed += Number(/(\d+) failed/.exec(body)?.[1] ?? 0);
  skipped += Number(/(\d+) skipped/.exec(body)?.[1] ?? 0);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
