import { join, relative } from 'node:path';
import { runBacktest, type BacktestResult } from '../backtests/runBacktest.js';
import { packageRoot } from '../src/cli/packageRoot.js';
import type { Candle } from '../src/domain/candle.js';
import { parseRiskConfig, parseVenueModel } from '../src/domain/trading/config.js';
import { readCandleCsv } from '../src/streams/candleCsv.js';
import { defaultStrategyRegistry } from '../src/strategies/registry.js';
import { btcMonthCsv } from './data.js';
import { parsingCsv, stats, time } from './machine.js';

/** Target from issue 6, in candles/s, for the whole backtest. */
const TARGET = 2e6;

/**
 * A full `ema_crossover` backtest (default parameters: replay in virtual time, resample, strategy, risk,
 * fills, portfolio, metrics, equity curve) in candles/s over at least `minCandles` real 1m candles: the
 * BTC/USDT month (../shared/data, or the project's gzip fixture of it; with `useSharedMonth` false, the
 * two fixture slices 2021-05-18 and 2021-04-24/25), repeated end to end with the times shifted. File parsing is timed separately and
 * excluded. Medians of `runs` runs (after 2 warm-up runs).
 */
export async function benchBacktest(
  minCandles = 500_000,
  runs = 3,
  /** false: the two short fixture slices instead of the month. */
  useSharedMonth = true,
): Promise<string[]> {
  const root = packageRoot();
  const month = btcMonthCsv(root);
  const paths = useSharedMonth
    ? [month.path]
    : [
        join(root, 'test', 'fixtures', 'indicators', 'btcusdt-1m-20210518T1800-2000.csv'),
        join(root, 'test', 'fixtures', 'candles', 'binance_BTCUSDT_1m_20210424_20210425.csv'),
      ];

  const parseSeconds: number[] = [];
  let base: Candle[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    base = [];
    for (const p of paths) {
      const file = await parsingCsv(() => readCandleCsv(p, { symbol: 'BTC-USDT' }));
      base.push(...shiftAfter(file.candles, base[base.length - 1]));
    }
    parseSeconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const first = base[0];
  const last = base[base.length - 1];
  if (first === undefined || last === undefined) throw new Error('bench: no candles');
  const copies = Math.ceil(minCandles / base.length);
  const candles: Candle[] = [];
  for (let k = 0; k < copies; k++) candles.push(...shiftAfter(base, candles[candles.length - 1]));

  const strategy = defaultStrategyRegistry().create('ema_crossover', {});
  const risk = parseRiskConfig({ sizing: { type: 'equity', percentage: 95 } });
  const venue = parseVenueModel({ fee_rate: 0.001 });
  let result: BacktestResult | undefined;
  const seconds = time(() => {
    result = runBacktest({ candles }, { strategy, risk, venue, initialCash: 10_000 });
  }, runs);
  if (result === undefined || result.trades.length === 0)
    throw new Error('bench: the backtest made no trade');
  const s = stats(seconds.map((sec) => candles.length / sec));
  const p = stats(parseSeconds.map((sec) => base.length / sec));
  const pairs0 = process.hrtime.bigint();
  const curve = result.equity_curve.length;
  const pairsMs = Number(process.hrtime.bigint() - pairs0) / 1e6;
  const source = `${useSharedMonth ? month.label : paths.map((x) => relative(root, x)).join(' + ')} × ${copies}`;
  return [
    `backtest: ${candles.length} real 1m candles (${source}), ema_crossover 12/26, equity:95 sizing, fee 0.001`,
    `backtest ema_crossover (whole run)           median ${(s.median / 1e6).toFixed(2)} M candles/s  (min ${(s.min / 1e6).toFixed(2)}, max ${(s.max / 1e6).toFixed(2)}, ${s.runs} runs)  target ≥ ${TARGET / 1e6} M: ${s.median >= TARGET ? 'met' : 'MISSED'}`,
    `backtest result: ${result.trades.length} trades, ${result.signals} signals, final equity ${result.metrics.finalEquity.toPrecision(6)}; equity_curve as ${curve} [t, equity] pairs: ${pairsMs.toFixed(1)} ms more`,
    `backtest CSV parsing (excluded above)        median ${(p.median / 1e6).toFixed(3)} M candles/s  (${base.length} candles in ${(stats(parseSeconds).median * 1000).toFixed(1)} ms, ${p.runs} runs)`,
  ];
}

/** `candles` shifted (a whole number of minutes) to start one minute after `after` (as they are when undefined). */
function shiftAfter(candles: readonly Candle[], after: Candle | undefined): Candle[] {
  const first = candles[0];
  if (after === undefined || first === undefined) return [...candles];
  const shift = after.closeTimeMs + 60_000 - first.closeTimeMs;
  return candles.map((c) => ({ ...c, closeTimeMs: c.closeTimeMs + shift }));
}
