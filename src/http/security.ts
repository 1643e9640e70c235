import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { UnauthorizedError } from '../domain/errors.js';

/** 127.0.0.0/8, ::1 and localhost: the hosts a server may bind without a token. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Constant-time comparison (of fixed-length digests, so the token's length does not leak either). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * With a token configured, every mutating request (anything but GET, HEAD, OPTIONS) must carry it as
 * `Authorization: Bearer <token>`; reads stay open. Without a token (loopback only) nothing is asked.
 */
export function requireToken(token: string | undefined): Middleware {
  return async (ctx, next) => {
    if (token !== undefined && !SAFE_METHODS.has(ctx.method)) {
      if (!tokenMatches(bearerToken(ctx.get('authorization') || undefined), token)) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new UnauthorizedError(
          'this route needs the API token: Authorization: Bearer <RXTRADE_API_TOKEN>',
        );
      }
    }
    await next();
  };
}

export const DEFAULT_CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/** Security headers on every answer (set before the handler, so errors carry them too). */
export function securityHeaders(contentSecurityPolicy: string): Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    ctx.set('Content-Security-Policy', contentSecurityPolicy);
    ctx.remove('X-Powered-By');
    await next();
  };
}
