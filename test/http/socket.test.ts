import { randomUUID } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import type { BusMessage } from '../../src/bus/messages.js';
import { RedisBus } from '../../src/bus/redisBus.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { call, startTestApi, type TestApi } from './support/apiServer.js';

/**
 * Socket.IO bridged from the bus over a real Redis: messages published by another process (a second
 * RedisBus on the same channel prefix) reach the clients in the right rooms; backtest progress too.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';
const T0 = Date.UTC(2024, 0, 1);

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function client(url: string, auth?: Record<string, string>): Socket {
  return connect(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    ...(auth ? { auth } : {}),
  });
}

function events(socket: Socket): { name: string; payload: Record<string, unknown> }[] {
  const seen: { name: string; payload: Record<string, unknown> }[] = [];
  socket.onAny((name: string, payload: Record<string, unknown>) => seen.push({ name, payload }));
  return seen;
}

const candle = (symbol: string, timeframe: '1m' | '5m', closeTimeMs: number): BusMessage => ({
  type: 'candle',
  symbol,
  timeframe,
  closeTimeMs,
  open: 1,
  high: 2,
  low: 1,
  close: 2,
  volume: 3,
  tradesCount: 4,
  revision: 0,
});

describe('Socket.IO bridge over Redis', () => {
  const prefix = `t-${randomUUID()}:`;
  let api: TestApi;
  let appBus: RedisBus;
  let otherProcess: RedisBus;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    appBus = new RedisBus({ redisUrl: REDIS_URL, logger: new RecordingLogger(), channelPrefix: prefix });
    otherProcess = new RedisBus({
      redisUrl: REDIS_URL,
      logger: new RecordingLogger(),
      channelPrefix: prefix,
    });
    api = await startTestApi('postgres', { bus: appBus });
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await api?.close();
    await appBus?.close();
    await otherProcess?.close();
  });

  it('delivers candles, signals, fills, status and performance of another process to the subscribed rooms', async () => {
    const a = client(api.url);
    const b = client(api.url);
    sockets.push(a, b);
    const seenA = events(a);
    const seenB = events(b);
    const ackA = await a.emitWithAck('subscribe', {
      rooms: ['market:BTC-USDT:1m', 'bot:alpha', 'nope', 'bot:../x'],
    });
    expect(ackA).toEqual({ rooms: ['market:BTC-USDT:1m', 'bot:alpha'], rejected: ['nope', 'bot:../x'] });
    await b.emitWithAck('subscribe', { rooms: ['bots', 'market:ETH-USDT:1m'] });

    // The bridge's Redis subscriptions open asynchronously: publish until the first candle arrives.
    let n = 0;
    while (!seenA.some((e) => e.name === 'candle')) {
      await otherProcess.publish('market:BTC-USDT', candle('BTC-USDT', '1m', T0 + n++));
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (n > 500) throw new Error('no candle reached the socket');
    }
    await otherProcess.publish('market:BTC-USDT', candle('BTC-USDT', '5m', T0));
    await otherProcess.publish('market:ETH-USDT', candle('ETH-USDT', '1m', T0));
    await otherProcess.publish('signals:alpha', {
      type: 'signal',
      botId: 'alpha',
      tsMs: T0,
      action: 'buy',
      price: 100,
      confidence: 0.5,
      reason: 'cross',
    });
    await otherProcess.publish('signals:alpha', {
      type: 'fill',
      botId: 'alpha',
      tsMs: T0,
      symbol: 'BTC-USDT',
      side: 'buy',
      price: 100,
      qty: 1,
      fee: 0.1,
      balanceAfter: 900,
      orderId: 1,
      seq: 1,
    });
    await otherProcess.publish('status:alpha', {
      type: 'status',
      botId: 'alpha',
      tsMs: T0,
      status: 'paused',
    });
    await otherProcess.publish('status:beta', {
      type: 'performance',
      botId: 'beta',
      tsMs: T0,
      totalValue: 1,
      cash: 1,
      cryptoValue: 0,
      totalTrades: 0,
      winningTrades: 0,
      totalFees: 0,
    });
    await waitFor('status on A', () => seenA.some((e) => e.name === 'status'));
    await waitFor('performance on B', () => seenB.some((e) => e.name === 'performance'));

    const names = (seen: typeof seenA): string[] => [...new Set(seen.map((e) => e.name))].sort();
    expect(names(seenA)).toEqual(['candle', 'fill', 'signal', 'status']);
    expect(
      seenA
        .filter((e) => e.name === 'candle')
        .every((e) => e.payload.symbol === 'BTC-USDT' && e.payload.timeframe === '1m'),
    ).toBe(true);
    expect(seenA.find((e) => e.name === 'fill')?.payload).toEqual(
      expect.objectContaining({ botId: 'alpha', seq: 1 }),
    );
    // B: every bot's status and performance, and ETH candles; no signals or fills.
    expect(names(seenB)).toEqual(['candle', 'performance', 'status']);
    expect(seenB.filter((e) => e.name === 'candle').map((e) => e.payload.symbol)).toEqual(['ETH-USDT']);

    // Unsubscribed: no more candles of that room.
    await a.emitWithAck('unsubscribe', { rooms: ['market:BTC-USDT:1m'] });
    const before = seenA.filter((e) => e.name === 'candle').length;
    await otherProcess.publish('market:BTC-USDT', candle('BTC-USDT', '1m', T0 + 10_000));
    await otherProcess.publish('status:alpha', {
      type: 'status',
      botId: 'alpha',
      tsMs: T0 + 1,
      status: 'active',
    });
    await waitFor('the second status', () => seenA.filter((e) => e.name === 'status').length === 2);
    expect(seenA.filter((e) => e.name === 'candle').length).toBe(before);

    // The API's own bot actions reach the socket through the bus (the twin publishes status as the manager).
    await call(api.url, 'POST', '/api/bots', {
      bot_id: 'gamma',
      strategy: 'sma_cross',
      symbol: 'BTC-USDT',
      virtual_balance: 100,
    });
    await waitFor('gamma active on B', () =>
      seenB.some((e) => e.name === 'status' && e.payload.botId === 'gamma'),
    );

    const metrics = await call(api.url, 'GET', '/metrics');
    expect(metrics.body).toMatch(/rxtrade_bus_messages_received_total\{type="candle"\} \d+/);
    const health = await call(api.url, 'GET', '/api/health');
    expect(health.body.redis).toEqual({ ok: true });
    expect(typeof health.body.feed.lastCandleAgeMs).toBe('number');
  }, 60_000);

  it('sends backtest progress and completion to the backtests room', async () => {
    const { CandleStore } = await import('../../src/storage/candleStore.js');
    await new CandleStore(api.db, 'okx').upsert(
      Array.from({ length: 500 }, (_, i) => ({
        symbol: 'ETH-USDT',
        timeframe: '1m' as const,
        closeTimeMs: T0 + (i + 1) * 60_000,
        open: 100 + Math.sin(i / 10),
        high: 102 + Math.sin(i / 10),
        low: 99 + Math.sin(i / 10),
        close: 101 + Math.sin(i / 10),
        volume: 1,
        tradesCount: 1,
        closed: true,
        revision: 0,
      })),
    );
    const s = client(api.url);
    sockets.push(s);
    const seen = events(s);
    await s.emitWithAck('subscribe', { rooms: ['backtests'] });
    const r = await call(api.url, 'POST', '/api/backtests', {
      strategy: 'sma_cross',
      symbol: 'ETH-USDT',
      from: T0,
      to: T0 + 500 * 60_000,
    });
    expect(r.status).toBe(202);
    await waitFor('backtest:done', () => seen.some((e) => e.name === 'backtest:done'), 60_000);
    expect(seen.find((e) => e.name === 'backtest:done')?.payload).toEqual({ id: r.body.id, status: 'done' });
    const progress = seen.filter((e) => e.name === 'backtest:progress').map((e) => e.payload);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress[progress.length - 1]).toEqual({ id: r.body.id, done: 500, total: 500 });
  }, 90_000);
});
