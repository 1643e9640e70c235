/**
 * A small, fast, seedable PRNG (mulberry32): uniform in [0, 1). Its whole state is one 32-bit integer,
 * so a run can be saved (`state`) and continued exactly where it stopped.
 */
export class Mulberry32 {
  /** The generator's state: an unsigned 32-bit integer. */
  state: number;

  constructor(
    readonly seed: number,
    state = seed >>> 0,
  ) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** A mulberry32 generator as a function (for tests and scenarios that only draw numbers). */
export function mulberry32(seed: number): () => number {
  const r = new Mulberry32(seed);
  return () => r.next();
}
