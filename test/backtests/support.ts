import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Candle } from '../../src/domain/candle.js';
import { parseRiskConfig, parseVenueModel, type RiskConfigInput } from '../../src/domain/trading/config.js';
import { readCandleCsv } from '../../src/streams/candleCsv.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import {
  runBacktest,
  type BacktestData,
  type BacktestOptions,
  type BacktestResult,
} from '../../backtests/runBacktest.js';

/** Real Binance BTC/USDT 1m candles (stamped by open time): 2021-05-18 18:00–19:59 (2,000 rows). */
export const MAY_SLICE = fileURLToPath(
  new URL('../fixtures/indicators/btcusdt-1m-20210518T1800-2000.csv', import.meta.url),
);
/** Real Binance BTC/USDT 1m candles, 2021-04-24/25 (2,596 rows, one real 284-minute gap). */
export const APRIL_DAYS = fileURLToPath(
  new URL('../fixtures/candles/binance_BTCUSDT_1m_20210424_20210425.csv', import.meta.url),
);

/**
 * The whole real BTC/USDT 1m month (42,915 candles, 2021-04-20 → 2021-05-20, stamped by open time), unpacked
 * from its gzip fixture into a temporary file on first import (the CLI reads plain CSV).
 */
export const BTC_MONTH = ((): string => {
  const gz = fileURLToPath(new URL('../fixtures/candles/tooyipjee__BTC_USDT-1m.csv.gz', import.meta.url));
  const path = join(mkdtempSync(join(tmpdir(), 'rxtrade-month-')), 'BTC_USDT-1m.csv');
  writeFileSync(path, gunzipSync(readFileSync(gz)));
  return path;
})();

export async function fixtureCandles(path: string): Promise<Candle[]> {
  return (await readCandleCsv(path, { symbol: 'BTC-USDT' })).candles;
}

export function backtest(
  data: BacktestData,
  strategy: { name: string; params?: Record<string, unknown> },
  risk: RiskConfigInput,
  extra: Partial<BacktestOptions> & { fee?: number } = {},
): BacktestResult {
  const { fee = 0.001, ...rest } = extra;
  return runBacktest(data, {
    strategy: defaultStrategyRegistry().create(strategy.name, strategy.params ?? {}),
    risk: parseRiskConfig(risk),
    venue: parseVenueModel({ fee_rate: fee }),
    initialCash: 10_000,
    ...rest,
  });
}
