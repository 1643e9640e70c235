import * as z from 'zod';
import { InvalidFieldError } from '../domain/errors.js';
import { parseIsoUtc } from '../domain/time.js';

export type RequestPart = 'params' | 'query' | 'body';

/**
 * Parses one part of a request with its zod schema. The first problem becomes an InvalidFieldError (400)
 * whose `field` is the key path (`risk.sizing.type`; for an unknown key, that key) and whose message says
 * where and what: `body.virtual_balance: Too small: expected number to be >0`. `prefix` is the path of
 * `input` inside the part (`['risk']` for a body's `risk` object parsed on its own).
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  input: unknown,
  part: RequestPart,
  prefix: readonly string[] = [],
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) throw new InvalidFieldError(part, `${part}: invalid`);
  const path = [...prefix, ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => [...path, k].join('.'));
    throw new InvalidFieldError(
      keys[0] ?? part,
      `${part}.${keys.join(`, ${part}.`)}: unknown key${keys.length > 1 ? 's' : ''}`,
    );
  }
  const field = path.length > 0 ? path.join('.') : part;
  throw new InvalidFieldError(field, `${path.length > 0 ? `${part}.${field}` : part}: ${issue.message}`);
}

/** An epoch-ms integer or an ISO-8601 date (UTC when no zone), as query strings give them. */
export const timeParam = z
  .string()
  .transform((text, ctx) => {
    const t = text.trim();
    let ms: number;
    if (/^\d+$/.test(t)) ms = Number(t);
    else if (/^\d{4}-\d{2}-\d{2}/.test(t)) ms = parseIsoUtc(t);
    else ms = Number.NaN;
    if (!Number.isSafeInteger(ms) || ms < 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected epoch milliseconds or an ISO-8601 time, got "${text}"`,
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'epoch milliseconds or ISO-8601 (UTC when no zone)' });

/** A positive integer in a query string, at most `max`. */
export function intParam(min: number, max: number): z.ZodType<number, string> {
  return z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}
