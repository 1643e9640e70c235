import * as aq from 'arquero';
import type { Candle } from '../../src/domain/candle.js';
import type { CompareResult } from '../compare/compareRuns.js';
import { periodLine } from './backtestReport.js';
import { writeReport } from './page.js';
import { runSections } from './sections.js';
import { tableHtml } from './tables.js';

/** `rxtrade compare --report FILE.html`: the runs overlaid, the bootstrap and Monte Carlo tables. */
export async function writeCompareReport(
  path: string,
  input: { readonly result: CompareResult; readonly candles: readonly Candle[]; readonly where: string },
): Promise<void> {
  const { result } = input;
  const first = result.runs[0];
  const boot = result.significance[0]?.bootstrap;
  const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : 'n/a');
  const num = (v: number, d: number): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  const significance = aq.table({
    run: result.significance.map((s) => s.label),
    periods: result.significance.map((s) => s.bootstrap.periods),
    'Sharpe diff': result.significance.map((s) => num(s.bootstrap.sharpe.estimate, 3)),
    'Sharpe interval': result.significance.map(
      (s) => `[${num(s.bootstrap.sharpe.low, 3)}, ${num(s.bootstrap.sharpe.high, 3)}]`,
    ),
    'Sharpe p': result.significance.map((s) => num(s.bootstrap.sharpe.pValue, 4)),
    'return diff': result.significance.map((s) => pct(s.bootstrap.totalReturn.estimate)),
    'return interval': result.significance.map(
      (s) => `[${pct(s.bootstrap.totalReturn.low)}, ${pct(s.bootstrap.totalReturn.high)}]`,
    ),
    'return p': result.significance.map((s) => num(s.bootstrap.totalReturn.pValue, 4)),
  });
  const drawdown = aq.from(
    result.runs.map((r) => ({
      run: r.label,
      trades: r.drawdowns.trades,
      actual: pct(r.drawdowns.actual),
      ...Object.fromEntries(r.drawdowns.percentiles.map(([p, v]) => [`p${p}`, pct(v)])),
      'share ≥ actual': pct(r.drawdowns.atLeastActual),
    })),
  );
  await writeReport(path, {
    title: `Comparison of ${result.runs.length} runs on ${first?.result.symbol ?? ''}`,
    subtitle: [
      `data: ${input.where}; ${first === undefined ? '' : periodLine(first.result)}`,
      ...result.runs.map(
        (r) => `${r.label}: ${r.settings.strategyName} ${JSON.stringify(r.settings.parameters)}`,
      ),
    ],
    sections: [
      ...runSections(
        result.runs.map((r) => ({ label: r.label, initialCash: r.settings.initialCash, result: r.result })),
        input.candles,
      ),
      {
        kind: 'table',
        title: `Difference vs ${first?.label ?? 'the first run'} (paired bootstrap)`,
        note:
          boot === undefined
            ? ''
            : `Paired stationary bootstrap of the per-period returns: ${boot.samples} resamples, mean block ${boot.blockLength} periods, ` +
              `${Math.round(boot.confidence * 100)} % percentile intervals, two-sided p-values of "no difference", seed ${result.seed}.`,
        html: tableHtml(significance),
      },
      {
        kind: 'table',
        title: 'Max drawdown by trade order (Monte Carlo)',
        note: `${result.samples} shuffles of each run’s closed trades (net P&L from the initial cash), seed ${result.seed}: the max drawdown of the trade-by-trade equity.`,
        html: tableHtml(drawdown),
      },
    ],
  });
}
