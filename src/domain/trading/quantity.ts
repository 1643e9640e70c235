/**
 * Rounds `qty` DOWN to a multiple of `step` (0: no rounding), without float artefacts such as
 * 0.30000000000000004: the result is printed to the step's decimals.
 */
export function floorToStep(qty: number, step: number): number {
  if (!(step > 0)) return qty;
  // The tiny nudge keeps 0.3 / 0.1 = 2.9999999999999996 from flooring to 2.
  const steps = Math.floor(qty / step + 1e-9);
  return Number((steps * step).toFixed(decimalsOf(step)));
}

function decimalsOf(step: number): number {
  const text = step.toString();
  const e = text.indexOf('e-');
  if (e >= 0) return Math.min(100, Number(text.slice(e + 2)) + (text.slice(0, e).split('.')[1]?.length ?? 0));
  return Math.min(100, text.split('.')[1]?.length ?? 0);
}
