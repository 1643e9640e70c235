/**
 * Exact decimal sums of decimal inputs, in plain doubles. Exchanges report sizes as decimal strings, and
 * the sum of their doubles drifts by a few units in the last place (0.1 + 0.2 = 0.30000000000000004), which
 * storage now keeps: `numeric` columns store every digit a JS number prints. A candle's volume is the exact
 * sum of its trades' sizes, which has no more decimals than the most precise size, so the float sum rounded
 * to that many decimals is the exact sum (as the nearest double), as long as the drift is below half a unit
 * of the last decimal — always, short of sums beyond 2^53 units, which are left as summed.
 *
 * Cheap enough for per-trade hot paths: one multiply, round, divide and compare per added number.
 */

/** Most decimals tracked: past 10⁻²⁰ a step is below any exchange's lot and below a double's precision. */
const MAX_DECIMALS = 20;
const SCALES = Array.from({ length: MAX_DECIMALS + 1 }, (_, d) => 10 ** d);
const MAX_UNITS = 2 ** 53;

/**
 * The fewest decimals, at least `atLeast`, that hold `x` exactly: `decimalsToHold(0.07, 0)` is 2,
 * `decimalsToHold(1e-7, 0)` is 7, `decimalsToHold(5, 3)` is 3. A number that is itself float drift gets the
 * decimals of its shortest form (17 for 0.30000000000000004), at most MAX_DECIMALS.
 */
export function decimalsToHold(x: number, atLeast: number): number {
  let d = atLeast;
  while (d < MAX_DECIMALS) {
    const scale = SCALES[d] as number;
    if (Math.round(x * scale) / scale === x) return d;
    d += 1;
  }
  return MAX_DECIMALS;
}

/**
 * `x` rounded to `decimals` places: the double nearest to that decimal (k / 10^d is one correctly rounded
 * division). Returned unchanged when it has more than 2^53 units of the last place (there is no drift
 * to remove that a double could show) or is not finite.
 */
export function roundToDecimals(x: number, decimals: number): number {
  const scale = SCALES[Math.max(0, Math.min(MAX_DECIMALS, decimals))] as number;
  const units = x * scale;
  if (!(Math.abs(units) < MAX_UNITS)) return x;
  return Math.round(units) / scale;
}

/**
 * `x` printed exactly (its shortest round-trip form, as `String(x)`) but never in exponent notation:
 * `1e-7` → `0.0000001`, `1e21` → `1000000000000000000000`. For CSV and JSON readers that do not take
 * exponents, and for people.
 */
export function plainDecimal(x: number): string {
  const text = String(x);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const exponent = Number(text.slice(e + 1));
  const negative = text.startsWith('-');
  const [int = '', frac = ''] = text.slice(negative ? 1 : 0, e).split('.');
  const digits = int + frac;
  const point = int.length + exponent;
  const plain =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${plain}` : plain;
}
