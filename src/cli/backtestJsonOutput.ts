import { backtestJson, type BacktestResult } from '../../backtests/index.js';

/** Equity points per piece written (~38 kB of text): no string of the whole curve is ever made. */
const POINTS_PER_PIECE = 1024;
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
    await write(out, `${JSON.stringify(backtestJson(r))}\n`);
    return;
  }
  const times = r.equityTimesMs;
  const equity = r.equity;
  const n = Math.min(times.length, equity.length);
  await write(out, `${text.slice(0, at)}[`);
  // Each piece is joined from its points' texts (not grown by +=, which makes a chain of strings).
  const points: string[] = [];
  let lastEquity = Number.NaN;
  let lastEquityText = '';
  for (let i = 0; i < n; i++) {
    const e = equity[i] as number;
    // A flat curve (no position) repeats its value: format it once.
    if (e !== lastEquity || i === 0) {
      lastEquity = e;
      lastEquityText = jsonNumber(e);
    }
    points.push(`[${jsonNumber(times[i] as number)},${lastEquityText}]`);
    if (points.length === POINTS_PER_PIECE) {
      await write(out, `${i + 1 > POINTS_PER_PIECE ? ',' : ''}${points.join(',')}`);
      points.length = 0;
    }
  }
  const piece = points.length > 0 ? `${n > POINTS_PER_PIECE ? ',' : ''}${points.join(',')}` : '';
  await write(out, `${piece}]${text.slice(at + quoted.length)}\n`);
}

/** A number as JSON.stringify writes it (null for NaN and ±∞). */
function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/** Writes `text`, waiting for the stream to take it when it asks to (a full pipe). */
function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
