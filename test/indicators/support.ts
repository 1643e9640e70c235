import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Candle } from '../../src/domain/candle.js';
import type { Indicator } from '../../src/domain/indicators/indicator.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/indicators/', import.meta.url));

/** The real BTC/USDT 1m slice (see test/fixtures/indicators/README.md); TA-Lib 0.6's outputs on it are in
 *  btcusdt-1m-20210518T1800-2000.talib.csv beside it. */
export const BTC_SLICE = `${FIXTURES}btcusdt-1m-20210518T1800-2000.csv`;

/** A closed 1m candle; tests that only have closes pass the close as every price. */
export function candle(
  i: number,
  close: number,
  extra: Partial<Pick<Candle, 'open' | 'high' | 'low' | 'volume' | 'closeTimeMs'>> = {},
): Candle {
  return {
    symbol: 'TEST',
    timeframe: '1m',
    closeTimeMs: (i + 1) * 60_000,
    open: close,
    high: close,
    low: close,
    close,
    volume: 1,
    tradesCount: 0,
    closed: true,
    revision: 0,
    ...extra,
  };
}

export interface Table {
  readonly header: string[];
  readonly rows: string[][];
}

export function readTable(name: string): Table {
  const lines = readFileSync(`${FIXTURES}${name}`, 'utf8').trim().split(/\r?\n/);
  const split = (l: string): string[] => l.split(',').map((f) => f.trim());
  return { header: split(lines[0] as string), rows: lines.slice(1).map(split) };
}

/** Column `name` as numbers; empty cells are undefined. */
export function column(t: Table, name: string): (number | undefined)[] {
  const i = t.header.indexOf(name);
  if (i < 0) throw new Error(`no column ${name} in ${t.header.join(',')}`);
  return t.rows.map((r) => (r[i] === undefined || r[i] === '' ? undefined : Number(r[i])));
}

/** The candles of an `open_time_ms,open_time_utc,open,high,low,close,volume` file (right-aligned). */
export function loadCandles(path: string): Candle[] {
  const t = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  return t.map((line) => {
    const f = line.split(',');
    return {
      symbol: 'BTC-USDT',
      timeframe: '1m',
      closeTimeMs: Number(f[0]) + 60_000,
      open: Number(f[2]),
      high: Number(f[3]),
      low: Number(f[4]),
      close: Number(f[5]),
      volume: Number(f[6]),
      tradesCount: 0,
      closed: true,
      revision: 0,
    };
  });
}

/** Every value an indicator gives over `candles`, undefined while it warms up. */
export function run<V>(indicator: Indicator<V>, candles: readonly Candle[]): (V | undefined)[] {
  return candles.map((c) => indicator.update(c));
}

export interface Mismatch {
  readonly index: number;
  readonly actual: number | undefined;
  readonly expected: number | undefined;
  readonly error: number;
}

/**
 * Compares two series. `relative`: |a − e| ≤ tol · max(|a|, |e|, floor) — `floor` keeps oscillators that
 * cross 0 (MACD, ROC) from turning rounding noise into a huge relative error. `absolute`: |a − e| ≤ tol.
 * Indices in `from` … end only; warm-up must agree exactly (both undefined or both defined).
 */
export function mismatches(
  actual: readonly (number | undefined)[],
  expected: readonly (number | undefined)[],
  opts: { tol: number; mode?: 'relative' | 'absolute'; floor?: number; from?: number },
): { bad: Mismatch[]; worst: number; compared: number } {
  const bad: Mismatch[] = [];
  let worst = 0;
  let compared = 0;
  const mode = opts.mode ?? 'relative';
  for (let i = opts.from ?? 0; i < Math.max(actual.length, expected.length); i++) {
    const a = actual[i];
    const e = expected[i];
    if (a === undefined || e === undefined) {
      if (a !== e) bad.push({ index: i, actual: a, expected: e, error: Number.POSITIVE_INFINITY });
      continue;
    }
    compared += 1;
    const diff = Math.abs(a - e);
    const error =
      mode === 'absolute'
        ? diff
        : diff === 0
          ? 0
          : diff / Math.max(Math.abs(a), Math.abs(e), opts.floor ?? 0);
    if (!(error <= opts.tol)) bad.push({ index: i, actual: a, expected: e, error });
    if (error > worst) worst = error;
  }
  return { bad: bad.slice(0, 5), worst, compared };
}
