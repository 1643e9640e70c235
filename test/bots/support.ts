import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { BotManager, type BotManagerOptions } from '../../src/bots/botManager.js';
import { CandleFeed } from '../../src/bots/candleFeed.js';
import type { Bus } from '../../src/bus/bus.js';
import { InProcessBus } from '../../src/bus/inProcessBus.js';
import type { Candle } from '../../src/domain/candle.js';
import { BotStore } from '../../src/storage/botStore.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import type { Database } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { VirtualClock } from '../../src/scheduling/virtualClock.js';
import { freshPglite, freshPostgres, type TestDatabase } from '../storage/support/databases.js';

export const MIN = 60_000;
/** A whole day, so every timeframe's buckets start on it. */
export const T0 = Date.UTC(2024, 7, 8);
export const EXCHANGE = 'okx-sim';

/**
 * Deterministic 1m candles of `symbol`: a few overlapping waves (so crossover and RSI strategies trade
 * every so often) with a drift; candle i closes at `startMs + (i + 1) min`.
 */
export function waveCandles(symbol: string, startMs: number, n: number, base = 100, phase = 0): Candle[] {
  const out: Candle[] = [];
  let prev = base;
  for (let i = 0; i < n; i++) {
    const x = i + phase;
    const close = round(base * (1 + 0.02 * Math.sin(x / 9) + 0.008 * Math.sin(x / 2.3) + 0.00002 * x));
    const open = prev;
    out.push({
      symbol,
      timeframe: '1m',
      closeTimeMs: startMs + (i + 1) * MIN,
      open,
      high: round(Math.max(open, close) * 1.0015),
      low: round(Math.min(open, close) * 0.9985),
      close,
      volume: 10 + (i % 7),
      tradesCount: 5 + (i % 3),
      closed: true,
      revision: 0,
    });
    prev = close;
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export const EMA_BOT = {
  bot_id: 'ema',
  strategy: 'ema_crossover',
  symbol: 'BTC-USDT',
  timeframe: '1m',
  virtual_balance: 10_000,
  parameters: { fast_period: 3, slow_period: 8 },
  risk: { sizing: { type: 'equity', percentage: 50 }, stop_loss_percentage: 1.5 },
  venue: { fee_rate: 0.001 },
};

export const RSI_BOT = {
  bot_id: 'rsi',
  strategy: 'rsi_reversion',
  symbol: 'BTC-USDT',
  timeframe: '1m',
  virtual_balance: 5_000,
  parameters: { period: 5, oversold: 35, overbought: 65 },
  risk: {
    sizing: { type: 'equity', percentage: 90 },
    take_profit: [{ percentage: 0.5, position_percentage: 50 }],
  },
  venue: { fee_rate: 0.001 },
};

export const MACD_BOT = {
  bot_id: 'macd5',
  strategy: 'macd_trend',
  symbol: 'ETH-USDT',
  timeframe: '5m',
  virtual_balance: 2_000,
  parameters: { fast_period: 3, slow_period: 6, signal_period: 3 },
  risk: {
    sizing: { type: 'equity', percentage: 80 },
    trailing_stop: { activation_percentage: 0.3, offset_percentage: 0.3 },
  },
  venue: { fee_rate: 0.001 },
};

export interface Harness {
  readonly db: Database;
  /** Postgres only: the database's connection string. */
  readonly url: string | undefined;
  readonly bus: Bus;
  readonly store: BotStore;
  readonly candleStore: CandleStore;
  readonly clock: VirtualClock;
  readonly market: Subject<Candle>;
  readonly feed: CandleFeed;
  readonly dir: string;
  manager: BotManager;
  /** A new manager on the same database, folder and feed (a process restart). */
  restart(over?: Partial<BotManagerOptions>): Promise<BotManager>;
  writeBot(name: string, doc: unknown): Promise<void>;
  /** Publishes candles on the feed (and stores them first when `store`), then waits for the bots. */
  push(candles: readonly Candle[], store?: boolean): Promise<void>;
  dispose(): Promise<void>;
}

export async function harness(
  kind: 'pglite' | 'postgres',
  bots: Record<string, unknown>,
  over: Partial<BotManagerOptions> = {},
): Promise<Harness> {
  const t: TestDatabase = kind === 'pglite' ? await freshPglite() : await freshPostgres();
  await migrate(t.db);
  const dir = await mkdtemp(join(tmpdir(), 'rxtrade-bots-'));
  await mkdir(join(dir, 'bots'));
  // Written aside and renamed, as editors save: a rescan never reads a half-written file.
  const writeBot = async (name: string, doc: unknown): Promise<void> => {
    const tmp = join(dir, `.${name}.tmp`);
    await writeFile(tmp, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
    await rename(tmp, join(dir, 'bots', name));
  };
  for (const [name, doc] of Object.entries(bots)) await writeBot(name, doc);
  const bus = new InProcessBus();
  const clock = new VirtualClock(T0);
  const market = new Subject<Candle>();
  const feed = new CandleFeed(() => market);
  const store = new BotStore(t.db);
  const candleStore = new CandleStore(t.db, EXCHANGE);
  const make = async (o: Partial<BotManagerOptions>): Promise<BotManager> => {
    const m = new BotManager({
      db: t.db,
      bus,
      feed,
      exchange: EXCHANGE,
      configDir: dir,
      scheduler: clock,
      watch: { fsWatch: false, rescanMs: 0 },
      ...over,
      ...o,
    });
    await m.open();
    return m;
  };
  const h: Harness = {
    db: t.db,
    url: t.url,
    bus,
    store,
    candleStore,
    clock,
    market,
    feed,
    dir,
    manager: await make({}),
    restart: async (o = {}) => {
      await h.manager.close();
      h.manager = await make(o);
      return h.manager;
    },
    writeBot,
    push: async (candles, storeFirst = false) => {
      if (storeFirst) await candleStore.upsert(candles);
      // A minute between candles: each is committed before the clock moves on.
      for (const c of candles) {
        clock.advanceTo(c.closeTimeMs);
        market.next(c);
        await h.manager.settled();
      }
    },
    dispose: async () => {
      await h.manager.close();
      feed.close();
      await bus.close();
      await t.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Polls `condition` until it holds (fails naming `what` after `timeoutMs`). */
export async function until(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `virtual_balance − Σ buys (price·qty + fees) + Σ sells (price·qty − fees)` from the trades table. */
export async function cashFromTrades(db: Database, botId: string): Promise<number> {
  const rows = await db.query<{ cash: string }>(
    `SELECT b.virtual_balance
            - coalesce(sum(CASE WHEN t.side = 'buy' THEN t.price * t.quantity + t.fees ELSE 0 END), 0)
            + coalesce(sum(CASE WHEN t.side = 'sell' THEN t.price * t.quantity - t.fees ELSE 0 END), 0) AS cash
       FROM bots b LEFT JOIN trades t ON t.bot_id = b.id AND t.epoch = b.epoch
      WHERE b.name = $1 GROUP BY b.virtual_balance`,
    [botId],
  );
  return Number(rows[0]?.cash);
}
