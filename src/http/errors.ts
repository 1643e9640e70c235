import type { Middleware } from 'koa';
import { RxtradeError } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';

/** The body of every error answer. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details: Readonly<Record<string, unknown>>;
  };
}

/** RxtradeError codes → HTTP status and the API's error code. Anything else is a 500. */
const BY_CODE: Readonly<Record<string, readonly [number, string]>> = {
  usage: [400, 'bad_request'],
  invalid_data: [400, 'bad_request'],
  unauthorized: [401, 'unauthorized'],
  not_found: [404, 'not_found'],
  conflict: [409, 'conflict'],
  db_locked: [503, 'unavailable'],
  db_unavailable: [503, 'unavailable'],
  interrupted: [503, 'unavailable'],
};

/** Client errors raised by Koa and its body parser (http-errors, `expose: true`). */
const BY_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * The one error middleware: renders every failure as `{ error: { code, message, details } }`. Project errors
 * map by their `code`; an error carrying a `field` (InvalidFieldError) or a message that starts a clause with
 * a key path (`risk.sizing.type: …`) names it in `details.field`. Unknown errors are a 500 with a generic
 * message: the stack and the original message go to the log only.
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = errorBody('not_found', `no route ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const [status, body] = renderError(err);
      if (status >= 500) {
        logger.error({ err, method: ctx.method, path: ctx.path }, 'HTTP request failed');
      }
      ctx.status = status;
      ctx.body = body;
    }
  };
}

export function renderError(err: unknown): [number, ErrorBody] {
  if (err instanceof RxtradeError) {
    const [status, code] = BY_CODE[err.code] ?? [500, 'internal'];
    if (status >= 500 && code === 'internal') return [500, errorBody('internal', 'internal error')];
    const field = fieldOf(err);
    return [status, errorBody(code, err.message, field !== undefined ? { field } : {})];
  }
  // Koa's and the body parser's client errors (http-errors, or co-body's JSON SyntaxError with status 400).
  const httpError = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    const status = httpError.status;
    const message =
      err instanceof SyntaxError
        ? `invalid JSON body: ${err.message}`
        : httpError.expose === true && typeof httpError.message === 'string'
          ? httpError.message
          : (BY_STATUS[status] ?? 'bad request').replace(/_/g, ' ');
    return [status, errorBody(BY_STATUS[status] ?? 'bad_request', message)];
  }
  return [500, errorBody('internal', 'internal error')];
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, details } };
}

/** A key path opening a clause: `config/bots/x.json: risk.sizing.type: expected …` → `risk.sizing.type`. */
const FIELD_IN_MESSAGE = /(?:^|: )([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+|\[\d+\])*): /i;

function fieldOf(err: RxtradeError): string | undefined {
  const own = (err as { field?: unknown }).field;
  if (typeof own === 'string') return own;
  if (err.code !== 'usage' && err.code !== 'invalid_data') return undefined;
  return FIELD_IN_MESSAGE.exec(err.message)?.[1];
}
