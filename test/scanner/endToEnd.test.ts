import type { ScanSymbolSpec } from '../../src/sim/scanMarket.js';
import { freshPostgres, type TestDatabase } from '../storage/support/databases.js';
import { stopAll } from '../sim/support.js';
import { MINUTE, scanRig, T0 } from './support.js';

const HISTORY = 150;
const LIVE = 30;

/** MOON-USDT: flat for the history, then from live minute 2 ten minutes of +0.5 % with 3× volume, then −0.4 % a minute. */
const moon: ScanSymbolSpec = {
  instId: 'MOON-USDT',
  price: 100,
  decimals: 3,
  volumePerMinute: 2000,
  volatility: 0.0005,
  script: (m) =>
    m >= HISTORY + 2 && m < HISTORY + 12
      ? { drift: 0.005, volume: 3 }
      : m >= HISTORY + 12 && m < HISTORY + 26
        ? { drift: -0.004, volume: 1 }
        : undefined,
};

const flat = (i: number): ScanSymbolSpec => ({
  instId: i === 0 ? 'BTC-USDT' : `F${String(i).padStart(2, '0')}-USDT`,
  price: i === 0 ? 60_000 : 50 + i,
  decimals: i === 0 ? 1 : 3,
  volumePerMinute: i === 0 ? 50 : 2000,
  volatility: 0.0005,
});

interface ExitRow {
  position_id: number;
  time: Date;
  price: number;
  qty: number;
  percentage: number;
  pnl: number;
  purpose: string;
  trailing_active: boolean;
}

describe.each([
  ['OKX', 'okx', 'okx-sim'],
  ['Kraken, through ccxt', 'kraken', 'kraken-sim'],
] as const)(
  'scanner and position manager end to end against the simulator (%s)',
  (_title, dialect, stored) => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await freshPostgres();
    });
    let afterCleanup = async (): Promise<void> => undefined;
    afterAll(async () => {
      await afterCleanup();
      await stopAll();
      await t.dispose();
    });

    it('finds the scripted breakout, takes both partial profits, trails the rest out and keeps the run metrics', async () => {
      const specs = [...Array.from({ length: 11 }, (_, i) => flat(i)), moon];
      const rig = await scanRig(t.db, specs, {
        historyMinutes: HISTORY,
        liveMinutes: LIVE,
        config: { momentum_strategy: { min_score: 80 }, application: { snapshot_interval_minutes: 5 } },
        dialect,
      });
      afterCleanup = rig.close;
      await rig.scanner.step(rig.clock.ms);
      expect(rig.scanner.universeSymbols).toHaveLength(12);
      for (let m = 0; m < LIVE - 1; m++) {
        await rig.nextMinute();
        await rig.scanner.step(rig.clock.ms);
      }
      const run = [rig.store.runId];
      const runs = await t.db.query<{ exchange: string }>(
        'SELECT exchange FROM scanner_runs WHERE run_id = $1',
        run,
      );
      expect(runs).toEqual([{ exchange: stored }]);

      // Opportunities: only MOON scores 80 (the flat symbols cannot reach the ROC and volume points).
      const opps = await t.db.query<{
        symbol: string;
        time: Date;
        score: number;
        price: number;
        indicators: Record<string, number>;
      }>(
        'SELECT symbol, time, score, price, indicators FROM scanner_opportunities WHERE run_id = $1 ORDER BY time',
        run,
      );
      expect(opps.length).toBeGreaterThan(0);
      expect(new Set(opps.map((o) => o.symbol))).toEqual(new Set(['MOON/USDT']));
      const first = opps[0]!;
      const firstMinute = (first.time.getTime() - T0) / MINUTE;
      expect(firstMinute).toBeGreaterThanOrEqual(3); // the first rising candle closes at live minute 3
      expect(firstMinute).toBeLessThanOrEqual(8);
      expect(first.score).toBeGreaterThanOrEqual(80);
      for (const key of [
        'rsi',
        'macd_hist',
        'roc_1',
        'roc_5',
        'roc_15',
        'bb_upper',
        'adx',
        'volume_ratio',
        'obv',
        'vwap',
        'atr',
        'volume_roc',
      ]) {
        expect(typeof first.indicators[key]).toBe('number');
      }

      // The candles the scanner read are the simulator's (on Kraken: built from the trades ccxt streamed,
      // with the history from OHLC).
      const candles = await rig.truth.candles('MOON/USDT', 300);
      const read = await rig.exchange.candles('MOON/USDT', 60);
      expect(read.length).toBeGreaterThanOrEqual(55);
      const byClose = new Map(candles.map((c) => [c.closeTimeMs, c]));
      for (const c of read) {
        const want = byClose.get(c.closeTimeMs);
        expect(want).toBeDefined();
        for (const k of ['open', 'high', 'low', 'close'] as const) expect(c[k]).toBeCloseTo(want![k], 9);
        expect(c.volume).toBeCloseTo(want!.volume, 6);
      }

      // One position, entered at the open of the candle after the first opportunity.
      const entryCandle = candles.find((c) => c.closeTimeMs === first.time.getTime() + MINUTE)!;
      const positions = await t.db.query<{
        position_id: number;
        symbol: string;
        entry_price: number;
        status: string;
        pnl: number;
        opened_at: Date;
      }>(
        'SELECT position_id, symbol, entry_price, status, pnl, opened_at FROM scanner_positions WHERE run_id = $1',
        run,
      );
      expect(positions).toHaveLength(1);
      const pos = positions[0]!;
      expect(pos).toMatchObject({ symbol: 'MOON/USDT', status: 'closed' });
      expect(pos.entry_price).toBeCloseTo(entryCandle.open, 9);
      const entry = pos.entry_price;

      // Partial exits: 30 % at +1.5 % (trailing not active yet), 30 % at +3 % (trailing active since +2 %),
      // the last 40 % on the trailing stop, 1 % under the best high before it.
      const exits = await t.db.query<ExitRow>(
        'SELECT position_id, time, price, qty, percentage, pnl, purpose, trailing_active FROM scanner_partial_exits WHERE run_id = $1 ORDER BY id',
        run,
      );
      expect(exits.map((e) => [e.purpose, Math.round(e.percentage), e.trailing_active])).toEqual([
        ['take_profit', 30, false],
        ['take_profit', 30, true],
        ['trailing_stop', 40, true],
      ]);
      expect(exits[0]!.price).toBeCloseTo(entry * 1.015, 6);
      expect(exits[1]!.price).toBeCloseTo(entry * 1.03, 6);
      const trailingExit = exits[2]!;
      const best = Math.max(
        ...candles
          .filter(
            (c) => c.closeTimeMs >= entryCandle.closeTimeMs && c.closeTimeMs <= trailingExit.time.getTime(),
          )
          .map((c) => c.high),
      );
      expect(trailingExit.price).toBeCloseTo(
        Math.min(
          best * 0.99,
          candles.find((c) => c.closeTimeMs === trailingExit.time.getTime() + MINUTE)!.open,
        ),
        6,
      );
      expect(trailingExit.price).toBeGreaterThan(entry * 1.03);
      for (const e of exits) expect(e.pnl).toBeGreaterThan(0);
      const totalPnl = exits.reduce((s, e) => s + e.pnl, 0);
      expect(pos.pnl).toBeCloseTo(totalPnl, 6);

      // Run metrics: three round trips, all winners.
      const metrics = await t.db.query<{
        trades: number;
        win_rate: number;
        total_pnl: number;
        avg_profit: number;
        avg_loss: number | null;
        profit_factor: number | null;
        max_drawdown: number;
        metrics: Record<string, unknown>;
      }>(
        'SELECT trades, win_rate, total_pnl, avg_profit, avg_loss, profit_factor, max_drawdown, metrics FROM scanner_run_metrics WHERE run_id = $1',
        run,
      );
      expect(metrics).toHaveLength(1);
      expect(metrics[0]).toMatchObject({ trades: 3, win_rate: 1, avg_loss: null, profit_factor: null });
      expect(metrics[0]!.total_pnl).toBeCloseTo(totalPnl, 6);
      expect(metrics[0]!.avg_profit).toBeCloseTo(totalPnl / 3, 6);
      expect(metrics[0]!.max_drawdown).toBeGreaterThanOrEqual(0);
      expect(metrics[0]!.metrics).toHaveProperty('sharpe');

      // Snapshots every 5 minutes (live candles close at minutes 1..29: 5, 10, 15, 20, 25) for every universe
      // symbol, with the book and the correlation with BTC.
      const snaps = await t.db.query<{ n: number; minutes: number; with_book: number; with_corr: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT time)::int AS minutes, count(book)::int AS with_book,
              count(btc_correlation)::int AS with_corr FROM scanner_snapshots WHERE run_id = $1`,
        run,
      );
      expect(snaps[0]).toEqual({ n: 12 * 5, minutes: 5, with_book: 60, with_corr: 60 });
    }, 180_000);
  },
);
