import type { TopLevelSpec } from 'vega-lite';
import type { EquityRow } from './specs.js';

/**
 * The research charts (drawdown, monthly returns, parameter grid) as Vega-Lite specs: pure functions from
 * plain rows, like ./specs.ts, shared by the dashboard's backtest view and the HTML reports of
 * `rxtrade backtest|optimize|compare --report`.
 */

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const TIME_AXIS = { title: null, format: '%m-%d %H:%M', labelOverlap: true, tickCount: 6 } as const;

interface Size {
  readonly title?: string;
  readonly width?: number | 'container';
  readonly height?: number;
}

/** Fall from the running peak of one run's equity, as a fraction (0.1 = 10 % below the peak). */
export interface DrawdownRow {
  readonly run: string;
  readonly tMs: number;
  readonly drawdown: number;
}

/** Drawdown rows of equity rows (each run's own running peak; rows of a run in time order). */
export function drawdownRows(rows: readonly EquityRow[]): DrawdownRow[] {
  const peaks = new Map<string, number>();
  return rows.map((r) => {
    const peak = Math.max(peaks.get(r.run) ?? r.value, r.value);
    peaks.set(r.run, peak);
    return { run: r.run, tMs: r.tMs, drawdown: peak > 0 ? (r.value - peak) / peak : 0 };
  });
}

/** Drawdown curves under zero, a colour per run (one run: a filled area). */
export function drawdownSpec(rows: readonly DrawdownRow[], options: Size = {}): TopLevelSpec {
  const runs = new Set(rows.map((r) => r.run)).size;
  return {
    $schema: SCHEMA,
    ...(options.title === undefined ? {} : { title: options.title }),
    width: options.width ?? 'container',
    height: options.height ?? 140,
    datasets: { drawdown: rows.map((r) => ({ ...r })) },
    data: { name: 'drawdown' },
    mark: runs > 1 ? { type: 'line', strokeWidth: 1.2 } : { type: 'area', color: '#ef5350', opacity: 0.6 },
    encoding: {
      x: { field: 'tMs', type: 'temporal', axis: TIME_AXIS },
      y: { field: 'drawdown', type: 'quantitative', axis: { title: null, format: '.1%' } },
      ...(runs > 1
        ? { color: { field: 'run', type: 'nominal', legend: { title: null, orient: 'bottom-left' } } }
        : {}),
      tooltip: [
        { field: 'run', type: 'nominal' },
        { field: 'tMs', type: 'temporal', title: 'time', format: '%Y-%m-%d %H:%M' },
        { field: 'drawdown', type: 'quantitative', format: '.2%' },
      ],
    },
    config: { view: { stroke: null } },
  } as TopLevelSpec;
}

/** One month's return of one run (month 1–12). */
export interface MonthlyReturnRow {
  readonly run: string;
  readonly year: number;
  readonly month: number;
  readonly ret: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Monthly returns as a year × month heatmap (red losses, green gains, the value written in each cell); a row of heatmaps per run. */
export function monthlyReturnsSpec(rows: readonly MonthlyReturnRow[], options: Size = {}): TopLevelSpec {
  const runs = new Set(rows.map((r) => r.run)).size;
  const years = new Set(rows.map((r) => r.year)).size;
  const extent = Math.max(0.0001, ...rows.map((r) => Math.abs(r.ret)).filter(Number.isFinite));
  const cell = {
    width: options.width ?? 480,
    height: 26 * Math.max(1, years),
    encoding: {
      x: { field: 'monthName', type: 'ordinal', sort: MONTHS, scale: { domain: MONTHS }, title: null },
      y: { field: 'year', type: 'ordinal', title: null },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'ret',
            type: 'quantitative',
            scale: { scheme: 'redyellowgreen', domain: [-extent, extent] },
            legend: { title: 'return', format: '.0%' },
          },
          tooltip: [
            { field: 'run', type: 'nominal' },
            { field: 'year', type: 'ordinal' },
            { field: 'monthName', type: 'ordinal', title: 'month' },
            { field: 'ret', type: 'quantitative', title: 'return', format: '.2%' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: { text: { field: 'ret', type: 'quantitative', format: '.1%' } },
      },
    ],
  };
  const common = {
    $schema: SCHEMA,
    ...(options.title === undefined ? {} : { title: options.title }),
    datasets: { monthly: rows.map((r) => ({ ...r, monthName: MONTHS[r.month - 1] })) },
    data: { name: 'monthly' },
    config: { view: { stroke: null } },
  };
  if (runs <= 1) return { ...common, ...cell } as TopLevelSpec;
  return {
    ...common,
    facet: { row: { field: 'run', type: 'nominal', title: null } },
    spec: cell,
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** One combination of a two-parameter grid and the value of the metric it ranked by. */
export interface ParameterCellRow {
  readonly x: number | string;
  readonly y: number | string;
  /** Null when the metric is undefined for the combination (no trades). */
  readonly value: number | null;
}

/** A two-parameter grid as a heatmap: one cell per combination, coloured by the metric, its value written in. */
export function parameterHeatmapSpec(
  rows: readonly ParameterCellRow[],
  names: { readonly x: string; readonly y: string; readonly metric: string },
  options: Size = {},
): TopLevelSpec {
  const numeric = (key: 'x' | 'y'): boolean => rows.every((r) => typeof r[key] === 'number');
  const sortOf = (key: 'x' | 'y'): unknown =>
    numeric(key) ? 'ascending' : [...new Set(rows.map((r) => String(r[key])))];
  return {
    $schema: SCHEMA,
    ...(options.title === undefined ? {} : { title: options.title }),
    width: options.width ?? 'container',
    height: options.height ?? 320,
    datasets: { grid: rows.map((r) => ({ ...r })) },
    data: { name: 'grid' },
    encoding: {
      x: { field: 'x', type: 'ordinal', title: names.x, sort: sortOf('x') },
      y: { field: 'y', type: 'ordinal', title: names.y, sort: numeric('y') ? 'descending' : sortOf('y') },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            scale: { scheme: 'viridis' },
            legend: { title: names.metric },
          },
          tooltip: [
            { field: 'x', title: names.x },
            { field: 'y', title: names.y },
            { field: 'value', type: 'quantitative', title: names.metric, format: '.3f' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 9, color: 'white' },
        encoding: { text: { field: 'value', type: 'quantitative', format: '.2f' } },
      },
    ],
    config: { view: { stroke: null } },
  } as TopLevelSpec;
}
