// Sums Vitest's per-package "Tests ..." lines of a log (turbo prefixes them with the task's name).

/**
 * @param {string} log
 * @returns {{ passed: number, failed: number, skipped: number, packages: number }}
 */
export function summarize(log) {
  const text = log.replace(/\x1b\[[0-9;]*m/g, '');
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let packages = 0;
  for (const line of text.split('\n')) {
    const m = /^\S*:?\s*Tests\s+(.*)$/.exec(line.replace(/^[^:]+:test:\s*/, ''));
    if (!m) continue;
    packages++;
    const body = m[1];
    passed += Number(/(\d+) passed/.exec(body)?.[1] ?? 0);
    failed += Number(/(\d+) failed/.exec(body)?.[1] ?? 0);
    skipped += Number(/(\d+) skipped/.exec(body)?.[1] ?? 0);
  }
  return { passed, failed, skipped, packages };
}
