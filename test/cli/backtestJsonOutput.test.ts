import { PassThrough } from 'node:stream';
import { backtestJson } from '../../backtests/report.js';
import type { BacktestResult } from '../../backtests/runBacktest.js';
import { writeBacktestJson } from '../../src/cli/backtestJsonOutput.js';
import { backtest, BTC_MONTH, fixtureCandles, MAY_SLICE } from '../backtests/support.js';

const SIZING = { sizing: { type: 'equity', percentage: 100 } } as const;

/** What writeBacktestJson writes, read back through a stream that holds at most `highWaterMark` bytes. */
async function written(r: BacktestResult, highWaterMark = 16_384): Promise<string> {
  const out = new PassThrough({ highWaterMark });
  const chunks: Buffer[] = [];
  out.on('data', (b: Buffer) => chunks.push(b));
  await writeBacktestJson(out, r);
  return Buffer.concat(chunks).toString('utf8');
}

/** The result `r` with its equity curve replaced (the pairs and the columns agree, as in a real result). */
function withCurve(r: BacktestResult, points: readonly (readonly [number, number])[]): BacktestResult {
  return {
    ...r,
    equity_curve: points,
    equityTimesMs: Float64Array.from(points, (p) => p[0]),
    equity: Float64Array.from(points, (p) => p[1]),
  };
}

describe('writeBacktestJson (rxtrade backtest --json)', () => {
  it('writes JSON.stringify(backtestJson(r)) byte for byte, for a real run', async () => {
    const r = backtest({ candles: await fixtureCandles(MAY_SLICE) }, { name: 'ema_crossover' }, SIZING);
    expect(r.trades.length).toBeGreaterThan(0);
    expect(await written(r)).toBe(`${JSON.stringify(backtestJson(r))}\n`);
  });

  it('writes a curve of many pieces through a slow reader (42 k points, a 1 kB buffer)', async () => {
    const r = backtest({ candles: await fixtureCandles(BTC_MONTH) }, { name: 'sma_cross' }, SIZING);
    expect(r.equityTimesMs.length).toBeGreaterThan(40_000);
    expect(await written(r, 1024)).toBe(`${JSON.stringify(backtestJson(r))}\n`);
  });

  it('writes the numbers as JSON does: null for NaN and ±∞, 0 for -0, exponents, repeated values, integers of every size and sign', async () => {
    const r = backtest({ candles: await fixtureCandles(MAY_SLICE) }, { name: 'sma_cross' }, SIZING);
    const odd = withCurve(r, [
      [1, Number.NaN],
      [2, Number.NaN],
      [3, Number.POSITIVE_INFINITY],
      [4, -0],
      [5, 0],
      [6, 1e21],
      [7, 1.5e-7],
      [8, 1.5e-7],
      [1e21, -123.456],
      [Number.NEGATIVE_INFINITY, 10_000],
      [-5, -123_456_789_012],
      [99_999_999, 100_000_000],
      [100_000_005, 1_000_000_000_000_007],
      [Number.MAX_SAFE_INTEGER, 2 ** 53],
      [-Number.MAX_SAFE_INTEGER, 0.1],
      [-0.5, 5e-324],
    ]);
    expect(await written(odd)).toBe(`${JSON.stringify(backtestJson(odd))}\n`);
  });

  it.each([0, 1, 2, 2047, 2048, 2049, 4096])('writes a curve of %i points', async (n) => {
    const r = backtest({ candles: await fixtureCandles(MAY_SLICE) }, { name: 'sma_cross' }, SIZING);
    const points = Array.from(
      { length: n },
      (_, i) => [1_600_000_000_000 + i * 60_000, 10_000 + (i % 7)] as const,
    );
    const s = withCurve(r, points);
    expect(await written(s)).toBe(`${JSON.stringify(backtestJson(s))}\n`);
  });
});
