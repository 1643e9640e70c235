import * as z from 'zod';
import { NotFoundError } from '../../domain/errors.js';
import { route, type Route } from '../route.js';
import { intParam, parseRequest, timeParam } from '../validate.js';
import type { BacktestService } from './backtestService.js';
import { backtestBody, backtestList, backtestRun, backtestStarted, runIdParams } from './schema.js';

function timeOf(value: number | string, field: 'from' | 'to'): number {
  return typeof value === 'number' ? value : parseRequest(timeParam, value, 'body', [field]);
}

export function backtestRoutes(backtests: BacktestService): Route[] {
  const byId = (path: string, summary: string): Route =>
    route({
      method: 'get',
      path,
      summary,
      tag: 'backtests',
      params: runIdParams,
      responses: {
        200: {
          description: 'the run with its trades, equity curve, fills and warnings',
          schema: backtestRun,
        },
        400: { description: 'not a run id' },
        404: { description: 'no such run' },
      },
      handle: async ({ params }) => {
        const run = await backtests.get(params.id);
        if (run === undefined) throw new NotFoundError(`no backtest run ${params.id}`);
        return { body: run };
      },
    });
  return [
    route({
      method: 'post',
      path: '/api/backtests',
      summary: 'Run a backtest on stored candles in a worker; progress on Socket.IO (room `backtests`)',
      tag: 'backtests',
      body: backtestBody,
      responses: {
        202: { description: 'started', schema: backtestStarted },
        400: { description: 'invalid input: `error.details.field` names it' },
        401: { description: 'the API token is required and was missing or wrong' },
      },
      handle: async ({ body }) => {
        const started = await backtests.start({
          strategy: body.strategy,
          symbol: body.symbol,
          fromMs: timeOf(body.from, 'from'),
          toMs: timeOf(body.to, 'to'),
          ...(body.parameters !== undefined ? { parameters: body.parameters } : {}),
          ...(body.exchange !== undefined ? { exchange: body.exchange } : {}),
          ...(body.timeframe !== undefined ? { timeframe: body.timeframe } : {}),
          ...(body.initial_balance !== undefined ? { initialBalance: body.initial_balance } : {}),
          ...(body.risk !== undefined ? { risk: body.risk } : {}),
          ...(body.venue !== undefined ? { venue: body.venue } : {}),
        });
        return { status: 202, body: started };
      },
    }),
    route({
      method: 'get',
      path: '/api/backtests',
      summary: 'The backtest runs, newest first (no series)',
      tag: 'backtests',
      query: z.strictObject({ limit: intParam(1, 1000).optional().meta({ description: 'default 100' }) }),
      responses: { 200: { description: 'runs', schema: backtestList } },
      handle: async ({ query }) => ({ body: { items: await backtests.list(query.limit ?? 100) } }),
    }),
    byId('/api/backtests/:id', 'One backtest run'),
    byId('/api/backtest/results/:id', "One backtest run (the requirements' path)"),
  ];
}
