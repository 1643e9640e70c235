import { backtestJson, type BacktestResult } from '../../backtests/index.js';
import { writeText } from './io.js';

/** Equity points per piece written (~75 kB of text): no string of the whole curve is ever made. */
const POINTS_PER_PIECE = 2048;
/** Stands in for the equity curve while the rest of the object is stringified (cannot occur in real data). */
const CURVE_MARKER = '\u0000equity_curve\u0000';

/**
 * Writes what `rxtrade backtest --json` prints, `JSON.stringify(backtestJson(r))` and a newline, byte for
 * byte, without building it: the equity curve (one `[closeTimeMs, equity]` pair per candle, most of the
 * output) goes out in pieces straight from the result's columns, instead of as an array of 71 k pair
 * arrays and then one 2.7 MB string (a tenth of a whole `rxtrade backtest` on a year of 1m candles).
 * Everything around the curve is still backtestJson's, stringified by JSON.stringify.
 */
export async function writeBacktestJson(out: NodeJS.WritableStream, r: BacktestResult): Promise<void> {
  // backtestJson on the result with the curve's getter shadowed (so the pairs are never built).
  const marked: unknown[] = [];
  const shell = backtestJson(
    Object.create(r, { equity_curve: { value: marked } }) as BacktestResult,
  ) as unknown as Record<string, unknown>;
  const text = JSON.stringify(shell, (_key, value: unknown) => (value === marked ? CURVE_MARKER : value));
  const quoted = JSON.stringify(CURVE_MARKER);
  const at = text.indexOf(quoted);
  if (at < 0 || text.indexOf(quoted, at + quoted.length) >= 0) {
    // backtestJson no longer holds the curve where expected: the plain (slower) way, same output.
    await writeText(out, `${JSON.stringify(backtestJson(r))}\n`);
    return;
  }
  const times = r.equityTimesMs;
  const equity = r.equity;
  const n = Math.min(times.length, equity.length);
  await writeText(out, `${text.slice(0, at)}[`);
  // Each piece: its points as one flat array [t0, e0, t1, e1, …] (plain doubles, no pair arrays), which
  // JSON.stringify formats as it formats the pairs, then `],[` put back between the pairs. The numbers
  // hold no comma (digits, `.`, `e`, `+`, `-`, or null), so every second comma ends a pair.
  const flat: number[] = new Array<number>(2 * Math.min(n, POINTS_PER_PIECE)).fill(0);
  for (let from = 0; from < n; from += POINTS_PER_PIECE) {
    const k = Math.min(POINTS_PER_PIECE, n - from);
    if (flat.length !== 2 * k) flat.length = 2 * k;
    for (let j = 0; j < k; j++) {
      flat[2 * j] = times[from + j] as number;
      flat[2 * j + 1] = equity[from + j] as number;
    }
    const numbers = JSON.stringify(flat);
    const pairs = numbers.slice(1, -1).replace(EVERY_SECOND_COMMA, '$1],[');
    await writeText(out, `${from > 0 ? ',' : ''}[${pairs}]`);
  }
  await writeText(out, `]${text.slice(at + quoted.length)}\n`);
}

/** Two numbers and the comma after them (`1679004960000,10000,` → `1679004960000,10000],[`). */
const EVERY_SECOND_COMMA = /([^,]+,[^,]+),/g;
