import * as aq from 'arquero';
import type { Candle } from '../../src/domain/candle.js';
import type { Metrics } from '../../src/domain/metrics.js';
import {
  drawdownSpec,
  monthlyReturnsSpec,
  parameterHeatmapSpec,
  equitySpec,
  type ParameterCellRow,
} from '../../src/http/dashboard/specs.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import type { BacktestSettings } from '../config.js';
import { METRIC_KEYS, type OptimizeMetric } from '../optimize.js';
import { runBacktest } from '../runBacktest.js';
import type { WalkForwardResult } from '../walkForward.js';
import { writeReport, type ReportSection } from './page.js';
import { CHART_WIDTH, runSections } from './sections.js';
import { curveRows } from './series.js';
import { metricsTable, monthlyReturns, tableHtml } from './tables.js';
import { isoMinute } from '../../src/domain/time.js';

export interface OptimizeReportInput {
  readonly settings: BacktestSettings;
  readonly candles: readonly Candle[];
  readonly where: string;
  readonly metric: OptimizeMetric;
  /** The grid's parameter names, in the order given. */
  readonly axes: readonly string[];
  /** A plain search: every combination, best first. */
  readonly rows?: readonly {
    readonly params: Readonly<Record<string, unknown>>;
    readonly metrics: Metrics;
  }[];
  readonly walkForward?: WalkForwardResult;
}

/** Rows of the results table a report lists (best first). */
const TOP_ROWS = 50;

/**
 * `rxtrade optimize --report FILE.html`. A search: the ranked combinations, the parameter heatmap when the
 * grid varies two parameters, and the best combination's backtest (run again here with its parameters).
 * A walk-forward: the fold table and the stitched out-of-sample equity, drawdown and monthly returns.
 */
export async function writeOptimizeReport(path: string, input: OptimizeReportInput): Promise<void> {
  const { settings, metric } = input;
  const key = METRIC_KEYS[metric];
  const varied = input.axes.filter(
    (a) => new Set((input.rows ?? input.walkForward?.folds ?? []).map((r) => String(r.params[a]))).size > 1,
  );
  const sections: ReportSection[] = [];
  let subtitle: string;
  if (input.walkForward !== undefined) {
    const wf = input.walkForward;
    subtitle = `walk-forward: ${wf.folds.length} folds, ${wf.runs} runs, chosen by ${metric}`;
    sections.push(...walkForwardSections(wf, varied, metric, key, settings.initialCash));
  } else {
    const rows = input.rows ?? [];
    subtitle = `${rows.length} combinations ranked by ${metric}`;
    const table = aq.from(
      rows.slice(0, TOP_ROWS).map((r, i) => ({
        '#': i + 1,
        ...Object.fromEntries(input.axes.map((a) => [a, String(r.params[a])])),
        [metric]: fmt(r.metrics[key]),
        return: pct(r.metrics.totalReturn),
        sharpe: fmt(r.metrics.sharpe),
        'max dd': pct(r.metrics.maxDrawdown),
        trades: r.metrics.trades,
      })),
    );
    sections.push({
      kind: 'table',
      title: `Best ${Math.min(TOP_ROWS, rows.length)} of ${rows.length} combinations`,
      html: tableHtml(table),
    });
    const [x, y] = varied;
    if (varied.length === 2 && x !== undefined && y !== undefined) {
      const cells: ParameterCellRow[] = rows.map((r) => ({
        x: cellValue(r.params[x]),
        y: cellValue(r.params[y]),
        value: Number.isFinite(r.metrics[key]) ? r.metrics[key] : null,
      }));
      sections.push({
        kind: 'chart',
        title: `${metric} over ${x} × ${y}`,
        note: 'Combinations left out by a constraint or refused by the strategy are blank.',
        spec: parameterHeatmapSpec(cells, { x, y, metric }, { width: CHART_WIDTH }),
      });
    }
    const best = rows[0];
    if (best !== undefined) {
      const strategy = defaultStrategyRegistry().create(settings.strategyName, best.params);
      const result = runBacktest(
        { candles: input.candles },
        {
          strategy,
          risk: settings.risk,
          venue: settings.venue,
          initialCash: settings.initialCash,
          series: true,
        },
      );
      sections.push(
        { kind: 'text', title: 'The best combination', text: JSON.stringify(best.params) },
        ...runSections([{ label: 'best', initialCash: settings.initialCash, result }], input.candles),
      );
    }
  }
  await writeReport(path, {
    title: `Optimization: ${settings.strategyName} on ${input.candles[0]?.symbol ?? ''}`,
    subtitle: [`data: ${input.where}, ${input.candles.length} candles`, subtitle],
    sections,
  });
}

function walkForwardSections(
  wf: WalkForwardResult,
  varied: readonly string[],
  metric: OptimizeMetric,
  key: keyof Metrics,
  initialCash: number,
): ReportSection[] {
  const folds = aq.from(
    wf.folds.map((f, i) => ({
      fold: i + 1,
      train: `${isoMinute(f.fold.trainStartMs)} … ${isoMinute(f.fold.testStartMs)}`,
      test: `${isoMinute(f.fold.testStartMs)} … ${isoMinute(f.fold.testEndMs)}`,
      params: varied.map((n) => `${n}=${String(f.params[n])}`).join(' '),
      [`IS ${metric}`]: fmt(f.inSample[key]),
      [`OOS ${metric}`]: fmt(f.outOfSample[key]),
      'OOS return': pct(f.outOfSample.totalReturn),
      'OOS trades': f.outOfSample.trades,
    })),
  );
  const curve = curveRows('out of sample', wf);
  return [
    { kind: 'table', title: 'Walk-forward folds', html: tableHtml(folds) },
    {
      kind: 'table',
      title: 'Stitched out-of-sample metrics',
      html: tableHtml(metricsTable(['out of sample'], [wf.metrics])),
    },
    { kind: 'chart', title: 'Out-of-sample equity', spec: equitySpec(curve.equity, { width: CHART_WIDTH }) },
    {
      kind: 'chart',
      title: 'Out-of-sample drawdown',
      spec: drawdownSpec(curve.drawdown, { width: CHART_WIDTH }),
    },
    {
      kind: 'chart',
      title: 'Out-of-sample monthly returns',
      spec: monthlyReturnsSpec(monthlyReturns([{ label: 'out of sample', initialCash, result: wf }]), {
        width: 600,
      }),
    },
  ];
}

function cellValue(v: unknown): number | string {
  return typeof v === 'number' ? v : String(v);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : 'n/a';
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : 'n/a';
}
