import { Subscription } from 'rxjs';
import type { Bus } from '../bus/bus.js';
import type { BotControl } from '../bots/botControl.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import { BacktestRunStore } from '../storage/backtestRuns.js';
import type { Database } from '../storage/database.js';
import { setPgliteLockApi } from '../storage/pgliteLock.js';
import { createHttpApp } from '../http/app.js';
import { WorkerBacktestService } from '../http/backtests/backtestService.js';
import { dashboardMiddleware } from '../http/dashboard/serve.js';
import { InMemoryMarketSnapshot } from '../http/market/marketSnapshot.js';
import { startHttpServer } from '../http/server.js';
import type { Collector } from './collector.js';

export interface HttpInstanceOptions {
  readonly bots: BotControl;
  readonly db: Database;
  readonly bus: Bus;
  /**
   * This process's collector: its candles say how fresh the feed is in /api/health, its trades are the
   * recent trades and its `books$` (with `orderBooks: true`) the order book.
   */
  readonly collector?: Collector;
  readonly host: string;
  readonly port: number;
  /** RXTRADE_API_TOKEN (required when `host` is not loopback). */
  readonly token?: string;
  /**
   * The embedded database's folder, when that is the database: its lock then names this API, so that
   * `rxtrade bots …` in another shell reaches the instance instead of the folder it cannot open.
   */
  readonly pglitePath?: string;
  readonly logger?: Logger;
}

export interface HttpInstance {
  /** Where the dashboard and the API answer, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The HTTP half of a running instance: the API, Socket.IO and the dashboard over its bots, database and bus.
 * Backtests asked through the API run in worker threads. Closing stops the server, then the workers.
 */
export async function startHttpInstance(options: HttpInstanceOptions): Promise<HttpInstance> {
  const logger = options.logger ?? silentLogger;
  const market = new InMemoryMarketSnapshot();
  const feed = new Subscription();
  if (options.collector !== undefined) {
    market.setConnected(true);
    feed.add(options.collector.candles$.subscribe((c) => market.noteCandle(c.closeTimeMs, Date.now())));
    feed.add(
      options.collector.trades$.subscribe((t) => {
        // OKX always says who took; a recorded file without a side has nothing to show here.
        if (t.side === 'unknown') return;
        market.addTrade(t.symbol, {
          tsMs: t.tsMs,
          price: t.price,
          size: t.size,
          side: t.side,
          tradeId: t.tradeId,
        });
      }),
    );
    feed.add(options.collector.books$.subscribe((b) => market.updateBook(b)));
  }
  // Runs a stopped process left `running` never finish: say so rather than show them running for ever.
  await new BacktestRunStore(options.db).failRunning('the process running it stopped');
  const backtests = new WorkerBacktestService(options.db, { logger });
  const app = createHttpApp({
    bots: options.bots,
    db: options.db,
    bus: options.bus,
    backtests,
    market,
    logger,
    config: options.token !== undefined ? { token: options.token } : {},
    middleware: [dashboardMiddleware()],
  });
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    server = await startHttpServer(app, { host: options.host, port: options.port });
  } catch (err) {
    feed.unsubscribe();
    await backtests.close();
    throw err;
  }
  if (options.pglitePath !== undefined) setPgliteLockApi(options.pglitePath, server.url);
  return {
    url: server.url,
    close: async () => {
      if (options.pglitePath !== undefined) setPgliteLockApi(options.pglitePath, undefined);
      feed.unsubscribe();
      await server.close();
      await backtests.close();
    },
  };
}
