import { z } from 'zod';
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
 * A key that no (nested) object of the schema knows is refused with the closest valid name
 * (`maxForwardFill: unknown option (did you mean 'maxForwardFills'?)`); `others` names the
 * top-level options the caller checks itself (a clock, a callback).
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, label: string, pathPrefix = '', others: readonly string[] = []): z.output<S> {
  // A misspelt option is never silently ignored: each unknown name is refused with the closest valid one.
  const unknown = unknownOptions(schema, input, pathPrefix, others);
  if (unknown.length > 0) {
    throw new ConfigError({ code: 'invalid_option', message: `invalid ${label}: ${unknown.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues: unknown });
  }
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

/** The object schema under optional, default, nullable and pipe wrappers, or undefined. */
function objectOf(schema: z.ZodType): z.ZodObject | undefined {
  let s: z.ZodType = schema;
  for (let i = 0; i < 16; i++) {
    if (s instanceof z.ZodObject) return s;
    const def = (s as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } })._zod.def;
    const next = def.type === 'pipe' ? def.in : def.innerType;
    if (next === undefined) return undefined;
    s = next;
  }
  return undefined;
}

/** The edit distance of two names (for "did you mean"). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j] as number;
      d[j] = Math.min(cur + 1, (d[j - 1] as number) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length] as number;
}

/** The valid name closest to `name`, when close enough to be a likely typo. */
export function closestName(name: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    const dist = distance(name, v);
    if (dist < bestD) {
      bestD = dist;
      best = v;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Every key of `input` that its (nested) object schemas do not know, with the closest valid name. */
function unknownOptions(schema: z.ZodType, input: unknown, prefix: string, others: readonly string[] = []): ConfigIssue[] {
  const obj = objectOf(schema);
  if (obj === undefined || typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  // An object that takes other keys on purpose (a record, catchall, passthrough) is not checked.
  if ((obj as unknown as { _zod: { def: { catchall?: unknown } } })._zod.def.catchall !== undefined) return [];
  const shape = obj.shape as Record<string, z.ZodType>;
  const names = [...Object.keys(shape), ...others];
  const out: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const field = shape[key];
    if (field === undefined && others.includes(key)) continue;
    if (field === undefined) {
      const near = closestName(key, names);
      out.push({ path, message: `unknown option${near === undefined ? ` (valid: ${names.join(', ')})` : ` (did you mean '${near}'?)`}` });
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype) {
      out.push(...unknownOptions(field, value, path));
    }
  }
  return out;
}
