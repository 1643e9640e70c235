import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { Server as SocketServer } from 'socket.io';
import * as z from 'zod';
import type { BotView } from '../../../src/bots/botControl.js';
import { botFileSchema } from '../../../src/bots/botConfig.js';
import type { BusMessage } from '../../../src/bus/messages.js';
import { dashboardMiddleware } from '../../../src/http/dashboard/serve.js';
import { BUILT_IN_STRATEGIES } from '../../../src/strategies/registry.js';
import type { StoredFill, StoredPerformance, StoredSignal } from '../../../src/storage/botRecords.js';
import type { DashboardBackend } from './backend.js';

/**
 * A stand-in for the API of src/http/README.md, for the browser tests until the real `createHttpApp`
 * lands: the dashboard middleware, the contract's routes answered from fixtures (two bots over generated
 * BTC-USDT candles; the real strategy schemas; bot documents validated with the real `botFileSchema`),
 * and a Socket.IO server with the contract's rooms. Bot actions change the fixture state and push
 * `status` like the real bridge; backtests report progress and finish over Socket.IO.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MINUTE = 60_000;
/** Close time of the last stored candle. */
export const LAST_CANDLE_MS = Date.UTC(2026, 0, 15, 12, 0);
const CANDLES = 240;
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

interface Candle {
  tMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

function makeCandles(): Candle[] {
  const candles: Candle[] = [];
  let close = 60_000;
  for (let i = CANDLES - 1; i >= 0; i--) {
    const open = close;
    close = open * (1 + 0.002 * Math.sin(i / 7) + 0.0007 * Math.cos(i / 3));
    candles.push({
      tMs: LAST_CANDLE_MS - i * MINUTE,
      open,
      high: Math.max(open, close) * 1.0006,
      low: Math.min(open, close) * 0.9994,
      close,
      volume: 1 + (i % 5),
    });
  }
  return candles;
}

function botDocument(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'config/bots', name), 'utf8')) as Record<string, unknown>;
}

function view(document: Record<string, unknown>, status: BotView['status'], strategyName: string): BotView {
  const balance = Number(document['virtual_balance']);
  return {
    botKey: String(document['bot_id']),
    status,
    strategyName,
    symbol: String(document['symbol']),
    timeframe: String(document['timeframe'] ?? '1m'),
    virtualBalance: balance,
    cash: balance,
    totalValue: balance,
    pnl: 0,
    trades: 0,
    lastCandleMs: LAST_CANDLE_MS,
    config: document,
    configFile: `${String(document['bot_id'])}.json`,
    winningTrades: 0,
    totalFees: 0,
    maxDrawdown: 0,
    restartsLastHour: 0,
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function badRequest(error: z.ZodError, prefix = ''): HttpError {
  const issue = error.issues[0];
  const field = prefix + (issue?.path.join('.') ?? '');
  return new HttpError(400, 'bad_request', `${field}: ${issue?.message ?? 'invalid'}`, { field });
}

interface Run {
  id: string;
  strategy: string;
  params: Record<string, unknown>;
  symbol: string;
  timeframe: string;
  fromMs: number;
  toMs: number;
  status: 'running' | 'done';
  metrics: Record<string, number> | null;
  createdAtMs: number;
  equity: [number, number][];
  fills: { tMs: number; side: 'buy' | 'sell'; price: number; qty: number }[];
}

const backtestSchema = z.strictObject({
  strategy: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()).optional(),
  symbol: z.string().min(1),
  exchange: z.string().optional(),
  timeframe: z.string().optional(),
  from: z.union([z.number(), z.iso.datetime()]),
  to: z.union([z.number(), z.iso.datetime()]),
  initial_balance: z.number().positive().optional(),
});

/** Starts the fixture API on 127.0.0.1, port 0. */
export async function startFixtureBackend(): Promise<DashboardBackend> {
  const candles = makeCandles();
  const bots = new Map<string, BotView>([
    ['btc-ema-fast', view(botDocument('btc-ema-fast.json'), 'active', 'ema_crossover')],
    ['btc-macd', view(botDocument('btc-macd.json'), 'inactive', 'macd_trend')],
  ]);
  const fills = new Map<string, StoredFill[]>([
    [
      'btc-ema-fast',
      [fillAt(1, candles[CANDLES - 60]!, 'buy'), { ...fillAt(2, candles[CANDLES - 30]!, 'sell'), pnl: 12.5 }],
    ],
  ]);
  const perf = new Map<string, StoredPerformance[]>([
    [
      'btc-ema-fast',
      candles.slice(-100).map((c, i) => ({
        id: i + 1,
        timeMs: c.tMs,
        totalValue: 10_000 + (c.close - 60_000) * 0.05,
        cash: 5_000,
        cryptoValue: 5_000 + (c.close - 60_000) * 0.05,
        totalTrades: i > 70 ? 1 : 0,
        winningTrades: i > 70 ? 1 : 0,
        totalFees: i > 40 ? 10 : 5,
      })),
    ],
  ]);
  const signals: StoredSignal[] = candles.slice(-120).map((c, i) => ({
    id: i + 1,
    closeTimeMs: c.tMs,
    action: 'hold',
    price: c.close,
    confidence: 0,
    reason: 'no crossing',
    indicators: { ema_fast: c.close * 1.0002, ema_slow: c.close * 0.9998 },
  }));
  const runs = new Map<string, Run>();
  let runCount = 0;

  const app = new Koa();
  const server: HttpServer = createServer(app.callback());
  const io = new SocketServer(server, { path: '/socket.io', serveClient: false });
  io.on('connection', (socket) => {
    socket.on('subscribe', (m: { rooms?: string[] }) => void socket.join(m.rooms ?? []));
    socket.on('unsubscribe', (m: { rooms?: string[] }) => {
      for (const room of m.rooms ?? []) void socket.leave(room);
    });
  });

  const pushStatus = (bot: BotView) =>
    io.to(['bots', `bot:${bot.botKey}`]).emit('status', {
      type: 'status',
      botId: bot.botKey,
      tsMs: Date.now(),
      status: bot.status,
    });

  const transitions: Record<string, [BotView['status'][], BotView['status']]> = {
    start: [['inactive', 'error'], 'active'],
    stop: [['active', 'paused'], 'inactive'],
    pause: [['active'], 'paused'],
    resume: [['paused'], 'active'],
  };

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      ctx.status = err.status;
      ctx.body = { error: { code: err.code, message: err.message, details: err.details ?? {} } };
    }
  });
  // The real API's default policy (src/http/security.ts on the API branch): same origin only, no eval; a
  // violation is a console error, which the tests fail on.
  app.use(async (ctx, next) => {
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    await next();
  });
  app.use(dashboardMiddleware());
  app.use(async (ctx) => {
    const path = ctx.path;
    const method = ctx.method;
    const body = method === 'GET' ? undefined : await readJson(ctx.req);
    const botOf = (id: string) => {
      const bot = bots.get(id);
      if (bot === undefined) throw new HttpError(404, 'not_found', `no bot "${id}"`);
      return bot;
    };
    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/api/bots') {
      ctx.body = { bots: [...bots.values()] };
    } else if (method === 'POST' && path === '/api/bots') {
      const parsed = botFileSchema.safeParse(body);
      if (!parsed.success) throw badRequest(parsed.error);
      if (bots.has(parsed.data.bot_id)) throw new HttpError(409, 'conflict', 'bot exists');
      const bot = view(body as Record<string, unknown>, 'inactive', String(parsed.data.strategy));
      bots.set(bot.botKey, bot);
      ctx.status = 201;
      ctx.body = bot;
    } else if ((m = path.match(/^\/api\/bots\/([^/]+)$/)) && method === 'GET') {
      ctx.body = botOf(m[1]!);
    } else if ((m = path.match(/^\/api\/bots\/([^/]+)\/config$/)) && method === 'PUT') {
      const bot = botOf(m[1]!);
      const parsed = botFileSchema.safeParse(body);
      if (!parsed.success) throw badRequest(parsed.error);
      const next = { ...bot, config: body };
      bots.set(bot.botKey, next);
      ctx.body = next;
    } else if ((m = path.match(/^\/api\/bots\/([^/]+)\/(start|stop|pause|resume)$/)) && method === 'POST') {
      const bot = botOf(m[1]!);
      const [from, to] = transitions[m[2]!]!;
      if (!from.includes(bot.status)) {
        throw new HttpError(409, 'conflict', `cannot ${m[2]} a bot that is ${bot.status}`);
      }
      const next = { ...bot, status: to };
      bots.set(bot.botKey, next);
      pushStatus(next);
      ctx.body = next;
    } else if ((m = path.match(/^\/api\/bots?\/([^/]+)\/(trades|signals|performance|positions)$/))) {
      botOf(m[1]!);
      const kind = m[2]!;
      const items =
        kind === 'trades'
          ? (fills.get(m[1]!) ?? [])
          : kind === 'performance'
            ? (perf.get(m[1]!) ?? [])
            : kind === 'signals' && m[1] === 'btc-ema-fast'
              ? signals
              : [];
      ctx.body = { items: ctx.query['order'] === 'desc' ? [...items].reverse() : items };
    } else if ((m = path.match(/^\/api\/market\/([^/]+)\/history$/))) {
      const from = Number(ctx.query['from'] ?? 0);
      const to = Number(ctx.query['to'] ?? Infinity);
      const limit = Number(ctx.query['limit'] ?? 1000);
      const rows = candles.filter((c) => c.tMs >= from && c.tMs < to).slice(-limit);
      ctx.body = {
        symbol: m[1],
        exchange: 'okx',
        timeframe: ctx.query['timeframe'] ?? '1m',
        t: rows.map((c) => c.tMs),
        open: rows.map((c) => c.open),
        high: rows.map((c) => c.high),
        low: rows.map((c) => c.low),
        close: rows.map((c) => c.close),
        volume: rows.map((c) => c.volume),
      };
    } else if ((m = path.match(/^\/api\/market\/([^/]+)\/orderbook$/))) {
      const mid = candles[CANDLES - 1]!.close;
      ctx.body = {
        symbol: m[1],
        tsMs: LAST_CANDLE_MS,
        bids: [1, 2, 3, 4, 5].map((i) => [mid - i * 0.5, i * 0.1]),
        asks: [1, 2, 3, 4, 5].map((i) => [mid + i * 0.5, i * 0.12]),
      };
    } else if (/^\/api\/market\/[^/]+\/trades$/.test(path)) {
      const last = candles[CANDLES - 1]!;
      ctx.body = {
        items: [0, 1, 2, 3, 4].map((i) => ({
          tsMs: LAST_CANDLE_MS - i * 7_000,
          price: last.close + i,
          size: 0.01 * (i + 1),
          side: i % 2 === 0 ? 'buy' : 'sell',
          tradeId: String(1000 - i),
        })),
      };
    } else if (method === 'GET' && path === '/api/markets') {
      ctx.body = {
        items: [
          {
            exchange: 'okx',
            symbol: 'BTC-USDT',
            timeframe: '1m',
            fromMs: candles[0]!.tMs,
            toMs: LAST_CANDLE_MS,
            count: CANDLES,
          },
        ],
      };
    } else if (method === 'GET' && path === '/api/strategies') {
      ctx.body = {
        strategies: BUILT_IN_STRATEGIES.map((d) => ({
          name: d.name,
          description: d.summary,
          parameters: z.toJSONSchema(d.schema, { io: 'input', unrepresentable: 'any' }),
        })),
      };
    } else if (method === 'POST' && path === '/api/backtests') {
      const parsed = backtestSchema.safeParse(body);
      if (!parsed.success) throw badRequest(parsed.error);
      const definition = BUILT_IN_STRATEGIES.find((d) => d.name === parsed.data.strategy);
      if (definition === undefined) {
        throw new HttpError(400, 'bad_request', 'strategy: unknown', { field: 'strategy' });
      }
      const params = definition.schema.safeParse(parsed.data.parameters ?? {});
      if (!params.success) throw badRequest(params.error, 'parameters.');
      const run = startRun(parsed.data, params.data as Record<string, unknown>);
      ctx.status = 202;
      ctx.body = { id: run.id, status: 'running' };
    } else if (method === 'GET' && path === '/api/backtests') {
      ctx.body = { items: [...runs.values()].reverse().map(({ equity: _e, fills: _f, ...item }) => item) };
    } else if ((m = path.match(/^\/api\/backtests?(?:\/results)?\/([^/]+)$/))) {
      const run = runs.get(m[1]!);
      if (run === undefined) throw new HttpError(404, 'not_found', 'no such backtest');
      ctx.body = { ...run, trades: [], warnings: [] };
    } else {
      throw new HttpError(404, 'not_found', `${method} ${path}`);
    }
  });

  /** A "backtest": progress in 5 steps over Socket.IO, then an equity curve that follows the candles. */
  function startRun(request: z.infer<typeof backtestSchema>, params: Record<string, unknown>): Run {
    const fromMs = typeof request.from === 'number' ? request.from : Date.parse(request.from);
    const toMs = typeof request.to === 'number' ? request.to : Date.parse(request.to);
    const balance = request.initial_balance ?? 10_000;
    const slice = candles.filter((c) => c.tMs >= fromMs && c.tMs <= toMs);
    runCount += 1;
    const scale = 0.02 * runCount;
    const first = slice[0]?.close ?? 1;
    const run: Run = {
      id: `run-${runCount}-${'0'.repeat(8)}`,
      strategy: request.strategy,
      params,
      symbol: request.symbol,
      timeframe: request.timeframe ?? '1m',
      fromMs,
      toMs,
      status: 'running',
      metrics: null,
      createdAtMs: Date.now(),
      equity: slice.map((c) => [c.tMs, balance * (1 + scale * (c.close / first - 1) * 10)]),
      fills: slice
        .filter((_, i) => i % 40 === 10 || i % 40 === 30)
        .map((c, i) => ({ tMs: c.tMs, side: i % 2 === 0 ? 'buy' : 'sell', price: c.close, qty: 0.1 })),
    };
    runs.set(run.id, run);
    let done = 0;
    const step = () => {
      done += 1;
      io.to('backtests').emit('backtest:progress', { id: run.id, done, total: 5 });
      if (done < 5) {
        setTimeout(step, 30);
        return;
      }
      const end = run.equity[run.equity.length - 1]?.[1] ?? balance;
      run.metrics = {
        total_return: end / balance - 1,
        trades: run.fills.length / 2,
        win_rate: 0.5,
        max_drawdown: 0.01 * runCount,
        final_value: end,
      };
      run.status = 'done';
      io.to('backtests').emit('backtest:done', { id: run.id, status: run.status });
    };
    setTimeout(step, 30);
    return run;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    push: async (message: BusMessage) => {
      const rooms =
        message.type === 'candle'
          ? [`market:${message.symbol}:${message.timeframe}`]
          : message.type === 'system'
            ? []
            : message.type === 'status' || message.type === 'performance'
              ? ['bots', `bot:${message.botId}`]
              : [`bot:${message.botId}`];
      if (message.type === 'status') {
        const bot = bots.get(message.botId);
        if (bot !== undefined) bots.set(bot.botKey, { ...bot, status: message.status });
      }
      io.to(rooms).emit(message.type, message);
    },
    close: async () => {
      await io.close(); // closes the HTTP server too
    },
  };
}

function fillAt(seq: number, candle: Candle, side: 'buy' | 'sell'): StoredFill {
  return {
    id: seq,
    epoch: 1,
    seq,
    orderId: seq,
    timeMs: candle.tMs,
    side,
    price: candle.close,
    qty: 0.08,
    fee: candle.close * 0.08 * 0.001,
    balanceAfter: 5_000,
    reason: side === 'buy' ? 'ema crossing up' : 'ema crossing down',
  };
}

async function readJson(req: NodeJS.ReadableStream): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad_request', 'body: not JSON', { field: 'body' });
  }
}
