import { z } from 'zod';
import type { Bar } from './bar.js';
import { makeBar } from './bar.js';
import { BarValidationError } from './errors.js';
import type { RejectReason, ValidationContext, ValidationRules } from './validate.js';
import { checkBar, resolveValidationRules } from './validate.js';

// Any JS number passes the type check: NaN and Infinity are then reported by the shared rules as
// `non_finite`, exactly as the fast validator reports them.
const anyNumber = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' });

/** The shape of a bar at a boundary, before the value rules. */
const barShape = z.strictObject({
  symbol: z.string().min(1, 'symbol is empty'),
  start: anyNumber,
  end: anyNumber,
  open: anyNumber,
  high: anyNumber,
  low: anyNumber,
  close: anyNumber,
  volume: anyNumber,
  vwap: anyNumber.optional(),
  tradeCount: anyNumber.optional(),
  receivedAt: anyNumber,
});

/**
 * A zod schema for a `Bar` at a boundary (files, network, config): checks the shape, then applies
 * the same rules as `validateBar` (it calls the same function). Each issue carries the rejection
 * reason in `params.reason`.
 */
export function barSchema(rules?: ValidationRules, ctx?: ValidationContext): z.ZodType<Bar> {
  const resolved = resolveValidationRules(rules);
  return barShape
    .superRefine((value, issueCtx) => {
      const rejection = checkBar(value as Bar, resolved, ctx);
      if (rejection !== undefined) {
        issueCtx.addIssue({
          code: 'custom',
          message: rejection.message,
          path: rejection.field === undefined ? [] : [rejection.field],
          params: { reason: rejection.reason },
        });
      }
    })
    .transform((value) => makeBar(value, resolved.intervalMs));
}

/** The default bar schema: one-minute bars, default rules, no clock or symbol context. */
export const BarSchema: z.ZodType<Bar> = barSchema();

/** The result of `safeParseBar`: the bar, or the reason and the error. */
export type ParseBarResult =
  | { readonly ok: true; readonly bar: Bar }
  | { readonly ok: false; readonly reason: RejectReason; readonly error: BarValidationError };

/** The rejection reason carried by a zod issue from `barSchema`, or `invalid_shape` for a shape issue. */
function reasonOf(issue: z.core.$ZodIssue): RejectReason {
  if (issue.code === 'custom') {
    const reason = (issue.params as { reason?: RejectReason } | undefined)?.reason;
    if (reason !== undefined) return reason;
  }
  return 'invalid_shape';
}

/** Validates unknown input as a bar; never throws. */
export function safeParseBar(input: unknown, rules?: ValidationRules, ctx?: ValidationContext): ParseBarResult {
  const result = barSchema(rules, ctx).safeParse(input);
  if (result.success) return { ok: true, bar: result.data };
  const issue = result.error.issues[0];
  const reason = issue ? reasonOf(issue) : 'invalid_shape';
  const field = issue?.path.map(String).join('.') || undefined;
  const symbol =
    typeof input === 'object' && input !== null && typeof (input as { symbol?: unknown }).symbol === 'string'
      ? (input as { symbol: string }).symbol
      : undefined;
  const where = [symbol, field].filter(Boolean).join(' ');
  const message = `invalid bar${where ? ` (${where})` : ''}: ${issue?.message ?? 'unknown problem'} [${reason}]`;
  return { ok: false, reason, error: new BarValidationError({ message, reason, symbol, field, cause: result.error }) };
}

/** Validates unknown input as a bar; throws `BarValidationError` naming the symbol, field and reason. */
export function parseBar(input: unknown, rules?: ValidationRules, ctx?: ValidationContext): Bar {
  const result = safeParseBar(input, rules, ctx);
  if (!result.ok) throw result.error;
  return result.bar;
}
