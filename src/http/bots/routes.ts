import * as z from 'zod';
import type { BotControl } from '../../bots/botControl.js';
import { NotFoundError } from '../../domain/errors.js';
import type { PageOptions } from '../../storage/botRecords.js';
import { route, type Route, type RouteResponse } from '../route.js';
import {
  botDocument,
  botIdParams,
  botList,
  botView,
  decodeCursor,
  encodeCursor,
  pageOf,
  pageQuery,
  performanceItem,
  positionItem,
  signalItem,
  tradeItem,
  type PageQuery,
} from './schema.js';

const ERRORS: Readonly<Record<number, RouteResponse>> = {
  400: { description: 'invalid input: `error.details.field` names the field' },
  404: { description: 'no such bot' },
};
const MUTATION_ERRORS: Readonly<Record<number, RouteResponse>> = {
  ...ERRORS,
  401: { description: 'the API token is required and was missing or wrong' },
  409: { description: "the bot's state forbids the action" },
};

const DEFAULT_PAGE = 1000;

function pageOptions(q: PageQuery): PageOptions {
  return {
    ...(q.from !== undefined ? { fromMs: q.from } : {}),
    ...(q.to !== undefined ? { toMs: q.to } : {}),
    limit: q.limit ?? DEFAULT_PAGE,
    ...(q.order !== undefined ? { order: q.order } : {}),
    ...(q.after !== undefined ? { after: decodeCursor(q.after) } : {}),
  };
}

/** `{ items, next? }`: `next` when the page is full (there may be more). */
function page<T extends { id: number }>(items: readonly T[], limit: number, timeOf: (item: T) => number) {
  const last = items[items.length - 1];
  return {
    items,
    ...(items.length >= limit && last !== undefined ? { next: encodeCursor(timeOf(last), last.id) } : {}),
  };
}

/** /api/bots…: every bot operation goes through BotControl. */
export function botRoutes(bots: BotControl): Route[] {
  const action = (name: 'start' | 'stop' | 'pause' | 'resume', summary: string): Route =>
    route({
      method: 'post',
      path: `/api/bots/:id/${name}`,
      summary,
      tag: 'bots',
      params: botIdParams,
      responses: { 200: { description: 'the bot after the action', schema: botView }, ...MUTATION_ERRORS },
      handle: async ({ params }) => ({ body: await bots[name](params.id) }),
    });
  const trades = (path: string, summary: string): Route =>
    route({
      method: 'get',
      path,
      summary,
      tag: 'bots',
      params: botIdParams,
      query: pageQuery,
      responses: { 200: { description: 'a page of fills', schema: pageOf(tradeItem) }, ...ERRORS },
      handle: async ({ params, query }) => {
        const options = pageOptions(query);
        const items = await bots.trades(params.id, options);
        return { body: page(items, options.limit ?? DEFAULT_PAGE, (t) => t.timeMs) };
      },
    });
  return [
    route({
      method: 'get',
      path: '/api/bots',
      summary: 'Every bot with its status, balances, P&L and config',
      tag: 'bots',
      responses: { 200: { description: 'the bots', schema: botList } },
      handle: async () => ({ body: { bots: await bots.list() } }),
    }),
    route({
      method: 'get',
      path: '/api/bots/:id',
      summary: 'One bot',
      tag: 'bots',
      params: botIdParams,
      responses: { 200: { description: 'the bot', schema: botView }, ...ERRORS },
      handle: async ({ params }) => {
        const bot = await bots.get(params.id);
        if (bot === undefined) throw new NotFoundError(`no bot "${params.id}"`);
        return { body: bot };
      },
    }),
    route({
      method: 'post',
      path: '/api/bots',
      summary: 'Create a bot from a bot document (written to the config folder; started when enabled)',
      tag: 'bots',
      body: botDocument,
      responses: {
        201: { description: 'the new bot', schema: botView },
        ...MUTATION_ERRORS,
        409: { description: 'a bot with this bot_id exists' },
      },
      handle: async ({ body }) => ({ status: 201, body: await bots.create(body) }),
    }),
    route({
      method: 'put',
      path: '/api/bots/:id/config',
      summary: "Replace a bot's configuration (validated, recorded in config_history, applied live)",
      tag: 'bots',
      params: botIdParams,
      body: botDocument,
      responses: { 200: { description: 'the bot with its new config', schema: botView }, ...MUTATION_ERRORS },
      handle: async ({ params, body }) => ({ body: await bots.updateConfig(params.id, body) }),
    }),
    action('start', 'Start a bot'),
    action('stop', 'Stop a bot (positions stay as they are)'),
    action('pause', 'Pause a bot: it manages open positions and opens none'),
    action('resume', 'Resume a paused bot'),
    route({
      method: 'get',
      path: '/api/bots/:id/signals',
      summary: "A page of a bot's signals",
      tag: 'bots',
      params: botIdParams,
      query: pageQuery,
      responses: { 200: { description: 'a page of signals', schema: pageOf(signalItem) }, ...ERRORS },
      handle: async ({ params, query }) => {
        const options = pageOptions(query);
        const items = await bots.signals(params.id, options);
        return { body: page(items, options.limit ?? DEFAULT_PAGE, (s) => s.closeTimeMs) };
      },
    }),
    trades('/api/bots/:id/trades', "A page of a bot's fills"),
    trades('/api/bot/:id/trades', "A page of a bot's fills (the requirements' path)"),
    route({
      method: 'get',
      path: '/api/bots/:id/performance',
      summary: "A page of a bot's account after each candle",
      tag: 'bots',
      params: botIdParams,
      query: pageQuery,
      responses: {
        200: { description: 'a page of performance rows', schema: pageOf(performanceItem) },
        ...ERRORS,
      },
      handle: async ({ params, query }) => {
        const options = pageOptions(query);
        const items = await bots.performance(params.id, options);
        return { body: page(items, options.limit ?? DEFAULT_PAGE, (p) => p.timeMs) };
      },
    }),
    route({
      method: 'get',
      path: '/api/bots/:id/positions',
      summary: "A bot's open positions",
      tag: 'bots',
      params: botIdParams,
      responses: {
        200: { description: 'open positions', schema: z.object({ items: z.array(positionItem) }) },
        ...ERRORS,
      },
      handle: async ({ params }) => ({ body: { items: await bots.positions(params.id) } }),
    }),
  ];
}
