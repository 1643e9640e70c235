import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InProcessBus } from '../../../src/bus/inProcessBus.js';
import { marketChannel, signalsChannel, statusChannel, type BusMessage } from '../../../src/bus/messages.js';
import type { Candle } from '../../../src/domain/candle.js';
import { createHttpApp } from '../../../src/http/app.js';
import { WorkerBacktestService } from '../../../src/http/backtests/backtestService.js';
import { dashboardMiddleware } from '../../../src/http/dashboard/serve.js';
import { InMemoryMarketSnapshot } from '../../../src/http/market/marketSnapshot.js';
import { startHttpServer } from '../../../src/http/server.js';
import { CandleStore } from '../../../src/storage/candleStore.js';
import type { Database } from '../../../src/storage/database.js';
import { migrate } from '../../../src/storage/migrate.js';
import { StoreBotControl } from '../../http/support/storeBotControl.js';
import { freshPglite } from '../../storage/support/databases.js';
import type { DashboardBackend } from './backend.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** Close time of the last stored candle. */
export const REAL_LAST_CANDLE_MS = Date.UTC(2026, 0, 15, 12, 0);
const CANDLES = 240;

/** Wavy BTC-USDT 1m candles (so EMA crossings happen in a backtest over them). */
function candles(): Candle[] {
  const out: Candle[] = [];
  let close = 60_000;
  for (let i = CANDLES - 1; i >= 0; i--) {
    const open = close;
    close = open * (1 + 0.002 * Math.sin(i / 7) + 0.0007 * Math.cos(i / 3));
    out.push({
      symbol: 'BTC-USDT',
      timeframe: '1m',
      closeTimeMs: REAL_LAST_CANDLE_MS - i * 60_000,
      open,
      high: Math.max(open, close) * 1.0006,
      low: Math.min(open, close) * 0.9994,
      close,
      volume: 1 + (i % 5),
      tradesCount: 10,
      closed: true,
      revision: 0,
    });
  }
  return out;
}

/**
 * The real API (`createHttpApp` with the dashboard mounted, as `rxtrade start` builds it) on PGlite with
 * 240 stored candles, the BotControl twin of the API tests over two demo bots, the worker backtest service
 * and an in-process bus: `push` publishes on it and the API's Socket.IO bridge carries it to the page.
 */
export interface RealBackend extends DashboardBackend {
  /** The API's database: what the bots and the collector would have written meanwhile. */
  readonly db: Database;
}

export async function startRealBackend(): Promise<RealBackend> {
  const test = await freshPglite();
  await migrate(test.db);
  await new CandleStore(test.db, 'okx').upsert(candles());
  const configDir = mkdtempSync(join(tmpdir(), 'rxtrade-dash-'));
  const bus = new InProcessBus();
  const bots = new StoreBotControl(test.db, configDir, bus);
  for (const name of ['btc-ema-fast.json']) {
    await bots.create(JSON.parse(readFileSync(join(ROOT, 'config/bots', name), 'utf8')));
  }
  await bots.create({
    bot_id: 'btc-sma',
    strategy: 'sma_cross',
    symbol: 'BTC-USDT',
    timeframe: '1m',
    virtual_balance: 10000,
    enabled: false,
  });
  // What the feed would have told by now: the latest book and a few trades.
  const market = new InMemoryMarketSnapshot();
  market.setConnected(true);
  market.updateBook({
    symbol: 'BTC-USDT',
    tsMs: REAL_LAST_CANDLE_MS,
    bids: [1, 2, 3, 4, 5].map((i) => [61_000 - i, i / 10] as const),
    asks: [1, 2, 3, 4, 5].map((i) => [61_000 + i, i / 10] as const),
  });
  for (let i = 0; i < 5; i++) {
    market.addTrade('BTC-USDT', {
      tsMs: REAL_LAST_CANDLE_MS - i * 1000,
      price: 61_000 + i,
      size: 0.01,
      side: i % 2 === 0 ? 'buy' : 'sell',
      tradeId: String(100 + i),
    });
  }
  const backtests = new WorkerBacktestService(test.db, { maxConcurrent: 1 });
  const app = createHttpApp({
    bots,
    db: test.db,
    bus,
    backtests,
    market,
    middleware: [dashboardMiddleware()],
  });
  const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  return {
    url: server.url,
    db: test.db,
    push: (message: BusMessage) => {
      switch (message.type) {
        case 'candle':
          return bus.publish(marketChannel(message.symbol), message);
        case 'signal':
        case 'fill':
          return bus.publish(signalsChannel(message.botId), message);
        case 'status':
        case 'performance':
          return bus.publish(statusChannel(message.botId), message);
        default:
          return bus.publish('system:events', message);
      }
    },
    close: async () => {
      await server.close();
      await backtests.close();
      await bus.close();
      await test.dispose();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}
