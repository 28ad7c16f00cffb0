import { fileURLToPath } from 'node:url';

/**
 * The app's own data directory (git-ignored): downloads and synthetic files of `prepare-data` and the
 * demo. `FEED_DATA_DIR` moves it (tests use a temporary directory).
 */
export const APP_DATA_DIR = process.env.FEED_DATA_DIR || fileURLToPath(new URL('../data', import.meta.url));
