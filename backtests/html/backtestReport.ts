import type { Candle } from '../../src/domain/candle.js';
import type { BacktestSettings } from '../config.js';
import type { BacktestResult } from '../runBacktest.js';
import { writeReport } from './page.js';
import { runSections } from './sections.js';

/** `rxtrade backtest --report FILE.html`: metrics, price and trades, equity, drawdown, monthly returns. */
export async function writeBacktestReport(
  path: string,
  input: {
    readonly result: BacktestResult;
    readonly settings: BacktestSettings;
    readonly candles: readonly Candle[];
    readonly where: string;
  },
): Promise<void> {
  const { result, settings } = input;
  await writeReport(path, {
    title: `Backtest: ${settings.strategyName} on ${result.symbol} ${result.timeframe}`,
    subtitle: [
      `${settings.strategyName} ${JSON.stringify(settings.parameters)}`,
      `data: ${input.where}; ${periodLine(result)}`,
      ...result.warnings.map((w) => `warning: ${w}`),
    ],
    sections: runSections(
      [{ label: settings.strategyName, initialCash: settings.initialCash, result }],
      input.candles,
    ),
  });
}

export function periodLine(r: BacktestResult): string {
  const m = r.metrics;
  if (!Number.isFinite(m.startTimeMs)) return 'no candles';
  return `${new Date(m.startTimeMs).toISOString()} … ${new Date(m.endTimeMs).toISOString()}, ${r.candles} ${r.timeframe} candles`;
}
