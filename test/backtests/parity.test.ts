import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, tap, type Subscription } from 'rxjs';
import { Collector } from '../../src/app/collector.js';
import { createBus } from '../../src/bus/createBus.js';
import type { Candle } from '../../src/domain/candle.js';
import type { Signal } from '../../src/domain/signal.js';
import type { Trade } from '../../src/domain/trade.js';
import { parseRiskConfig, parseVenueModel, type RiskConfigInput } from '../../src/domain/trading/config.js';
import { CLOSED_AT_END, TradingEngine } from '../../src/domain/trading/engine.js';
import type { Fill } from '../../src/domain/trading/types.js';
import { tradeStrategy } from '../../src/operators/tradeStrategy.js';
import { ReplayClock } from '../../src/scheduling/replayClock.js';
import { OkxSimulator } from '../../src/sim/okxSimulator.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { runBacktest } from '../../backtests/runBacktest.js';
import { fixtureCandles, MAY_SLICE } from './support.js';

/**
 * The central promise: the same trades give the same signals and fills whether they go through
 * (a) the backtest runner (virtual time, TradingEngine) or
 * (b) the live path — the OKX simulator serving trades synthesized from real 1m candles (seed 7) on a clock
 *     SPEED× faster than the wall clock → Collector (WebSocket, tradesToCandles on a ReplayClock) →
 *     candles$ → tradeStrategy over a TradingEngine, as a live bot runs it.
 * Both end in the same operator, so what this holds equal is everything before it: candles built from a
 * live WebSocket on a running clock and from a file in virtual time.
 * The live path drops its first, partial minute; the backtest is fed the simulator's ground-truth trades
 * from the first minute the live path kept, up to the last one it decided on.
 */

const SPEED = 1200; // 20 minutes of market per second
const SYMBOL = 'BTC-USDT';
const LIVE_CANDLES = 200;
const STRATEGY = { fast_period: 3, slow_period: 8, atr_period: 5 };
const RISK: RiskConfigInput = {
  sizing: { type: 'equity', percentage: 90 },
  stop_loss_percentage: 0.4,
  take_profit: [{ percentage: 0.3, position_percentage: 50 }],
  lot_size: 0.00001,
};
const VENUE = { fee_rate: 0.001, slippage: { type: 'fixed' as const, bps: 1 } };
const CASH = 10_000;

jest.setTimeout(120_000);

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface LiveRun {
  readonly signals: Signal[];
  readonly fills: Fill[];
  readonly equity: number[];
  readonly candles: Candle[];
}

describe('parity: backtest runner vs the live path against the OKX simulator', () => {
  let sim: OkxSimulator;
  let db: Database;
  let collector: Collector;
  let spillDir: string;
  const subscriptions: Subscription[] = [];

  afterAll(async () => {
    for (const s of subscriptions) s.unsubscribe();
    await collector?.stop().catch(() => undefined);
    await sim?.stop();
    await db?.close();
    if (spillDir !== undefined) rmSync(spillDir, { recursive: true, force: true });
  });

  it('gives identical signals, fills and equity', async () => {
    const candles = (await fixtureCandles(MAY_SLICE)).slice(0, LIVE_CANDLES + 150);
    const strategy = defaultStrategyRegistry().create('ema_crossover', STRATEGY);
    const risk = parseRiskConfig(RISK);
    const venue = parseVenueModel(VENUE);

    db = await openDatabase({ pglitePath: 'memory://' });
    await migrate(db);
    spillDir = mkdtempSync(join(tmpdir(), 'rxtrade-parity-'));
    const t0 = Date.now();
    const clockNow = (): number => t0 + (Date.now() - t0) * SPEED;
    sim = new OkxSimulator({
      instruments: [{ instId: SYMBOL, candles, seed: 7 }],
      speed: 1,
      loop: false,
      now: clockNow,
      // OKX's 30 s idle close is on the simulator's clock: keep it 30 s of wall time.
      idleCloseMs: 30_000 * SPEED,
    });
    const address = await sim.start();
    collector = new Collector({
      symbols: [SYMBOL],
      wsUrl: address.wsPublicUrl,
      restUrl: address.restUrl,
      db,
      bus: createBus({}),
      exchange: 'okx-sim',
      spillDir,
      timeframes: ['1m'],
      scheduler: new ReplayClock(clockNow(), SPEED),
      // Trades reach us some wall-clock ms after they happen: SPEED× longer on the simulated clock.
      graceMs: 1000 * SPEED,
    });

    // (b) The live path, as a bot runs it.
    const live: LiveRun = { signals: [], fills: [], equity: [], candles: [] };
    const market$ = collector.candles$.pipe(
      filter((c) => c.timeframe === '1m'),
      tap((c) => live.candles.push(c)),
    );
    subscriptions.push(
      market$
        .pipe(tradeStrategy(strategy, () => new TradingEngine({ risk, venue, initialCash: CASH })))
        .subscribe((step) => {
          live.fills.push(...step.fills);
          if (step.signal === undefined) return;
          live.signals.push(step.signal);
          live.equity.push(step.portfolio.equity);
        }),
    );
    collector.start();
    await waitFor(`${LIVE_CANDLES} live 1m candles`, () => live.signals.length >= LIVE_CANDLES, 90_000);
    await collector.stop();
    const groundTruth = sim.groundTruth(SYMBOL);
    await sim.stop();

    const firstMs = (live.candles[0] as Candle).closeTimeMs;
    const lastMs = (live.signals[live.signals.length - 1] as Signal).closeTimeMs;
    expect(collector.stats().lateTrades).toBe(0);
    expect(live.candles.every((c) => c.revision === 0)).toBe(true);

    // (a) The backtest on the ground truth, from the first minute the live path kept.
    const trades: Trade[] = groundTruth
      .filter((t) => t.ts >= firstMs - 60_000 && t.ts < lastMs + 60_000)
      .map((t) => ({
        symbol: t.instId,
        tradeId: t.tradeId,
        tsMs: t.ts,
        price: Number(t.px),
        size: Number(t.sz),
        side: t.side,
      }));
    const bt = { signals: [] as Signal[], fills: [] as Fill[] };
    const result = runBacktest(
      { trades, skipPartialStart: false },
      {
        strategy,
        risk,
        venue,
        initialCash: CASH,
        onSignal: (s) => bt.signals.push(s),
        onFill: (f) => bt.fills.push(f),
      },
    );

    expect(live.signals.length).toBeGreaterThanOrEqual(LIVE_CANDLES);
    expect(bt.signals.map((s) => s.closeTimeMs)).toEqual(live.signals.map((s) => s.closeTimeMs));
    expect(bt.signals).toEqual(live.signals);
    const tradedFills = bt.fills.filter((f) => f.reason !== CLOSED_AT_END);
    expect(tradedFills.filter((f) => f.purpose === 'entry').length).toBeGreaterThanOrEqual(5);
    expect(tradedFills).toEqual(live.fills);
    const n = live.equity.length;
    expect(n).toBe(result.candles);
    expect(Array.from(result.equity.subarray(0, n - 1))).toEqual(live.equity.slice(0, n - 1));
  });
});
