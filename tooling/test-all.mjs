// `pnpm test`: turbo's test task in every package, its output passed through as it comes, then one
// closing line with the total over every package (turbo's own summary counts tasks, not tests).
import { spawn } from 'node:child_process';
import { summarize } from './test-summary.mjs';

const args = process.argv.slice(2);
if (args[0] === '--') args.shift();
const turbo = spawn('turbo', ['run', 'test', ...args], { stdio: ['inherit', 'pipe', 'pipe'], shell: process.platform === 'win32' });
let text = '';
for (const [from, to] of [
  [turbo.stdout, process.stdout],
  [turbo.stderr, process.stderr],
]) {
  from.on('data', (chunk) => {
    text += chunk.toString();
    to.write(chunk);
  });
}
turbo.on('close', (code) => {
  const s = summarize(text);
  console.log(`\ntests: ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''} in ${s.packages} package${s.packages === 1 ? '' : 's'}`);
  process.exitCode = code ?? 1;
});
