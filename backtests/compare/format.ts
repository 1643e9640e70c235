import { metricsJson, metricsSideBySide, type MetricsJson } from '../report.js';
import type { DifferenceEstimate } from './bootstrap.js';
import type { CompareResult } from './compareRuns.js';

/** What `rxtrade compare --json` prints. Undefined numbers (NaN, ±∞) are null. */
export function compareJson(r: CompareResult, data: { where: string }): object {
  const first = r.runs[0];
  return {
    data: {
      where: data.where,
      symbol: first?.result.symbol ?? null,
      seed: r.seed,
      samples: r.samples,
    },
    runs: r.runs.map((run) => ({
      label: run.label,
      strategy: run.settings.strategyName,
      params: run.settings.parameters,
      timeframe: run.result.timeframe,
      metrics: metricsJson(run.result.metrics) as MetricsJson,
      warnings: run.result.warnings,
      drawdown_monte_carlo: {
        trades: run.drawdowns.trades,
        samples: run.drawdowns.samples,
        actual: num(run.drawdowns.actual),
        mean: num(run.drawdowns.mean),
        percentiles: Object.fromEntries(run.drawdowns.percentiles.map(([p, v]) => [`p${p}`, num(v)])),
        at_least_actual: num(run.drawdowns.atLeastActual),
      },
    })),
    significance: r.significance.map((s) => ({
      run: s.label,
      vs: s.vs,
      method: 'paired stationary bootstrap',
      periods: s.bootstrap.periods,
      samples: s.bootstrap.samples,
      block_length: s.bootstrap.blockLength,
      confidence: s.bootstrap.confidence,
      sharpe_diff: difference(s.bootstrap.sharpe),
      return_diff: difference(s.bootstrap.totalReturn),
    })),
  };
}

/** The text `rxtrade compare` prints: metrics side by side, the significance and drawdown tables. */
export function compareText(r: CompareResult, data: { where: string }): string[] {
  const first = r.runs[0];
  if (first === undefined) return [];
  const lines = [
    `${r.runs.length} runs on ${first.result.symbol} (${data.where})`,
    ...r.runs.map(
      (run) =>
        `  ${run.label}: ${run.settings.strategyName} ${JSON.stringify(run.settings.parameters)}, ${run.result.candles} ${run.result.timeframe} candles`,
    ),
    '',
    ...metricsSideBySide(
      r.runs.map((run) => run.label),
      r.runs.map((run) => run.result.metrics),
    ),
  ];
  const s0 = r.significance[0]?.bootstrap;
  if (s0 !== undefined) {
    lines.push(
      '',
      `difference vs ${first.label} (run − ${first.label}): paired stationary bootstrap of per-period returns, ` +
        `${s0.samples} resamples, mean block ${s0.blockLength} periods, ${Math.round(s0.confidence * 100)} % intervals, seed ${r.seed}`,
      ...table(
        ['run', 'periods', 'Sharpe diff', 'interval', 'p', 'return diff', 'interval', 'p'],
        r.significance.map((s) => [
          s.label,
          String(s.bootstrap.periods),
          fixed(s.bootstrap.sharpe.estimate, 3),
          `[${fixed(s.bootstrap.sharpe.low, 3)}, ${fixed(s.bootstrap.sharpe.high, 3)}]`,
          fixed(s.bootstrap.sharpe.pValue, 4),
          pct(s.bootstrap.totalReturn.estimate),
          `[${pct(s.bootstrap.totalReturn.low)}, ${pct(s.bootstrap.totalReturn.high)}]`,
          fixed(s.bootstrap.totalReturn.pValue, 4),
        ]),
      ),
    );
  }
  const ps = first.drawdowns.percentiles.map(([p]) => `p${p}`);
  lines.push(
    '',
    `max drawdown of the trade-by-trade equity, ${r.samples} shuffles of each run's closed trades (seed ${r.seed})`,
    ...table(
      ['run', 'trades', 'actual', ...ps, 'share ≥ actual'],
      r.runs.map((run) => [
        run.label,
        String(run.drawdowns.trades),
        pct(run.drawdowns.actual),
        ...run.drawdowns.percentiles.map(([, v]) => pct(v)),
        pct(run.drawdowns.atLeastActual),
      ]),
    ),
  );
  for (const run of r.runs) for (const w of run.result.warnings) lines.push(`warning: ${run.label}: ${w}`);
  return lines;
}

function difference(d: DifferenceEstimate): object {
  return { estimate: num(d.estimate), low: num(d.low), high: num(d.high), p_value: num(d.pValue) };
}

function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? (v > 0 && digits === 3 ? '+' : '') + v.toFixed(digits) : 'n/a';
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : 'n/a';
}

function table(header: readonly string[], body: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((x, c) => (c === 0 ? x.padEnd(widths[c] as number) : x.padStart(widths[c] as number)))
      .join('  ');
  return [line(header), ...body.map(line)];
}
