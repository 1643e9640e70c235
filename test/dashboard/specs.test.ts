import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import {
  DATASETS,
  equitySpec,
  portfolioSpec,
  priceChartSpec,
  splitIndicators,
  tradePnlSpec,
} from '../../src/http/dashboard/specs.js';

interface VegaData {
  name: string;
  values?: unknown[];
}
interface VegaMark {
  type: string;
  from?: { data?: string };
  marks?: VegaMark[];
}

/** Compiles a spec the way vega-embed does and returns the Vega output (data, marks), failing on warnings. */
function vega(spec: TopLevelSpec): { data: VegaData[]; marks: VegaMark[] } {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...m: unknown[]) => (warnings.push(`error ${m.join(' ')}`), logger),
    warn: (...m: unknown[]) => (warnings.push(`warn ${m.join(' ')}`), logger),
    info: () => logger,
    debug: () => logger,
  };
  const out = compile(spec, { logger: logger as never }).spec as unknown as {
    data: VegaData[];
    marks: VegaMark[];
  };
  expect(warnings).toEqual([]);
  return out;
}

function markTypes(marks: readonly VegaMark[]): string[] {
  return marks.flatMap((m) => [m.type, ...markTypes(m.marks ?? [])]);
}

const candles = [
  { tMs: 1_700_000_060_000, open: 100, high: 105, low: 99, close: 104 },
  { tMs: 1_700_000_120_000, open: 104, high: 106, low: 101, close: 102 },
  { tMs: 1_700_000_180_000, open: 102, high: 103, low: 98, close: 99 },
];

describe('dashboard specs compile with vega-lite', () => {
  test('price chart: candles, fills and price-scale overlays in named datasets', () => {
    const spec = priceChartSpec({
      candles,
      markers: [
        { tMs: 1_700_000_120_000, side: 'buy', price: 102, qty: 0.5 },
        { tMs: 1_700_000_180_000, side: 'sell', price: 99, qty: 0.5 },
      ],
      indicators: [
        { tMs: 1_700_000_120_000, name: 'ema_fast', value: 103 },
        { tMs: 1_700_000_180_000, name: 'ema_fast', value: 101 },
      ],
      width: 600,
    });
    const out = vega(spec);
    const named = new Map(out.data.map((d) => [d.name, d.values]));
    expect(named.get(DATASETS.candles)).toHaveLength(3);
    expect(named.get(DATASETS.markers)).toHaveLength(2);
    expect(named.get(DATASETS.overlays)).toHaveLength(2);
    // Wick (rule), body (rect), overlay (line) and fills (symbol).
    expect(markTypes(out.marks)).toEqual(expect.arrayContaining(['rule', 'rect', 'line', 'symbol']));
  });

  test('an oscillator goes to a second panel; many candles become a close line', () => {
    const rsi = candles.map((c) => ({ tMs: c.tMs, name: 'rsi', value: 40 }));
    const ema = candles.map((c) => ({ tMs: c.tMs, name: 'ema', value: c.close }));
    expect(splitIndicators(candles, [...rsi, ...ema])).toEqual({ overlays: ema, oscillators: rsi });
    const two = priceChartSpec({ candles, indicators: [...rsi, ...ema], width: 600 }) as {
      vconcat?: unknown[];
    };
    expect(two.vconcat).toHaveLength(2);
    vega(two as TopLevelSpec);

    const many = Array.from({ length: 500 }, (_, i) => ({
      ...candles[0]!,
      tMs: candles[0]!.tMs + i * 60_000,
    }));
    const line = vega(priceChartSpec({ candles: many, width: 600 }));
    expect(markTypes(line.marks)).not.toContain('rect');
    expect(markTypes(line.marks)).toContain('line');
  });

  test('portfolio, P&L per trade and compared equity curves', () => {
    const portfolio = vega(
      portfolioSpec(
        [
          { tMs: 1, totalValue: 100, cash: 60, cryptoValue: 40 },
          { tMs: 2, totalValue: 110, cash: 50, cryptoValue: 60 },
        ],
        { width: 400 },
      ),
    );
    expect(portfolio.data.find((d) => d.name === DATASETS.portfolio)?.values).toHaveLength(2);
    expect(markTypes(portfolio.marks)).toEqual(expect.arrayContaining(['area', 'line']));

    const pnl = vega(
      tradePnlSpec(
        [
          { tMs: 1, pnl: 5 },
          { tMs: 2, pnl: -3 },
        ],
        { width: 400 },
      ),
    );
    expect(pnl.data.find((d) => d.name === DATASETS.trades)?.values).toEqual([
      { n: 1, tMs: 1, pnl: 5 },
      { n: 2, tMs: 2, pnl: -3 },
    ]);

    const equity = vega(
      equitySpec(
        [
          { run: 'a', tMs: 1, value: 100 },
          { run: 'b', tMs: 1, value: 100 },
          { run: 'a', tMs: 2, value: 105 },
        ],
        { width: 400 },
      ),
    );
    expect(equity.data.find((d) => d.name === DATASETS.equity)?.values).toHaveLength(3);
  });
});
