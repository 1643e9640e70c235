import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { candleMessage } from '../../src/bus/messages.js';
import type { Candle } from '../../src/domain/candle.js';
import { BotStore, type BotCandleRecord } from '../../src/storage/botStore.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { call, startTestApi, type DbKind, type TestApi } from './support/apiServer.js';

/**
 * Every route of the API against a real server on 127.0.0.1:0, on Postgres and PGlite, with the twin
 * BotControl over the real BotStore. Backtests run the compiled worker: `npm run build` first.
 */

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);

function candles(n: number, symbol = 'BTC-USDT'): Candle[] {
  return Array.from({ length: n }, (_, i) => {
    const price = 40_000 + 2_000 * Math.sin(i / 40) + (i % 7);
    return {
      symbol,
      timeframe: '1m',
      closeTimeMs: T0 + (i + 1) * MIN,
      open: price,
      high: price + 15,
      low: price - 15,
      close: price + 5,
      volume: 1 + (i % 3),
      tradesCount: 10,
      closed: true,
      revision: 0,
    };
  });
}

function step(i: number): BotCandleRecord {
  const t = T0 + i * MIN;
  return {
    closeTimeMs: t,
    signals: [
      {
        closeTimeMs: t,
        action: i % 2 === 0 ? 'buy' : 'hold',
        price: 40_000 + i,
        confidence: 0.5,
        reason: `r${i}`,
        indicators: { ema_5: 1 },
      },
    ],
    fills: [
      {
        seq: i,
        orderId: i,
        timeMs: t,
        side: i % 2 === 0 ? 'buy' : 'sell',
        price: 40_000 + i,
        qty: 0.01,
        fee: 0.4,
        balanceAfter: 9_000,
        orderType: 'market',
        purpose: i % 2 === 0 ? 'entry' : 'exit',
        liquidity: 'taker',
        reason: 'test',
      },
    ],
    positions: [{ symbol: 'BTC-USDT', side: 'long', qty: 0.01, avgEntryPrice: 40_000, entryTimeMs: t }],
    performance: {
      totalValue: 10_000 + i,
      cash: 9_000,
      cryptoValue: 1_000 + i,
      totalTrades: i,
      winningTrades: 1,
      totalFees: 0.4 * i,
    },
    engineState: { i },
  };
}

const doc = (id: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  bot_id: id,
  strategy: 'ema_crossover',
  symbol: 'BTC-USDT',
  virtual_balance: 10_000,
  ...over,
});

describe.each<DbKind>(['postgres', 'pglite'])('HTTP API on %s', (kind) => {
  let api: TestApi;
  const get = (path: string) => call(api.url, 'GET', path);
  const post = (path: string, body?: unknown) => call(api.url, 'POST', path, body);
  const put = (path: string, body?: unknown) => call(api.url, 'PUT', path, body);

  beforeAll(async () => {
    api = await startTestApi(kind);
    await new CandleStore(api.db, 'okx').upsert(candles(3000));
  }, 60_000);
  afterAll(async () => {
    await api?.close();
  });

  describe('errors, headers, meta', () => {
    it('answers an unknown route with a JSON 404 and security headers', async () => {
      const r = await get('/api/nope');
      expect(r.status).toBe(404);
      expect(r.body).toEqual({
        error: { code: 'not_found', message: 'no route GET /api/nope', details: {} },
      });
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(r.headers.get('x-powered-by')).toBeNull();
    });

    it('refuses malformed JSON (400) and a body over the limit (413)', async () => {
      const bad = await post('/api/bots', '{"bot_id": ');
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('bad_request');
      const big = await post('/api/bots', { bot_id: 'x', pad: 'x'.repeat(1_100_000) });
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('payload_too_large');
    });

    it('serves /api/health', async () => {
      const r = await get('/api/health');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        status: 'degraded', // the feed of the test market snapshot is not connected
        feed: { connected: false, lastCandleAgeMs: null, lastCandleCloseMs: null },
        database: { ok: true, kind },
        redis: null,
        bots: expect.objectContaining({ active: expect.any(Number), paused: expect.any(Number) }),
      });
      api.market.setConnected(true);
      expect((await get('/api/health')).body.status).toBe('ok');
    });

    it('measures the last candle age on the wall clock, never negative when the feed clock runs ahead', async () => {
      // A replay at 30×: the candle closes an hour after now on its clock, and arrived 2 s ago on ours.
      const ahead = Date.now() + 3_600_000;
      const seenAt = Date.now() - 2_000;
      api.market.noteCandle(ahead, seenAt);
      const fromFeed = (await get('/api/health')).body.feed;
      expect(fromFeed.lastCandleCloseMs).toBe(ahead);
      expect(fromFeed.lastCandleAgeMs).toBeGreaterThanOrEqual(2_000);
      expect(fromFeed.lastCandleAgeMs).toBeLessThan(60_000);

      // One seen on the bus only (a dashboard-only process): the same measure, from its arrival.
      const later = ahead + 60_000;
      const before = Date.now();
      await api.bus.publish('market:BTC-USDT', candleMessage({ ...candles(1)[0]!, closeTimeMs: later }));
      let feed = (await get('/api/health')).body.feed;
      for (const deadline = Date.now() + 30_000; feed.lastCandleCloseMs !== later;) {
        if (Date.now() > deadline) throw new Error('the bus candle never reached /api/health');
        await new Promise((resolve) => setTimeout(resolve, 20));
        feed = (await get('/api/health')).body.feed;
      }
      expect(feed.lastCandleAgeMs).toBeGreaterThanOrEqual(0);
      expect(feed.lastCandleAgeMs).toBeLessThanOrEqual(Date.now() - before);
    });

    it('serves Prometheus metrics, API latency included', async () => {
      await get('/api/bots');
      const r = await get('/metrics');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/plain');
      expect(r.body).toMatch(
        /rxtrade_http_request_duration_seconds_count\{method="GET",route="\/api\/bots",status="200"\} \d+/,
      );
      expect(r.body).toContain('rxtrade_bus_published_total');
      expect(r.body).toContain('rxtrade_backtests_running 0');
    });

    it('describes every route in /api/openapi.json, from the zod schemas', async () => {
      const r = await get('/api/openapi.json');
      expect(r.status).toBe(200);
      expect(r.body.openapi).toBe('3.1.0');
      for (const [path, method] of [
        ['/api/health', 'get'],
        ['/metrics', 'get'],
        ['/api/bots', 'get'],
        ['/api/bots', 'post'],
        ['/api/bots/{id}', 'get'],
        ['/api/bots/{id}/config', 'put'],
        ['/api/bots/{id}/start', 'post'],
        ['/api/bots/{id}/stop', 'post'],
        ['/api/bots/{id}/pause', 'post'],
        ['/api/bots/{id}/resume', 'post'],
        ['/api/bots/{id}/signals', 'get'],
        ['/api/bots/{id}/trades', 'get'],
        ['/api/bot/{id}/trades', 'get'],
        ['/api/bots/{id}/performance', 'get'],
        ['/api/bots/{id}/positions', 'get'],
        ['/api/market/{symbol}/history', 'get'],
        ['/api/market/{symbol}/orderbook', 'get'],
        ['/api/market/{symbol}/trades', 'get'],
        ['/api/markets', 'get'],
        ['/api/strategies', 'get'],
        ['/api/backtests', 'post'],
        ['/api/backtests', 'get'],
        ['/api/backtests/{id}', 'get'],
        ['/api/backtest/results/{id}', 'get'],
        ['/api/openapi.json', 'get'],
      ] as const) {
        expect([path, method, r.body.paths[path]?.[method] !== undefined]).toEqual([path, method, true]);
      }
      const history = r.body.paths['/api/market/{symbol}/history'].get;
      expect(history.parameters.map((p: { name: string }) => p.name)).toEqual([
        'symbol',
        'timeframe',
        'from',
        'to',
        'limit',
        'exchange',
      ]);
      const body = r.body.paths['/api/backtests'].post.requestBody.content['application/json'].schema;
      expect(body.required).toEqual(expect.arrayContaining(['strategy', 'symbol', 'from', 'to']));
      expect(body.additionalProperties).toBe(false);
    });

    it('lists strategies with the JSON Schema of their parameters', async () => {
      const r = await get('/api/strategies');
      expect(r.status).toBe(200);
      expect(r.body.strategies.map((s: { name: string }) => s.name)).toEqual([
        'ema_crossover',
        'sma_cross',
        'rsi_reversion',
        'macd_trend',
        'bollinger_breakout',
        'momentum',
      ]);
      const ema = r.body.strategies[0];
      expect(ema.timeframe).toBe('1m');
      expect(ema.parameters.type).toBe('object');
      expect(ema.parameters.properties.fast_period).toEqual(expect.objectContaining({ type: 'integer' }));
    });
  });

  describe('bots', () => {
    it('creates a bot: 201, file in the config folder, config_history reason api, started when enabled', async () => {
      const r = await post('/api/bots', doc('alpha', { parameters: { fast_period: 5, slow_period: 13 } }));
      expect(r.status).toBe(201);
      expect(r.body).toEqual(
        expect.objectContaining({
          botKey: 'alpha',
          status: 'active',
          symbol: 'BTC-USDT',
          strategyName: 'ema_crossover',
          virtualBalance: 10_000,
        }),
      );
      const file = join(api.configDir, 'bots', 'alpha.json');
      expect(existsSync(file)).toBe(true);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(
        doc('alpha', { parameters: { fast_period: 5, slow_period: 13 } }),
      );
      const history = await new BotStore(api.db).configHistory('alpha');
      expect(history.map((h) => h.reason)).toEqual(['api']);
      expect((await get('/api/bots/alpha')).body.botKey).toBe('alpha');
      expect((await get('/api/bots')).body.bots.map((b: { botKey: string }) => b.botKey)).toContain('alpha');
    });

    it.each([
      [{ ...doc('b1'), virtual_balance: -5 }, 'virtual_balance'],
      [{ ...doc('b1'), bot_id: '../etc' }, 'bot_id'],
      [{ ...doc('b1'), colour: 'red' }, 'colour'],
      [{ ...doc('b1'), symbol: 'btc' }, 'symbol'],
      [doc('b1', { parameters: { fast_period: 'x' } }), 'parameters.fast_period'],
      [doc('b1', { risk: { sizing: { type: 'lots' } } }), 'risk.sizing.type'],
      [doc('b1', { timeframe: '7m' }), 'timeframe'],
    ])('refuses an invalid bot document %# with a 400 naming the field', async (body, field) => {
      const r = await post('/api/bots', body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('bad_request');
      expect(r.body.error.details.field).toBe(field);
      expect(r.body.error.message).toContain(field.split('.').pop());
      expect(existsSync(join(api.configDir, 'bots', 'b1.json'))).toBe(false);
    });

    it('refuses a second bot with the same id (409)', async () => {
      const r = await post('/api/bots', doc('alpha'));
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('conflict');
    });

    it('validates bot ids in paths (no traversal) and answers 404 for unknown bots', async () => {
      for (const path of ['/api/bots/..%2F..%2Fetc', '/api/bots/UPPER', '/api/bots/a%20b/start']) {
        const r = path.endsWith('start') ? await post(path) : await get(path);
        expect([path, r.status, r.body.error.details.field]).toEqual([path, 400, 'id']);
      }
      for (const path of [
        '/api/bots/ghost',
        '/api/bots/ghost/signals',
        '/api/bots/ghost/trades',
        '/api/bot/ghost/trades',
        '/api/bots/ghost/performance',
        '/api/bots/ghost/positions',
      ]) {
        const r = await get(path);
        expect([path, r.status, r.body.error.code]).toEqual([path, 404, 'not_found']);
      }
      for (const action of ['start', 'stop', 'pause', 'resume']) {
        expect((await post(`/api/bots/ghost/${action}`)).status).toBe(404);
      }
      expect((await put('/api/bots/ghost/config', doc('ghost'))).status).toBe(404);
    });

    it('updates a config: validated, recorded, written', async () => {
      const r = await put('/api/bots/alpha/config', doc('alpha', { virtual_balance: 20_000 }));
      expect(r.status).toBe(200);
      expect(r.body.virtualBalance).toBe(20_000);
      expect((r.body.config as { virtual_balance: number }).virtual_balance).toBe(20_000);
      expect((await new BotStore(api.db).configHistory('alpha')).length).toBe(2);
      const bad = await put('/api/bots/alpha/config', doc('alpha', { venue: { fee_rate: 'high' } }));
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.field).toBe('venue.fee_rate');
      const other = await put('/api/bots/alpha/config', doc('beta'));
      expect(other.status).toBe(400);
      expect(other.body.error.details.field).toBe('bot_id');
    });

    it('runs the lifecycle: pause, resume, stop, start; forbidden transitions are 409', async () => {
      expect((await post('/api/bots/alpha/start')).status).toBe(409);
      expect((await post('/api/bots/alpha/resume')).status).toBe(409);
      expect((await post('/api/bots/alpha/pause')).body.status).toBe('paused');
      expect((await post('/api/bots/alpha/pause')).status).toBe(409);
      expect((await post('/api/bots/alpha/resume')).body.status).toBe('active');
      expect((await post('/api/bots/alpha/stop')).body.status).toBe('inactive');
      const again = await post('/api/bots/alpha/stop');
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain('alpha');
      expect((await post('/api/bots/alpha/start')).body.status).toBe('active');
    });

    it('serialises concurrent starts and stops of one bot: exactly one of each wins', async () => {
      await post('/api/bots/alpha/stop');
      const starts = await Promise.all(Array.from({ length: 8 }, () => post('/api/bots/alpha/start')));
      expect(starts.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
      const mixed = await Promise.all(
        Array.from({ length: 8 }, (_, i) => post(`/api/bots/alpha/${i % 2 === 0 ? 'stop' : 'start'}`)),
      );
      // In arrival order each stop finds it active or each start finds it inactive: every request either
      // changed the state or got a 409, and the stored status is the one the last success left.
      const wins = mixed.filter((r) => r.status === 200).map((r) => r.body.status as string);
      expect(mixed.every((r) => r.status === 200 || r.status === 409)).toBe(true);
      expect(wins.length).toBeGreaterThan(0);
      for (let i = 1; i < wins.length; i++) expect(wins[i]).not.toBe(wins[i - 1]);
      expect((await get('/api/bots/alpha')).body.status).toBe(wins[wins.length - 1]);
    });

    it('pages signals, trades (and the alias), performance; lists positions', async () => {
      const store = new BotStore(api.db);
      for (let i = 1; i <= 5; i++) await store.recordCandle('alpha', step(i));
      const first = await get('/api/bots/alpha/trades?limit=2');
      expect(first.status).toBe(200);
      expect(first.body.items.map((t: { seq: number }) => t.seq)).toEqual([1, 2]);
      expect(typeof first.body.next).toBe('string');
      const second = await get(`/api/bots/alpha/trades?limit=2&after=${first.body.next}`);
      expect(second.body.items.map((t: { seq: number }) => t.seq)).toEqual([3, 4]);
      const last = await get(`/api/bots/alpha/trades?limit=2&after=${second.body.next}`);
      expect(last.body.items.map((t: { seq: number }) => t.seq)).toEqual([5]);
      expect(last.body.next).toBeUndefined();
      expect((await get('/api/bot/alpha/trades?limit=2')).body).toEqual(first.body);
      const desc = await get('/api/bots/alpha/trades?order=desc&limit=1');
      expect(desc.body.items[0].seq).toBe(5);
      const ranged = await get(
        `/api/bots/alpha/signals?from=${T0 + 2 * MIN}&to=${new Date(T0 + 4 * MIN).toISOString()}`,
      );
      expect(ranged.body.items.map((s: { closeTimeMs: number }) => s.closeTimeMs)).toEqual([
        T0 + 2 * MIN,
        T0 + 3 * MIN,
      ]);
      expect(ranged.body.items[0]).toEqual(
        expect.objectContaining({ action: 'buy', reason: 'r2', indicators: { ema_5: 1 } }),
      );
      const perf = await get('/api/bots/alpha/performance?order=desc&limit=1');
      expect(perf.body.items[0]).toEqual(
        expect.objectContaining({ totalValue: 10_005, cryptoValue: 1_005, totalTrades: 5 }),
      );
      const positions = await get('/api/bots/alpha/positions');
      expect(positions.body).toEqual({
        items: [expect.objectContaining({ symbol: 'BTC-USDT', side: 'long', qty: 0.01 })],
      });
      const view = await get('/api/bots/alpha');
      expect(view.body).toEqual(expect.objectContaining({ trades: 5, winningTrades: 1, totalFees: 2 }));
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=10001', 'limit'],
      ['limit=ten', 'limit'],
      ['from=yesterday', 'from'],
      ['to=-5', 'to'],
      ['order=sideways', 'order'],
      ['after=zzz', 'after'],
      ['colour=red', 'colour'],
    ])('refuses the page query %s with a 400 naming the field', async (query, field) => {
      const r = await get(`/api/bots/alpha/signals?${query}`);
      expect([r.status, r.body.error.details.field]).toEqual([400, field]);
    });
  });

  describe('market', () => {
    it('answers history as columns: the latest N, or from a time forward', async () => {
      const latest = await get('/api/market/BTC-USDT/history?limit=1000');
      expect(latest.status).toBe(200);
      expect(latest.body.exchange).toBe('okx');
      expect(latest.body.timeframe).toBe('1m');
      expect(latest.body.t).toHaveLength(1000);
      expect(latest.body.t[999]).toBe(T0 + 3000 * MIN);
      expect(latest.body.t[0]).toBe(T0 + 2001 * MIN);
      for (const k of ['open', 'high', 'low', 'close', 'volume']) expect(latest.body[k]).toHaveLength(1000);
      const c = candles(3000)[2000] as Candle;
      expect([latest.body.open[0], latest.body.close[0], latest.body.volume[0]]).toEqual([
        c.open,
        c.close,
        c.volume,
      ]);

      const from = await get(
        `/api/market/BTC-USDT/history?from=${new Date(T0 + 10 * MIN).toISOString()}&limit=5&exchange=okx`,
      );
      expect(from.body.t).toEqual([10, 11, 12, 13, 14].map((i) => T0 + i * MIN));
      const window = await get(`/api/market/BTC-USDT/history?from=${T0 + 10 * MIN}&to=${T0 + 13 * MIN}`);
      expect(window.body.t).toEqual([10, 11, 12].map((i) => T0 + i * MIN));
      const none = await get('/api/market/ETH-USDT/history');
      expect(none.body.t).toEqual([]);
    });

    it.each([
      ['/api/market/btc-usdt/history', 'symbol'],
      ['/api/market/BTC-USDT/history?timeframe=7m', 'timeframe'],
      ['/api/market/BTC-USDT/history?limit=0', 'limit'],
      ['/api/market/BTC-USDT/history?from=soon', 'from'],
      ['/api/market/BTC-USDT/history?exchange=OKX', 'exchange'],
      ['/api/market/BTC-USDT/trades?limit=501', 'limit'],
      ['/api/market/BTC/orderbook', 'symbol'],
    ])('refuses %s with a 400 naming %s', async (path, field) => {
      const r = await get(path);
      expect([r.status, r.body.error.details.field]).toEqual([400, field]);
    });

    it('serves the latest order book and trades from the feed snapshot', async () => {
      expect((await get('/api/market/BTC-USDT/orderbook')).status).toBe(404);
      expect((await get('/api/market/BTC-USDT/trades')).body).toEqual({ items: [] });
      const book = {
        symbol: 'BTC-USDT',
        tsMs: T0,
        bids: [[100, 1] as const, [99, 2] as const],
        asks: [[101, 1] as const],
      };
      api.market.updateBook(book);
      for (let i = 1; i <= 3; i++) {
        api.market.addTrade('BTC-USDT', {
          tsMs: T0 + i,
          price: 100 + i,
          size: i,
          side: i % 2 ? 'buy' : 'sell',
          tradeId: String(i),
        });
      }
      expect((await get('/api/market/BTC-USDT/orderbook')).body).toEqual(book);
      expect(
        (await get('/api/market/BTC-USDT/trades?limit=2')).body.items.map(
          (t: { tradeId: string }) => t.tradeId,
        ),
      ).toEqual(['3', '2']);
    });

    it('lists stored markets', async () => {
      const r = await get('/api/markets');
      expect(r.body.items).toEqual([
        {
          exchange: 'okx',
          symbol: 'BTC-USDT',
          timeframe: '1m',
          fromMs: T0 + MIN,
          toMs: T0 + 3000 * MIN,
          count: 3000,
        },
      ]);
    });
  });

  describe('backtests', () => {
    const body = (over: Record<string, unknown> = {}) => ({
      strategy: 'ema_crossover',
      parameters: { fast_period: 5, slow_period: 20 },
      symbol: 'BTC-USDT',
      from: '2024-01-01',
      to: T0 + 3000 * MIN,
      ...over,
    });

    it.each([
      [{ strategy: 'nope' }, 'strategy'],
      [{ parameters: { fast_period: 'x' } }, 'parameters.fast_period'],
      [{ parameters: { speed: 1 } }, 'parameters.speed'],
      [{ risk: { sizing: { type: 'lots' } } }, 'risk.sizing.type'],
      [{ venue: { fee_rate: -1 } }, 'venue.fee_rate'],
      [{ from: 'yesterday' }, 'from'],
      [{ to: T0 }, 'to'],
      [{ symbol: 'ETH-USDT' }, 'symbol'],
      [{ symbol: 'eth' }, 'symbol'],
      [{ timeframe: '5m' }, 'from'],
      [{ initial_balance: 0 }, 'initial_balance'],
      [{ colour: 'red' }, 'colour'],
    ])('refuses %j with a 400 naming the field', async (over, field) => {
      const r = await post('/api/backtests', body(over));
      expect([r.status, r.body.error.details.field]).toEqual([400, field]);
    });

    it('runs a backtest in a worker: 202, then stored with metrics, trades, equity and fills', async () => {
      const started = await post('/api/backtests', body({ initial_balance: 5_000 }));
      expect(started.status).toBe(202);
      expect(started.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'running' });
      const id = started.body.id as string;
      let run = (await get(`/api/backtests/${id}`)).body;
      for (let i = 0; i < 600 && run.status === 'running'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        run = (await get(`/api/backtests/${id}`)).body;
      }
      expect(run).toEqual(
        expect.objectContaining({
          id,
          status: 'done',
          strategy: 'ema_crossover',
          symbol: 'BTC-USDT',
          exchange: 'okx',
          timeframe: '1m',
          initialBalance: 5_000,
        }),
      );
      expect(run.params).toEqual(
        expect.objectContaining({ fast_period: 5, slow_period: 20, timeframe: '1m' }),
      );
      expect(run.metrics.initial_equity).toBe(5_000);
      expect(run.trades.length).toBeGreaterThan(0);
      expect(run.fills.length).toBeGreaterThanOrEqual(2 * run.trades.length);
      expect(run.equity.length).toBeGreaterThan(2900);
      expect(run.equity[0]).toEqual([expect.any(Number), expect.any(Number)]);
      expect((await get(`/api/backtest/results/${id}`)).body).toEqual(run);
      const list = await get('/api/backtests');
      expect(list.body.items[0]).toEqual(expect.objectContaining({ id, status: 'done' }));
      expect(list.body.items[0].trades).toBeUndefined();
      expect((await get('/api/backtests/5a0c3a57-0c57-4c61-9a9e-3cbd1c7a9d33')).status).toBe(404);
      expect((await get('/api/backtests/../etc')).status).toBe(404);
      expect((await get('/api/backtests/not-a-uuid')).body.error.details.field).toBe('id');
    });
  });
});

describe('HTTP API failures', () => {
  it('answers an unexpected error with a 500 and no stack or message', async () => {
    const api = await startTestApi('pglite', {
      wrapBots: (bots) =>
        Object.assign(Object.create(bots) as typeof bots, {
          list: () => Promise.reject(new TypeError('secret internals at /home/x/file.ts:12')),
        }),
    });
    try {
      const r = await call(api.url, 'GET', '/api/bots');
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { code: 'internal', message: 'internal error', details: {} } });
    } finally {
      await api.close();
    }
  });
});
