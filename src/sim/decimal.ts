/**
 * OKX sends every number as a decimal string. These helpers print numbers without exponent notation and
 * without float noise (`0.1 + 0.2` prints `0.3`), given how many decimals the data carries.
 */

/**
 * Decimal places `n` needs, ignoring float noise: `0.5 + 0.07` (0.5700000000000001) needs 2, `1e-7` needs 7.
 * At most 12 (finer than any exchange's tick or lot).
 */
export function decimalsOfNumber(n: number): number {
  for (let d = 0; d < 12; d++) {
    const scale = 10 ** d;
    if (Math.abs(Math.round(n * scale) / scale - n) <= Math.max(1, Math.abs(n)) * 1e-13) return d;
  }
  return 12;
}

/** `n` rounded to `decimals` places, printed plainly with trailing zeros removed. */
export function formatDecimal(n: number, decimals: number): string {
  const text = n.toFixed(Math.max(0, Math.min(20, decimals)));
  if (!text.includes('.')) return text === '-0' ? '0' : text;
  const trimmed = text.replace(/0+$/, '').replace(/\.$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}

/** `10^-decimals` printed plainly: the tick or lot size for that many decimals (`2` → `0.01`). */
export function stepOf(decimals: number): string {
  return decimals <= 0 ? '1' : `0.${'0'.repeat(decimals - 1)}1`;
}
