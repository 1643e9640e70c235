import type { Candle } from '../../src/domain/candle.js';
import {
  drawdownSpec,
  equitySpec,
  monthlyReturnsSpec,
  priceChartSpec,
  type CandleRow,
} from '../../src/http/dashboard/specs.js';
import type { BacktestResult } from '../runBacktest.js';
import type { ReportSection } from './page.js';
import { curveRows, priceRows, tradeMarkers } from './series.js';
import { metricsTable, monthlyReturns, tableHtml } from './tables.js';

/** A run shown in a report. */
export interface ReportRun {
  readonly label: string;
  readonly initialCash: number;
  readonly result: BacktestResult;
}

export const CHART_WIDTH = 900;

/**
 * The sections every report has for its runs: the metrics side by side, price with each run's trades,
 * equity and drawdown curves (overlaid when there are several runs) and the monthly-returns heatmap.
 * `candles` are the input candles (empty for recorded trades: the closes the runs decided on are drawn).
 */
export function runSections(runs: readonly ReportRun[], candles: readonly Candle[]): ReportSection[] {
  const curves = runs.map((r) => curveRows(r.label, r.result));
  const prices = candles.length > 0 ? priceRows(candles) : closesOf(runs[0]?.result);
  const several = runs.length > 1;
  return [
    {
      kind: 'table',
      title: several ? 'Metrics side by side' : 'Metrics',
      html: tableHtml(
        metricsTable(
          runs.map((r) => r.label),
          runs.map((r) => r.result.metrics),
        ),
      ),
    },
    ...runs.map((r): ReportSection => ({
      kind: 'chart',
      title: `Price and trades${several ? `: ${r.label}` : ''}`,
      note: `${r.result.trades.length} closed trades: ▲ entry, ▼ exit`,
      spec: priceChartSpec({
        candles: prices,
        markers: tradeMarkers(r.result),
        width: CHART_WIDTH,
        height: 260,
      }),
    })),
    {
      kind: 'chart',
      title: several ? 'Equity (overlaid)' : 'Equity',
      spec: equitySpec(
        curves.flatMap((c) => c.equity),
        { width: CHART_WIDTH },
      ),
    },
    {
      kind: 'chart',
      title: several ? 'Drawdown (overlaid)' : 'Drawdown',
      spec: drawdownSpec(
        curves.flatMap((c) => c.drawdown),
        { width: CHART_WIDTH },
      ),
    },
    {
      kind: 'chart',
      title: 'Monthly returns',
      note: 'UTC calendar months: equity at the month’s last candle over the previous month’s (the initial cash for the first), minus one',
      spec: monthlyReturnsSpec(monthlyReturns(runs), { width: 600 }),
    },
  ];
}

/** Without candles (a run on recorded trades): the closes the strategy decided on. */
function closesOf(r: BacktestResult | undefined): CandleRow[] {
  const prices = r?.series?.prices;
  if (r === undefined || prices === undefined) return [];
  const out: CandleRow[] = [];
  const step = Math.max(1, Math.ceil(prices.length / 2000));
  for (let i = 0; i < prices.length; i += step) {
    const p = prices[i] as number;
    out.push({ tMs: r.equityTimesMs[i] as number, open: p, high: p, low: p, close: p });
  }
  return out;
}
