import { findNatsServer } from '../src/testing.js';

/** The server binary, or undefined: the suites that need it skip (or fail under FEED_REQUIRE_NATS=1, as in .ci/run). */
export const NATS_SERVER = findNatsServer();
if (NATS_SERVER === undefined && process.env.FEED_REQUIRE_NATS === '1') {
  throw new Error('FEED_REQUIRE_NATS=1 but nats-server is not installed (Debian package nats-server)');
}
if (NATS_SERVER === undefined) console.log('@feed/nats: nats-server not found: skipping the suites that need it (install the Debian package nats-server)');
