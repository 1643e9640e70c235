import * as z from 'zod';
import { TIMEFRAMES } from '../domain/timeframe.js';

/** Building blocks of the strategies' parameter schemas. */

/** An indicator period: a whole number of candles (the indicators accept up to 100,000). */
export function period(defaultValue: number, min = 1): z.ZodDefault<z.ZodNumber> {
  return z.number().int().min(min).max(100_000).default(defaultValue);
}

/** The timeframe a strategy decides on (`1m` by default). */
export function timeframe(defaultValue: (typeof TIMEFRAMES)[number] = '1m') {
  return z.enum(TIMEFRAMES).default(defaultValue);
}

/** A level on a 0..100 oscillator (RSI). */
export function level(defaultValue: number): z.ZodDefault<z.ZodNumber> {
  return z.number().min(0).max(100).default(defaultValue);
}

/** A positive finite number (band widths, percentages). */
export function positive(defaultValue: number): z.ZodDefault<z.ZodNumber> {
  return z.number().positive().finite().default(defaultValue);
}

/** Refinement message for two periods that must be ordered (fast < slow). */
export function fastBelowSlow<P extends { fast_period: number; slow_period: number }>(p: P): boolean {
  return p.fast_period < p.slow_period;
}
