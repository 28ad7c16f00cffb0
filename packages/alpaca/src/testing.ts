/**
 * A fake of Alpaca's market-data service for tests, on 127.0.0.1: the stream and the historical bars
 * endpoint, with fault injection. `import { FakeAlpacaServer } from '@feed/alpaca/testing'`.
 * @module @feed/alpaca/testing
 */
export type { FakeAlpacaServerOptions, FakeServerStats, ScriptStep } from './testing/fake-server.js';
export { FakeAlpacaServer } from './testing/fake-server.js';
export type { RestFault, RestFaults } from './testing/rest-handler.js';
export { formatTime } from './testing/time-format.js';
