// The closing line of .ci/run: "N passed, N failed" (", N skipped" when any were skipped), summed
// over the test command's log.
import { readFileSync } from 'node:fs';
import { summarize } from '../tooling/test-summary.mjs';

const { passed, failed, skipped } = summarize(readFileSync(process.argv[2], 'utf8'));
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
