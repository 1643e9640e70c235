import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import compress from 'koa-compress';
import type { BotControl } from '../bots/botControl.js';
import type { Bus } from '../bus/bus.js';
import { RedisBus } from '../bus/redisBus.js';
import { packageVersion } from '../cli/packageRoot.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import type { Database } from '../storage/database.js';
import { defaultStrategyRegistry, type StrategyRegistry } from '../strategies/registry.js';
import type { BacktestService } from './backtests/backtestService.js';
import { backtestRoutes } from './backtests/routes.js';
import { botRoutes } from './bots/routes.js';
import { errorMiddleware } from './errors.js';
import { healthRoutes } from './health/routes.js';
import type { MarketSnapshot } from './market/marketSnapshot.js';
import { marketRoutes } from './market/routes.js';
import { ApiMetrics } from './metrics.js';
import { openApiDocument } from './openapi/document.js';
import { mountRoutes, route, type Route } from './route.js';
import { DEFAULT_CONTENT_SECURITY_POLICY, requireToken, securityHeaders } from './security.js';
import { strategyRoutes } from './strategies/routes.js';

export interface HttpConfig {
  /**
   * RXTRADE_API_TOKEN: when set, every mutating route and Socket.IO need it (`Authorization: Bearer …`).
   * startHttpServer refuses a non-loopback host without one.
   */
  readonly token?: string;
  /** Largest JSON body (default `1mb`): larger is a 413. */
  readonly bodyLimit?: string;
  /** Content-Security-Policy header (default: same-origin only). */
  readonly contentSecurityPolicy?: string;
}

/** The services the API is built from: injected, so tests run it on real stores with a twin BotControl. */
export interface HttpAppOptions {
  readonly bots: BotControl;
  readonly db: Database;
  readonly bus: Bus;
  readonly backtests: BacktestService;
  /** The feed's latest books and trades; without it those routes answer 404 / empty. */
  readonly market?: MarketSnapshot;
  readonly strategies?: StrategyRegistry;
  readonly config?: HttpConfig;
  readonly logger?: Logger;
  /**
   * Middleware mounted after the API routes, for what is not /api (the dashboard's `dashboardMiddleware()`,
   * static files). It runs inside the error and security middleware.
   */
  readonly middleware?: readonly Middleware[];
  /** Wall clock (epoch ms) for ages in /api/health. */
  readonly now?: () => number;
}

export interface HttpApp {
  readonly koa: Koa;
  readonly options: HttpAppOptions;
  readonly routes: readonly Route[];
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
}

/**
 * Builds the Koa app of the HTTP API (no socket is opened: see startHttpServer). Middleware order: latency
 * metrics → compression → error rendering → security headers → token check → body parser (size limit) →
 * routes → extra middleware (the dashboard).
 *
 * Compression (koa-compress): bodies of at least 1 KB of a compressible type (JSON, text, the dashboard's
 * script and style) are sent br, gzip or deflate as the client's Accept-Encoding prefers.
 */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const logger = (options.logger ?? silentLogger).child({ component: 'http' });
  const config = options.config ?? {};
  const now = options.now ?? Date.now;
  const metrics = new ApiMetrics(options.bus, () => options.backtests.running(), now);
  const routes: Route[] = [
    ...healthRoutes({
      bots: options.bots,
      db: options.db,
      bus: options.bus,
      redis: options.bus instanceof RedisBus,
      market: options.market,
      metrics,
      now,
    }),
    ...botRoutes(options.bots),
    ...marketRoutes(options.db, options.market),
    ...strategyRoutes(options.strategies ?? defaultStrategyRegistry()),
    ...backtestRoutes(options.backtests),
  ];
  let openapi: unknown;
  routes.push(
    route({
      method: 'get',
      path: '/api/openapi.json',
      summary: 'This document',
      tag: 'meta',
      responses: { 200: { description: 'OpenAPI 3.1' } },
      handle: async () => ({ body: (openapi ??= openApiDocument(routes, packageVersion())) }),
    }),
  );

  const koa = new Koa({ proxy: false });
  koa.silent = true;
  const router = new Router();
  mountRoutes(router, routes);
  koa.use(metrics.middleware());
  koa.use(compress({ threshold: 1024 }));
  koa.use(errorMiddleware(logger));
  koa.use(securityHeaders(config.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY));
  koa.use(requireToken(config.token));
  koa.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: config.bodyLimit ?? '1mb',
      encoding: 'utf-8',
    }),
  );
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  for (const m of options.middleware ?? []) koa.use(m);
  return { koa, options, routes, metrics, logger };
}
