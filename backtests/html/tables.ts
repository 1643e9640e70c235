import * as aq from 'arquero';
import type { Metrics } from '../../src/domain/metrics.js';
import type { MonthlyReturnRow } from '../../src/http/dashboard/specs.js';
import { formatValue, METRIC_ROWS } from '../report.js';
import type { EquityCurve } from './series.js';

const op = aq.op;

/** Report tables are computed with arquero and rendered by its toHTML. */
export type Table = aq.ColumnTable;

/** Every metric (rows) of every run (columns), formatted as the text report formats them. */
export function metricsTable(labels: readonly string[], metrics: readonly Metrics[]): Table {
  const columns: Record<string, string[]> = { metric: METRIC_ROWS.map(([, label]) => label) };
  labels.forEach((label, i) => {
    const m = metrics[i] as Metrics;
    columns[label] = METRIC_ROWS.map(([key, , format]) => formatValue(m[key], format));
  });
  return aq.table(columns);
}

/**
 * Each run's return per calendar month (UTC): the equity at the month's last point over the equity at the
 * previous month's last point (the initial cash for the first month), minus one. A point closing exactly
 * at midnight of the 1st belongs to the month before (its candle traded in that month).
 */
export function monthlyReturns(
  runs: readonly { readonly label: string; readonly initialCash: number; readonly result: EquityCurve }[],
): MonthlyReturnRow[] {
  const run: string[] = [];
  const tMs: number[] = [];
  const equity: number[] = [];
  const initial: number[] = [];
  for (const r of runs) {
    const times = r.result.equityTimesMs;
    for (let i = 0; i < times.length; i++) {
      run.push(r.label);
      tMs.push((times[i] as number) - 1);
      equity.push(r.result.equity[i] as number);
      initial.push(r.initialCash);
    }
  }
  if (run.length === 0) return [];
  return (
    aq
      .table({ run, tMs, equity, initial })
      .derive({
        year: (d: { tMs: number }) => op.utcyear(d.tMs),
        month: (d: { tMs: number }) => op.utcmonth(d.tMs) + 1,
      })
      .groupby('run', 'year', 'month')
      .orderby('tMs')
      // The last point of each month (arquero parses this function: no TypeScript-only syntax survives in it).
      .filter(() => (op.row_number() as unknown) === (op.count() as unknown))
      .groupby('run')
      .orderby('year', 'month')
      .derive({ prev: (d: { equity: number }) => op.lag(d.equity, 1, NaN) })
      .derive({
        ret: (d: { equity: number; prev: number; initial: number }) =>
          d.equity / (op.is_nan(d.prev) ? d.initial : d.prev) - 1,
      })
      .select('run', 'year', 'month', 'ret')
      .objects() as MonthlyReturnRow[]
  );
}

/** Monthly returns as a table: a row per run and year, a column per month, percentages. */
export function monthlyTable(rows: readonly MonthlyReturnRow[]): Table {
  if (rows.length === 0) return aq.table({ run: [] as string[] });
  return aq
    .from(
      rows.map((r) => ({ ...r, month: MONTHS[r.month - 1] as string, ret: `${(r.ret * 100).toFixed(2)} %` })),
    )
    .groupby('run', 'year')
    .pivot('month', 'ret')
    .select('run', 'year', ...MONTHS.filter((m) => rows.some((r) => MONTHS[r.month - 1] === m)));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A table as HTML (every row; numbers as given: format them before). */
export function tableHtml(t: Table): string {
  return t.toHTML({ limit: Infinity });
}
