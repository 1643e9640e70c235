import { Mulberry32 } from '../domain/trading/random.js';

/**
 * The simulator's seeded generator: the one mulberry32 of src/domain/trading/random.ts (the slippage model
 * uses it too), with the draws the simulator needs. Every random choice the simulator makes comes from one
 * of these, so a run with the same seed and the same clock is the same run.
 */
export class Prng extends Mulberry32 {
  constructor(seed: number) {
    super(seed);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** 8 lowercase hex digits (OKX connection ids look like this). */
  hex8(): string {
    return Math.floor(this.next() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  }
}

/** Derives an independent seed from a seed and a label, so separate streams do not shift each other. */
export function deriveSeed(seed: number, label: string | number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const ch of String(label)) {
    h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  }
  return Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
}
