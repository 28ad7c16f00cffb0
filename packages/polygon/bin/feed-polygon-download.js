#!/usr/bin/env node
// A committed launcher, so that installing a workspace (before any build) can link the command.
import '../dist/cli.js';
