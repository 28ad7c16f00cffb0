#!/usr/bin/env node
/** The `feed-polygon-download` command; see download-cli.ts. */
import { runCommand } from '@feed/live';
import { main } from './download-cli.js';

runCommand(main);
