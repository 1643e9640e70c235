import type Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import { parseRequest } from './validate.js';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler answers: a JSON body and its status (200 by default). */
export interface RouteResult {
  readonly status?: number;
  readonly body: unknown;
}

export interface RouteResponse {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** Default application/json. */
  readonly contentType?: string;
}

/**
 * One API route: its path, the zod schemas of its path parameters, query and body (validated before the
 * handler runs: a problem is a 400 naming the field), its answers, and the handler. The same declaration
 * mounts the route on the router and describes it in /api/openapi.json.
 */
export interface RouteSpec<
  P extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  B extends z.ZodType | undefined,
> {
  readonly method: 'get' | 'post' | 'put';
  /** Koa-router syntax: `/api/bots/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /**
   * Returns the answer, or undefined when it wrote `ctx` itself (a non-JSON body such as /metrics).
   */
  handle(input: {
    readonly params: Out<P>;
    readonly query: Out<Q>;
    readonly body: Out<B>;
    readonly ctx: Context;
  }): Promise<RouteResult | undefined>;
}

/** A route with its types erased, as the router and the OpenAPI builder see it. */
export type Route = RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

export function route<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): Route {
  return spec as unknown as Route;
}

/** Mounts the routes: validation, then the handler; `ctx.state.route` is the path template (for metrics). */
export function mountRoutes(router: Router, routes: readonly Route[]): void {
  for (const r of routes) {
    router[r.method](r.path, async (ctx: Context) => {
      ctx.state.route = r.path;
      const params = r.params === undefined ? undefined : parseRequest(r.params, ctx.params, 'params');
      const query = r.query === undefined ? undefined : parseRequest(r.query, ctx.query, 'query');
      const body =
        r.body === undefined
          ? undefined
          : parseRequest(r.body, (ctx.request as { body?: unknown }).body ?? {}, 'body');
      const result = await r.handle({ params, query, body, ctx });
      if (result !== undefined) {
        ctx.status = result.status ?? 200;
        ctx.body = result.body;
      }
    });
  }
}
