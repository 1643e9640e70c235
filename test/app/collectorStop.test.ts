import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { Collector } from '../../src/app/collector.js';
import { createBus } from '../../src/bus/createBus.js';
import type { Candle } from '../../src/domain/candle.js';
import type { Trade } from '../../src/domain/trade.js';
import type { ExchangeAdapter } from '../../src/exchanges/exchangeAdapter.js';
import { VirtualClock } from '../../src/scheduling/virtualClock.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { freshPglite, type TestDatabase } from '../storage/support/databases.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const MIN = 60_000;

function trade(id: number, tsMs: number, price: number): Trade {
  return { symbol: 'BTC-USDT', tradeId: String(id), tsMs, price, size: 1, side: 'buy' };
}

/** An exchange adapter whose stream is the test's subject (its REST side is not used here). */
function feedAdapter(feed: Subject<Trade>): ExchangeAdapter {
  const none = (): Promise<never> => Promise.reject(new Error('not used by the collector'));
  return {
    id: 'test',
    resumes: false,
    instruments: none,
    trades$: () => feed,
    fetchTrades: none,
    fetchCandles1m: none,
    close: () => Promise.resolve(),
  };
}

/**
 * A collector fed by an exchange adapter's trades on a clock that stands still: what it has taken in
 * when it stops is stored, late trades included. Late trades revise their candle at the end of the burst
 * (a scheduler turn later); a stop in between must not drop the revision.
 */
describe('Collector: late trades and stop', () => {
  let t: TestDatabase;
  let dir: string;
  beforeEach(async () => {
    t = await freshPglite();
    await migrate(t.db);
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-collector-stop-'));
  });
  afterEach(async () => {
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the revision of late trades taken in just before the stop', async () => {
    const feed = new Subject<Trade>();
    const clock = new VirtualClock(T0);
    const bus = createBus({});
    const collector = new Collector({
      symbols: ['BTC-USDT'],
      db: t.db,
      bus,
      exchange: 'kraken-sim',
      timeframes: ['1m'],
      adapter: feedAdapter(feed),
      scheduler: clock,
      spillDir: join(dir, 'spill'),
      deadLetterDir: join(dir, 'dead'),
    });
    const emitted: Candle[] = [];
    collector.candles$.subscribe((c) => emitted.push(c));
    collector.start();
    // Let the (empty) restart planning finish so the feed is subscribed.
    await new Promise((r) => setTimeout(r, 50));
    expect(feed.observed).toBe(true);

    feed.next(trade(1, T0 + 5_000, 100)); // minute 1: partial (the stream started inside it), not stored
    feed.next(trade(2, T0 + MIN + 1_000, 101)); // minute 2
    feed.next(trade(3, T0 + 2 * MIN + 1_000, 102)); // minute 3: minute 2 closes
    feed.next(trade(4, T0 + 3 * MIN + 1_000, 103)); // minute 4: minute 3 closes
    // Late trades of minute 2 (a burst, say a backfill), and the stop before the clock moves on.
    feed.next(trade(5, T0 + MIN + 30_000, 110));
    feed.next(trade(6, T0 + MIN + 40_000, 90));
    await collector.stop();
    await bus.close();

    const stored = await new CandleStore(t.db, 'kraken-sim').range(
      'BTC-USDT',
      '1m',
      0,
      Number.MAX_SAFE_INTEGER,
    );
    expect(stored.map((c) => [c.closeTimeMs, c.tradesCount, c.open, c.high, c.low, c.close])).toEqual([
      [T0 + 2 * MIN, 3, 101, 110, 90, 90],
      [T0 + 3 * MIN, 1, 102, 102, 102, 102],
    ]);
    expect(emitted.filter((c) => c.closeTimeMs === T0 + 2 * MIN).map((c) => c.revision)).toEqual([0, 1]);
  });

  it('revises the 5m candle of a minute revised long after it closed, with only 1m and 5m kept', async () => {
    // The resampler holds two buckets of the largest timeframe kept (10 minutes with 1m and 5m), late
    // trades revise the last 60 minutes: the 5m candle must follow its minutes that far back.
    const feed = new Subject<Trade>();
    const bus = createBus({});
    const collector = new Collector({
      symbols: ['BTC-USDT'],
      db: t.db,
      bus,
      exchange: 'kraken-sim',
      timeframes: ['1m', '5m'],
      adapter: feedAdapter(feed),
      scheduler: new VirtualClock(T0),
      spillDir: join(dir, 'spill'),
      deadLetterDir: join(dir, 'dead'),
    });
    collector.start();
    await new Promise((r) => setTimeout(r, 50));
    feed.next(trade(1, T0 - 30_000, 99)); // the partial minute closing at T0: 5m buckets from T0 are whole
    for (let i = 0; i <= 15; i++) feed.next(trade(2 + i, T0 + i * MIN + 1_000, 100 + i));
    feed.next(trade(100, T0 + 2 * MIN + 30_000, 200)); // 13 minutes late
    await collector.stop();
    await bus.close();

    const stored = await new CandleStore(t.db, 'kraken-sim').range(
      'BTC-USDT',
      '5m',
      0,
      Number.MAX_SAFE_INTEGER,
    );
    expect(stored.map((c) => [c.closeTimeMs, c.tradesCount, c.open, c.high, c.low, c.close])).toEqual([
      [T0 + 5 * MIN, 6, 100, 200, 100, 104],
      [T0 + 10 * MIN, 5, 105, 109, 105, 109],
      [T0 + 15 * MIN, 5, 110, 114, 110, 114],
    ]);
  });
});
