import * as z from 'zod';
import type { BotControl } from '../../bots/botControl.js';
import type { Bus } from '../../bus/bus.js';
import type { Database } from '../../storage/database.js';
import type { MarketSnapshot } from '../market/marketSnapshot.js';
import type { ApiMetrics } from '../metrics.js';
import { route, type Route } from '../route.js';

const healthAnswer = z.object({
  status: z.enum(['ok', 'degraded']),
  feed: z.object({
    connected: z.boolean(),
    lastCandleAgeMs: z
      .number()
      .min(0)
      .nullable()
      .meta({
        description:
          'wall-clock ms since the last closed candle arrived (from the feed or the bus); null: none yet. ' +
          'Never negative, also when a replay clock runs ahead.',
      }),
    lastCandleCloseMs: z.number().nullable().meta({
      description: "close time of the newest candle, on the feed's clock (a fast replay runs ahead of now)",
    }),
  }),
  database: z.object({ ok: z.boolean(), kind: z.enum(['postgres', 'pglite']) }),
  redis: z.object({ ok: z.boolean() }).nullable(),
  bots: z.object({ active: z.number(), paused: z.number(), inactive: z.number(), error: z.number() }),
});

export interface HealthDeps {
  readonly bots: BotControl;
  readonly db: Database;
  readonly bus: Bus;
  /** Whether the bus is Redis (`redis` is null otherwise). */
  readonly redis: boolean;
  readonly market: MarketSnapshot | undefined;
  readonly metrics: ApiMetrics;
  readonly now: () => number;
}

/**
 * GET /api/health: always 200 while the process answers; `status` is `degraded` when the database or Redis
 * does not answer, or a feed is configured and disconnected. `lastCandleAgeMs` is how long ago (wall clock)
 * the last closed candle arrived, from this process's feed or, for a dashboard-only process, on the bus.
 */
export function healthRoutes(deps: HealthDeps): Route[] {
  return [
    route({
      method: 'get',
      path: '/api/health',
      summary: 'Feed, database, Redis and bots at a glance',
      tag: 'health',
      responses: { 200: { description: 'health', schema: healthAnswer } },
      handle: async () => {
        const database = await deps.db.query('SELECT 1').then(
          () => true,
          () => false,
        );
        const bots = { active: 0, paused: 0, inactive: 0, error: 0 };
        for (const b of await deps.bots.list().catch(() => [])) bots[b.status]++;
        const feed = deps.market?.feedStatus();
        // Ages are measured on this process's clock from when a candle arrived, never from its close time:
        // a simulator's clock may run ahead of (or behind) the wall clock.
        const seen = Math.max(feed?.lastCandleSeenMs ?? -1, deps.metrics.lastCandleSeenMs ?? -1);
        const close = Math.max(feed?.lastCandleMs ?? -1, deps.metrics.lastCandleMs ?? -1);
        const redis = deps.redis ? { ok: deps.bus.stats().connected } : null;
        const ok = database && (redis?.ok ?? true) && (feed?.connected ?? true);
        return {
          body: {
            status: ok ? 'ok' : 'degraded',
            feed: {
              connected: feed?.connected ?? false,
              lastCandleAgeMs: seen < 0 ? null : Math.max(0, deps.now() - seen),
              lastCandleCloseMs: close < 0 ? null : close,
            },
            database: { ok: database, kind: deps.db.kind },
            redis,
            bots,
          },
        };
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tag: 'health',
      responses: { 200: { description: 'Prometheus text', contentType: 'text/plain; version=0.0.4' } },
      handle: async ({ ctx }) => {
        ctx.type = deps.metrics.registry.contentType;
        ctx.body = await deps.metrics.registry.metrics();
        return undefined;
      },
    }),
  ];
}
