import type { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { ConfigError } from './errors.js';

/** `symbols.SDS.leverage`, `matrix[1][0]`: a zod path as a reader writes it. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Every problem zod found, as `{ path, message }` with readable messages. */
export function configIssues(error: z.ZodError, prefix = ''): ConfigIssue[] {
  return error.issues.map((i) => {
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown field(s): ${i.keys.join(', ')}`;
    // A bad record key: zod nests the key's own issue; report that, not "Invalid key in record".
    if (i.code === 'invalid_key') message = i.issues[0]?.message ?? message;
    const path = formatPath(i.path);
    return { path: prefix === '' ? path : path === '(root)' ? prefix : `${prefix}.${path}`, message };
  });
}

/**
 * Validates an options object (or any input) against `schema` once, at the boundary. Returns the
 * parsed value, or throws a `ConfigError` (`invalid_option`) that names `label` and lists every
 * problem as `path: message`, e.g. `invalid AlpacaMultiSymbolFeed options: reconnect.jitter: must be in [0, 1)`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, label: string, pathPrefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = configIssues(result.error, pathPrefix);
  throw new ConfigError({
    code: 'invalid_option',
    message: `invalid ${label}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
    cause: result.error,
  });
}

/**
 * The `ConfigError` for one bad option: `path` and what is wrong with it; `summary` replaces the
 * default message `path: message` when the sentence reads better whole.
 */
export function invalidOption(path: string, message: string, summary?: string): ConfigError {
  return new ConfigError({ code: 'invalid_option', message: summary ?? `${path}: ${message}`, issues: [{ path, message }] });
}
