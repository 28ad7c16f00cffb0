import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { FeedError } from '@feed/core';
import type * as Arrow from 'apache-arrow';

let library: typeof Arrow | undefined;

/**
 * `apache-arrow`, loaded the first time an Arrow file is read or written: an optional peer
 * dependency, so that a program that never touches Arrow does not install it. Missing, it is a
 * `FeedError` (code `missing_dependency`) saying what needed it and what to install.
 */
export function arrowLibrary(what: string): typeof Arrow {
  if (library !== undefined) return library;
  // The CommonJS build knows its __filename; the ESM build, its URL (the bundler's own `require`
  // shim throws on a name it cannot see, so Node's is made here in both). Code run by `node -e` or in
  // an eval'd worker sees a global __filename ('[eval]', '[worker eval]'): not a path, so not ours.
  const load = createRequire(typeof __filename === 'string' && isAbsolute(__filename) ? __filename : import.meta.url);
  try {
    library = load('apache-arrow') as typeof Arrow;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((error as Error).message).includes('apache-arrow')) throw error;
    throw new FeedError({
      code: 'missing_dependency',
      message: `${what} needs apache-arrow, an optional peer dependency of @feed/csv: npm install apache-arrow`,
      detail: { package: 'apache-arrow' },
      cause: error,
    });
  }
  return library;
}

/** Whether `apache-arrow` can be loaded (the CSV cache is off without it). */
export function hasArrowLibrary(): boolean {
  try {
    arrowLibrary('the Arrow cache');
    return true;
  } catch {
    return false;
  }
}
