import { jest } from '@jest/globals';
import { runBacktest } from '../../backtests/runBacktest.js';
import { validateBotFile } from '../../src/bots/botConfig.js';
import type { Fill } from '../../src/domain/trading/types.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { collect } from '../bus/busTesting.js';
import {
  cashFromTrades,
  EMA_BOT,
  harness,
  MACD_BOT,
  MIN,
  RSI_BOT,
  T0,
  until,
  waveCandles,
  type Harness,
} from './support.js';

const btc = waveCandles('BTC-USDT', T0, 240, 60_000);
const eth = waveCandles('ETH-USDT', T0, 240, 3_000, 17);

jest.setTimeout(180_000);

/** Fills of a backtest of `doc` over `candles` (no closing fill at the end). */
function backtestFills(doc: Record<string, unknown>, candles: typeof btc): Fill[] {
  const registry = defaultStrategyRegistry();
  const config = validateBotFile(doc, { source: 'x.json', text: JSON.stringify(doc), registry });
  const fills: Fill[] = [];
  runBacktest(
    { candles },
    {
      strategy: registry.create(config.strategyName, config.parameters),
      risk: config.risk,
      venue: config.venue,
      initialCash: config.virtualBalance,
      closeAtEnd: false,
      onFill: (f) => fills.push(f),
    },
  );
  return fills;
}

describe.each(['pglite', 'postgres'] as const)('BotManager on %s', (kind) => {
  let h: Harness;
  afterEach(async () => h?.dispose());

  it('runs every bot on the shared feed, writes one record per candle, and equals a backtest on the same candles', async () => {
    h = await harness(kind, { 'ema.json': EMA_BOT, 'rsi.json': RSI_BOT, 'macd5.json': MACD_BOT });
    const signals = collect(h.bus, 'signals:*');
    const statuses = collect(h.bus, 'status:*');
    expect((await h.manager.list()).map((b) => [b.botKey, b.status])).toEqual([
      ['ema', 'active'],
      ['macd5', 'active'],
      ['rsi', 'active'],
    ]);
    // Interleaved like the collector's stream.
    for (let i = 0; i < btc.length; i++) await h.push([btc[i]!, eth[i]!]);

    for (const [doc, candles] of [
      [EMA_BOT, btc],
      [RSI_BOT, btc],
      [MACD_BOT, eth],
    ] as const) {
      const id = doc.bot_id;
      const expected = backtestFills(doc, candles);
      const stored = await h.store.trades(id, { limit: 10_000 });
      expect(expected.length).toBeGreaterThan(3);
      expect(stored.map((f) => [f.timeMs, f.side, f.price, f.qty, f.fee])).toEqual(
        expected.map((f) => [f.timeMs, f.side, f.price, f.qty, f.fee]),
      );
      expect(stored.map((f) => f.seq)).toEqual(expected.map((_, i) => i + 1));
      const bot = await h.store.loadBot(id);
      expect(bot?.lastCandleMs).toBe(candles[candles.length - 1]!.closeTimeMs);
      // Cash follows from the fills alone, and equals the last fill's balance_after.
      expect(bot?.cash).toBeCloseTo(await cashFromTrades(h.db, id), 6);
      expect(bot?.cash).toBeCloseTo(stored[stored.length - 1]!.balanceAfter, 9);
      const perf = await h.store.performance(id, { limit: 10_000 });
      expect(perf).toHaveLength(candles.length);
      expect(bot?.lastHeartbeatMs).toBeDefined();
    }
    // Signals: one per decision candle (holds included); 5m bot decides every 5th minute.
    expect(await h.store.signals('ema', { limit: 10_000 })).toHaveLength(btc.length);
    expect(await h.store.signals('macd5', { limit: 10_000 })).toHaveLength(btc.length / 5);
    await until('bus messages', () => signals.items.some((d) => d.message.type === 'fill'));
    const fillMessages = signals.items.filter(
      (d) => d.channel === 'signals:ema' && d.message.type === 'fill',
    );
    expect(fillMessages).toHaveLength((await h.store.trades('ema', { limit: 10_000 })).length);
    expect(statuses.items.some((d) => d.message.type === 'performance')).toBe(true);
    signals.subscription.unsubscribe();
    statuses.subscription.unsubscribe();
  });

  it('warms up on stored candles without trading, restores after a restart, and catches up on candles stored while down', async () => {
    // The uninterrupted reference: history stored, then live.
    const history = btc.slice(0, 60);
    const live = btc.slice(60);
    h = await harness(kind, {});
    await h.candleStore.upsert(history);
    await h.writeBot('ema.json', EMA_BOT);
    h.clock.advanceTo(history[history.length - 1]!.closeTimeMs);
    await h.restart();
    await h.push(live.slice(0, 70), true);
    // Warm-up traded nothing: no record before the first live candle.
    const perf = await h.store.performance('ema', { limit: 10_000 });
    expect(perf[0]?.timeMs).toBe(live[0]!.closeTimeMs);
    const before = await h.store.trades('ema', { limit: 10_000 });
    const stateBefore = await h.store.loadBot('ema');

    // "Killed": candles keep being stored while no bot runs, then a new manager starts.
    await h.manager.close();
    await h.candleStore.upsert(live.slice(70, 120));
    h.clock.advanceTo(live[119]!.closeTimeMs);
    expect((await h.store.loadBot('ema'))?.cash).toBe(stateBefore?.cash);
    await h.restart();
    await h.push(live.slice(120), true);

    const all = await h.store.trades('ema', { limit: 10_000 });
    expect(all.slice(0, before.length)).toEqual(before);
    // Same as one uninterrupted run from the same warm-up.
    const ref = await harness(kind, {});
    try {
      await ref.candleStore.upsert(history);
      await ref.writeBot('ema.json', EMA_BOT);
      ref.clock.advanceTo(history[history.length - 1]!.closeTimeMs);
      await ref.restart();
      await ref.push(live, true);
      const refTrades = await ref.store.trades('ema', { limit: 10_000 });
      const strip = (f: (typeof all)[number]): unknown[] => [
        f.seq,
        f.timeMs,
        f.side,
        f.price,
        f.qty,
        f.fee,
        f.balanceAfter,
      ];
      expect(all.map(strip)).toEqual(refTrades.map(strip));
      expect((await h.store.loadBot('ema'))?.cash).toBe((await ref.store.loadBot('ema'))?.cash);
      expect(await h.store.performance('ema', { limit: 10_000 })).toHaveLength(live.length);
    } finally {
      await ref.dispose();
    }
    const dupes = await h.db.query<{ n: number | string }>(
      'SELECT count(*) AS n FROM (SELECT bot_id, epoch, fill_seq FROM trades GROUP BY 1, 2, 3 HAVING count(*) > 1) d',
    );
    expect(Number(dupes[0]?.n)).toBe(0);
    expect(live[live.length - 1]!.closeTimeMs - live[0]!.closeTimeMs).toBe((live.length - 1) * MIN);
  });
});
