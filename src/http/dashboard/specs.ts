import type { TopLevelSpec } from 'vega-lite';

/**
 * The dashboard's charts as Vega-Lite specs: pure functions from plain rows to a spec, with no DOM and no
 * I/O, so the browser page (through vega-embed) and a report generator on Node (through vega-lite's
 * `compile()`) draw the same pictures. Every dataset is named (`data: { name }`, values under `datasets`)
 * so a live page can stream rows into it with `view.change(name, changeset)` instead of redrawing.
 */

/** One candle, keyed by its close time (epoch ms). */
export interface CandleRow {
  readonly tMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

/** A buy or sell at a price, drawn as a triangle on the price chart. */
export interface MarkerRow {
  readonly tMs: number;
  readonly side: 'buy' | 'sell';
  readonly price: number;
  readonly qty?: number;
}

/** One value of one indicator (`ema_fast`, `rsi`…) at a time: long format, one row per value. */
export interface IndicatorRow {
  readonly tMs: number;
  readonly name: string;
  readonly value: number;
}

export interface PriceChartInput {
  readonly title?: string;
  readonly candles: readonly CandleRow[];
  readonly markers?: readonly MarkerRow[];
  readonly indicators?: readonly IndicatorRow[];
  /** Above this many candles the price is drawn as a close line (candles would be thinner than a pixel). */
  readonly maxCandles?: number;
  readonly width?: number | 'container';
  readonly height?: number;
}

/** The names of the datasets a live page streams into. */
export const DATASETS = {
  candles: 'candles',
  markers: 'markers',
  overlays: 'overlays',
  oscillators: 'oscillators',
  portfolio: 'portfolio',
  trades: 'trades',
  equity: 'equity',
} as const;

const UP = '#26a69a';
const DOWN = '#ef5350';
const BUY = '#1e88e5';
const SELL = '#f4511e';

/**
 * Single views fit their container's width with their axes inside it, and lay out again when their data
 * change: a chart drawn before its first rows (a bot's equity) would otherwise keep an empty axis's room and
 * clip its labels.
 */
const FIT = { type: 'fit-x', contains: 'padding', resize: true } as const;

const TIME_AXIS = { title: null, format: '%m-%d %H:%M', labelOverlap: true, tickCount: 6 } as const;

/**
 * Splits indicator rows into those that live on the price scale (moving averages, bands: every value
 * within half to twice the price range) and the rest (oscillators: RSI, MACD…), drawn in a panel below.
 */
export function splitIndicators(
  candles: readonly CandleRow[],
  indicators: readonly IndicatorRow[],
): { overlays: IndicatorRow[]; oscillators: IndicatorRow[] } {
  if (candles.length === 0 || indicators.length === 0) return { overlays: [], oscillators: [...indicators] };
  let low = Infinity;
  let high = -Infinity;
  for (const c of candles) {
    low = Math.min(low, c.low);
    high = Math.max(high, c.high);
  }
  const onPriceScale = new Map<string, boolean>();
  for (const row of indicators) {
    const inRange = row.value >= low * 0.5 && row.value <= high * 2;
    onPriceScale.set(row.name, (onPriceScale.get(row.name) ?? true) && inRange);
  }
  const overlays: IndicatorRow[] = [];
  const oscillators: IndicatorRow[] = [];
  for (const row of indicators) (onPriceScale.get(row.name) ? overlays : oscillators).push(row);
  return { overlays, oscillators };
}

/**
 * Candlesticks (wick: low–high rule; body: open–close bar, green up, red down) with the buy/sell fills as
 * triangles and the price-scale indicators as lines; oscillators, when there are any, in a panel below
 * sharing the time axis.
 */
export function priceChartSpec(input: PriceChartInput): TopLevelSpec {
  const markers = input.markers ?? [];
  const { overlays, oscillators } = splitIndicators(input.candles, input.indicators ?? []);
  const asLine = input.candles.length > (input.maxCandles ?? 400);
  const width = input.width ?? 'container';
  const x = { field: 'tMs', type: 'temporal', axis: TIME_AXIS } as const;
  const y = { type: 'quantitative', scale: { zero: false }, axis: { title: null } } as const;

  const priceLayers = asLine
    ? [
        {
          data: { name: DATASETS.candles },
          mark: { type: 'line', color: '#607d8b', strokeWidth: 1 },
          encoding: { x, y: { ...y, field: 'close' } },
        },
      ]
    : [
        {
          data: { name: DATASETS.candles },
          encoding: {
            x,
            color: {
              condition: { test: 'datum.open <= datum.close', value: UP },
              value: DOWN,
            },
            tooltip: [
              { field: 'tMs', type: 'temporal', title: 'close time', format: '%Y-%m-%d %H:%M' },
              { field: 'open', type: 'quantitative' },
              { field: 'high', type: 'quantitative' },
              { field: 'low', type: 'quantitative' },
              { field: 'close', type: 'quantitative' },
            ],
          },
          layer: [
            { mark: { type: 'rule' }, encoding: { y: { ...y, field: 'low' }, y2: { field: 'high' } } },
            { mark: { type: 'bar' }, encoding: { y: { ...y, field: 'open' }, y2: { field: 'close' } } },
          ],
        },
      ];

  const price = {
    width,
    height: input.height ?? 300,
    layer: [
      ...priceLayers,
      {
        data: { name: DATASETS.overlays },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x,
          y: { ...y, field: 'value' },
          color: { field: 'name', type: 'nominal', legend: { title: null, orient: 'top-left' } },
        },
      },
      {
        data: { name: DATASETS.markers },
        mark: { type: 'point', filled: true, size: 110, opacity: 1, stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x,
          y: { ...y, field: 'price' },
          shape: {
            field: 'side',
            type: 'nominal',
            scale: { domain: ['buy', 'sell'], range: ['triangle-up', 'triangle-down'] },
            legend: null,
          },
          fill: {
            field: 'side',
            type: 'nominal',
            scale: { domain: ['buy', 'sell'], range: [BUY, SELL] },
            legend: null,
          },
          tooltip: [
            { field: 'side', type: 'nominal' },
            { field: 'price', type: 'quantitative' },
            { field: 'qty', type: 'quantitative' },
            { field: 'tMs', type: 'temporal', title: 'time', format: '%Y-%m-%d %H:%M:%S' },
          ],
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  };

  const datasets = {
    [DATASETS.candles]: input.candles.map((c) => ({ ...c })),
    [DATASETS.markers]: markers.map((m) => ({ ...m })),
    [DATASETS.overlays]: overlays,
    [DATASETS.oscillators]: oscillators,
  };
  const common = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(input.title === undefined ? {} : { title: input.title }),
    datasets,
    config: { view: { stroke: null } },
  };
  if (oscillators.length === 0) return { ...common, ...price } as TopLevelSpec;
  return {
    ...common,
    // One time axis for both panels; each panel's own colours and legend (a shared legend drew the
    // oscillators' names over the overlays' at the top left).
    resolve: { scale: { x: 'shared', color: 'independent' }, legend: { color: 'independent' } },
    vconcat: [
      price,
      {
        width,
        height: 90,
        data: { name: DATASETS.oscillators },
        mark: { type: 'line', strokeWidth: 1 },
        encoding: {
          x,
          y: { ...y, field: 'value' },
          color: { field: 'name', type: 'nominal', legend: { title: null, orient: 'top-left' } },
        },
      },
    ],
  } as TopLevelSpec;
}

/** A bot's account after a candle. */
export interface PortfolioRow {
  readonly tMs: number;
  readonly totalValue: number;
  readonly cash: number;
  readonly cryptoValue: number;
}

/** Portfolio value over time: cash and crypto stacked as areas, the total as a line on top. */
export function portfolioSpec(
  rows: readonly PortfolioRow[],
  options: { title?: string; width?: number | 'container'; height?: number } = {},
): TopLevelSpec {
  const x = { field: 'tMs', type: 'temporal', axis: TIME_AXIS } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title === undefined ? {} : { title: options.title }),
    width: options.width ?? 'container',
    autosize: FIT,
    height: options.height ?? 180,
    datasets: { [DATASETS.portfolio]: rows.map((r) => ({ ...r })) },
    data: { name: DATASETS.portfolio },
    layer: [
      {
        transform: [{ fold: ['cash', 'cryptoValue'], as: ['part', 'value'] }],
        mark: { type: 'area', opacity: 0.55 },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', stack: 'zero', axis: { title: null } },
          color: {
            field: 'part',
            type: 'nominal',
            scale: { domain: ['cash', 'cryptoValue'], range: ['#90caf9', '#ffb74d'] },
            legend: {
              title: null,
              orient: 'top-left',
              labelExpr: "datum.label === 'cash' ? 'cash' : 'crypto'",
            },
          },
        },
      },
      {
        mark: { type: 'line', color: '#263238', strokeWidth: 1.5 },
        encoding: {
          x,
          y: { field: 'totalValue', type: 'quantitative' },
          tooltip: [
            { field: 'tMs', type: 'temporal', title: 'time', format: '%Y-%m-%d %H:%M' },
            { field: 'totalValue', type: 'quantitative', title: 'total', format: ',.2f' },
            { field: 'cash', type: 'quantitative', format: ',.2f' },
            { field: 'cryptoValue', type: 'quantitative', title: 'crypto', format: ',.2f' },
          ],
        },
      },
    ],
    config: { view: { stroke: null } },
  } as TopLevelSpec;
}

/** A closed trade's realized P&L. */
export interface TradePnlRow {
  readonly tMs: number;
  readonly pnl: number;
  readonly label?: string;
}

/** P&L per closed trade as bars: green for a gain, red for a loss. */
export function tradePnlSpec(
  rows: readonly TradePnlRow[],
  options: { title?: string; width?: number | 'container'; height?: number } = {},
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title === undefined ? {} : { title: options.title }),
    width: options.width ?? 'container',
    autosize: FIT,
    height: options.height ?? 120,
    datasets: { [DATASETS.trades]: rows.map((r, i) => ({ n: i + 1, ...r })) },
    data: { name: DATASETS.trades },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'n', type: 'ordinal', title: 'trade', axis: { labelOverlap: true } },
      y: { field: 'pnl', type: 'quantitative', title: 'P&L' },
      color: { condition: { test: 'datum.pnl >= 0', value: UP }, value: DOWN },
      tooltip: [
        { field: 'tMs', type: 'temporal', title: 'time', format: '%Y-%m-%d %H:%M' },
        { field: 'pnl', type: 'quantitative', format: ',.2f' },
      ],
    },
    config: { view: { stroke: null } },
  } as TopLevelSpec;
}

/** One point of one run's equity curve; `run` tells the runs apart. */
export interface EquityRow {
  readonly run: string;
  readonly tMs: number;
  readonly value: number;
}

/** Equity curves of one or more runs (backtests, bots) on one time axis, a colour per run. */
export function equitySpec(
  rows: readonly EquityRow[],
  options: { title?: string; width?: number | 'container'; height?: number } = {},
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title === undefined ? {} : { title: options.title }),
    width: options.width ?? 'container',
    autosize: FIT,
    height: options.height ?? 200,
    datasets: { [DATASETS.equity]: rows.map((r) => ({ ...r })) },
    data: { name: DATASETS.equity },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'tMs', type: 'temporal', axis: TIME_AXIS },
      y: { field: 'value', type: 'quantitative', scale: { zero: false }, axis: { title: null } },
      color: { field: 'run', type: 'nominal', legend: { title: null, orient: 'top-left' } },
      tooltip: [
        { field: 'run', type: 'nominal' },
        { field: 'tMs', type: 'temporal', title: 'time', format: '%Y-%m-%d %H:%M' },
        { field: 'value', type: 'quantitative', format: ',.2f' },
      ],
    },
    config: { view: { stroke: null } },
  } as TopLevelSpec;
}

// The research charts (drawdown, monthly returns, parameter grid) live in their own file; every chart the
// dashboard and the HTML reports draw is imported from here.
export {
  drawdownRows,
  drawdownSpec,
  monthlyReturnsSpec,
  parameterHeatmapSpec,
  type DrawdownRow,
  type MonthlyReturnRow,
  type ParameterCellRow,
} from './researchSpecs.js';
