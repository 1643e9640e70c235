import { fileURLToPath } from 'node:url';
import { seriesOf } from '../../backtests/indicatorReplay.js';
import type { PreparedBacktest } from '../../backtests/backtestTypes.js';
import {
  Atr,
  Ema,
  Rsi,
  Sma,
  type BatchSeries,
  type Indicator,
  type PriceColumns,
} from '../../src/domain/indicators/index.js';
import { readCandleCsvColumns } from '../../src/streams/candleCsv.js';
import { candleOfRow, type CandleColumns } from '../../src/streams/candleColumns.js';

/** Real Binance BTC/USDT 1m candles, 2021-04-24/25 (2,596 rows: enough for SMA's re-summing every 128). */
const APRIL_DAYS = fileURLToPath(
  new URL('../fixtures/candles/binance_BTCUSDT_1m_20210424_20210425.csv', import.meta.url),
);

let columns: CandleColumns;
beforeAll(async () => {
  columns = (await readCandleCsvColumns(APRIL_DAYS, { symbol: 'BTC-USDT' })).columns;
});

/** What a fresh indicator's updates return over rows from … to − 1 (the reference: the live path). */
function updates(make: () => Indicator<number>, c: CandleColumns, from: number, to: number): number[] {
  const ind = make();
  const out: number[] = [];
  for (let i = from; i < to; i++) {
    const v = ind.update(candleOfRow(c, i));
    out.push(v === undefined ? Number.NaN : v);
  }
  return out;
}

/** Positions where two series differ, compared with Object.is (NaN equals NaN; the bits must match). */
function differences(a: ArrayLike<number>, b: ArrayLike<number>): string[] {
  const out: string[] = [];
  if (a.length !== b.length) out.push(`length ${a.length} vs ${b.length}`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (!Object.is(a[i], b[i])) out.push(`${i}: ${a[i]} vs ${b[i]}`);
  }
  return out.slice(0, 5);
}

const cases: [string, () => Indicator<number> & BatchSeries][] = [
  ...[1, 2, 5, 20, 127, 128, 129, 200].map((n): [string, () => Sma] => [`SMA ${n}`, () => new Sma(n)]),
  ['SMA 20 of volumes (jumps by orders of magnitude)', () => new Sma(20, 'volume')],
  ['SMA 14 of typical prices', () => new Sma(14, 'typical')],
  ['SMA 9 of highs', () => new Sma(9, 'high')],
  ...[1, 2, 9, 26, 200].map((n): [string, () => Ema] => [`EMA ${n}`, () => new Ema(n)]),
  ['EMA 10 of opens', () => new Ema(10, 'open')],
  ...[1, 2, 14, 100].map((n): [string, () => Atr] => [`ATR ${n}`, () => new Atr(n)]),
  ...[2, 14, 30].map((n): [string, () => Rsi] => [`RSI ${n}`, () => new Rsi(n)]),
  ['RSI 14 of lows', () => new Rsi(14, 'low')],
];

describe('BatchSeries.seriesOver: the same numbers as update, to the bit', () => {
  test.each(cases)('%s over all rows, over a middle range and over too few rows', (_name, make) => {
    const c = columns;
    expect(c.length).toBeGreaterThan(2500);
    for (const [from, to] of [
      [0, c.length],
      [300, 1900],
      [10, 10 + make().lookback], // all warm-up
      [5, 5 + make().lookback + 1], // one value
      [7, 7],
    ] as const) {
      const batch = make().seriesOver(c as PriceColumns, from, to);
      expect(differences(batch, updates(make, c, from, to))).toEqual([]);
    }
  });

  test('leaves the indicator it is called on as it was', () => {
    const sma = new Sma(3);
    sma.next(1);
    sma.next(2);
    sma.seriesOver(columns, 0, 100);
    expect(sma.next(3)).toBe(2);
  });
});

describe('seriesOf takes the batch path for the built-in classes only', () => {
  const prepared = (): PreparedBacktest =>
    ({
      columns: { columns, from: 100, to: 1100 },
      decisions: 1000,
    }) as unknown as PreparedBacktest;

  test('an SMA: the batch numbers, from its first value on', () => {
    const s = seriesOf(new Sma(50), prepared(), '1m');
    expect(s.numbers).toBeDefined();
    expect(s.numbers?.length).toBe(1000);
    if (s.numbers === undefined) return;
    expect(s.from).toBe(49);
    const ref = updates(() => new Sma(50), columns, 100, 1100);
    expect(differences(s.numbers.subarray(49), ref.slice(49))).toEqual([]);
  });

  test('a subclass (its update may differ) is fed candle by candle', () => {
    class Doubled extends Sma {
      override update(c: Parameters<Sma['update']>[0]): number | undefined {
        const v = super.update(c);
        return v === undefined ? undefined : 2 * v;
      }
    }
    const s = seriesOf(new Doubled(10), prepared(), '1m');
    const ref = updates(() => new Sma(10), columns, 100, 1100);
    expect(s.numbers?.[500]).toBe(2 * (ref[500] as number));
  });
});
