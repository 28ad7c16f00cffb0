#!/usr/bin/env node
/** The `feed-polygon-download` command; see download-cli.ts. */
import { main } from './download-cli.js';

void main(process.argv.slice(2), {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
}).then((code) => {
  process.exitCode = code;
});
