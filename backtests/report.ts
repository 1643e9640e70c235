import type { Metrics } from '../src/domain/metrics.js';
import type { DeniedReason } from '../src/domain/trading/types.js';
import type { BacktestResult, BacktestTrade } from './runBacktest.js';

/** Metrics with snake_case keys; undefined values (NaN, ±∞: a ratio over zero) are null. */
export type MetricsJson = Record<string, number | null>;

export interface BacktestJson {
  readonly metrics: MetricsJson;
  readonly trades: readonly BacktestTrade[];
  readonly equity_curve: readonly (readonly [number, number])[];
  /** Signals the risk manager denied, by reason (`{ "position_open": 12 }`; `{}` when none). */
  readonly denied: Readonly<Partial<Record<DeniedReason, number>>>;
}

/** `maxDrawdownDurationMs` → `max_drawdown_duration_ms`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function metricsJson(m: Metrics): MetricsJson {
  const out: MetricsJson = {};
  for (const [k, v] of Object.entries(m) as [string, number][]) {
    out[snakeCase(k)] = Number.isFinite(v) ? v : null;
  }
  return out;
}

/** What `rxtrade backtest --json` prints: `{ metrics, trades, equity_curve }`. */
export function backtestJson(r: BacktestResult): BacktestJson {
  return {
    metrics: metricsJson(r.metrics),
    trades: r.trades,
    equity_curve: r.equity_curve,
    denied: r.deniedByReason,
  };
}

const DENIED_REASONS: Readonly<Record<DeniedReason, string>> = {
  position_open: 'a buy while a position was open or an entry pending',
  no_position: 'a sell with no position to sell',
  max_open_positions: 'max_open_positions reached',
  below_minimum: 'the quantity fell below min_order_size, min_notional or lot_size',
  insufficient_cash: 'not enough cash',
  invalid_price: 'no valid price',
};

/** `9 signals denied: 6 position_open (a buy while …), 3 no_position (…)`, or undefined when none were. */
export function deniedLine(r: BacktestResult): string | undefined {
  const entries = (Object.entries(r.deniedByReason) as [DeniedReason, number][]).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return undefined;
  const total = entries.reduce((n, [, k]) => n + k, 0);
  return `${total} signal${total === 1 ? '' : 's'} denied: ${entries
    .map(([reason, k]) => `${k} ${reason} (${DENIED_REASONS[reason]})`)
    .join(', ')}`;
}

export type MetricFormat = 'pct' | 'num' | 'money' | 'int' | 'time' | 'duration';

const ROWS: readonly [keyof Metrics, string, MetricFormat][] = [
  ['startTimeMs', 'start', 'time'],
  ['endTimeMs', 'end', 'time'],
  ['candles', 'candles', 'int'],
  ['initialEquity', 'initial equity', 'money'],
  ['finalEquity', 'final equity', 'money'],
  ['totalReturn', 'total return', 'pct'],
  ['buyAndHoldReturn', 'buy & hold return', 'pct'],
  ['cagr', 'CAGR', 'pct'],
  ['sharpe', 'Sharpe (annualized)', 'num'],
  ['sortino', 'Sortino (annualized)', 'num'],
  ['calmar', 'Calmar', 'num'],
  ['maxDrawdown', 'max drawdown', 'pct'],
  ['maxDrawdownDurationMs', 'max drawdown duration', 'duration'],
  ['exposure', 'exposure', 'pct'],
  ['trades', 'trades', 'int'],
  ['winRate', 'win rate', 'pct'],
  ['profitFactor', 'profit factor', 'num'],
  ['expectancy', 'expectancy', 'money'],
  ['sqn', 'SQN', 'num'],
  ['avgTradeReturn', 'average trade', 'pct'],
  ['bestTradeReturn', 'best trade', 'pct'],
  ['worstTradeReturn', 'worst trade', 'pct'],
  ['avgTradePnl', 'average trade P&L', 'money'],
  ['bestTradePnl', 'best trade P&L', 'money'],
  ['worstTradePnl', 'worst trade P&L', 'money'],
  ['feesPaid', 'fees paid', 'money'],
];

/** The metrics as a two-column table, one per line (n/a for undefined values). */
export function metricsTable(m: Metrics): string[] {
  const width = Math.max(...ROWS.map(([, label]) => label.length));
  return ROWS.map(([key, label, format]) => `${label.padEnd(width)}  ${formatValue(m[key], format)}`);
}

/** The metrics of several runs side by side: a label column, then one right-aligned column per run. */
export function metricsSideBySide(labels: readonly string[], metrics: readonly Metrics[]): string[] {
  const body = ROWS.map(([key, label, format]) => [
    label,
    ...metrics.map((m) => formatValue(m[key], format)),
  ]);
  const header = ['', ...labels];
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((x, c) => (c === 0 ? x.padEnd(widths[c] as number) : x.padStart(widths[c] as number)))
      .join('  ');
  return [line(header), ...body.map(line)];
}

/** The metrics rows (key, label, format) in the order reports list them. */
export const METRIC_ROWS = ROWS;

export function formatValue(v: number, f: MetricFormat): string {
  if (Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  switch (f) {
    case 'pct':
      return `${(v * 100).toFixed(2)} %`;
    case 'num':
      return v.toFixed(3);
    case 'money':
      return v.toFixed(2);
    case 'int':
      return String(v);
    case 'time':
      return new Date(v).toISOString();
    case 'duration':
      return duration(v);
  }
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}
