import { basename, dirname, resolve } from 'node:path';
import { ConfigError, symbolFileName } from '@feed/core';

/**
 * `name` inside `dir`, as an absolute path, checked to stay there (resolved, then compared): a name
 * that would reach outside (`../x`, an absolute path, a separator) is a `ConfigError`. Every writer
 * builds its paths through this, or through `barFilePath`.
 */
export function fileInside(dir: string, name: string): string {
  const root = resolve(dir);
  const path = resolve(root, name);
  if (dirname(path) !== root || basename(path) !== name || name === '' || name === '.' || name === '..') {
    throw new ConfigError({ code: 'invalid_option', message: `refused to write ${JSON.stringify(name.slice(0, 60))}: it is not a file name inside ${root}`, issues: [{ path: 'file', message: 'must be a plain file name inside the output folder' }] });
  }
  return path;
}

/** The file of `symbol`'s bars in `dir` (`TQQQ.csv`, `BTC_USD.arrow`): the symbol checked as a ticker, the path checked to stay in `dir`. */
export function barFilePath(dir: string, symbol: string, format: 'csv' | 'arrow'): string {
  return fileInside(dir, symbolFileName(symbol, format));
}
