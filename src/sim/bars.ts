/**
 * OKX bar sizes and how each aligns. 1m…4H align to UTC multiples; 6H, 12H, 1D, 1W align to Hong Kong time
 * (UTC+8: `1D` opens at 16:00 UTC); the `utc` variants align to 00:00 UTC. Weeks start on Monday.
 * A bucket opens at `floor((t − anchorMs) / ms) · ms + anchorMs`.
 */
export interface BarSpec {
  readonly name: string;
  readonly ms: number;
  readonly anchorMs: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const HK = -8 * HOUR;
const MONDAY = 4 * DAY; // 1970-01-01 was a Thursday

const SPECS: readonly BarSpec[] = [
  { name: '1m', ms: MIN, anchorMs: 0 },
  { name: '3m', ms: 3 * MIN, anchorMs: 0 },
  { name: '5m', ms: 5 * MIN, anchorMs: 0 },
  { name: '15m', ms: 15 * MIN, anchorMs: 0 },
  { name: '30m', ms: 30 * MIN, anchorMs: 0 },
  { name: '1H', ms: HOUR, anchorMs: 0 },
  { name: '2H', ms: 2 * HOUR, anchorMs: 0 },
  { name: '4H', ms: 4 * HOUR, anchorMs: 0 },
  { name: '6H', ms: 6 * HOUR, anchorMs: HK },
  { name: '12H', ms: 12 * HOUR, anchorMs: HK },
  { name: '1D', ms: DAY, anchorMs: HK },
  { name: '1W', ms: 7 * DAY, anchorMs: MONDAY + HK },
  { name: '6Hutc', ms: 6 * HOUR, anchorMs: 0 },
  { name: '12Hutc', ms: 12 * HOUR, anchorMs: 0 },
  { name: '1Dutc', ms: DAY, anchorMs: 0 },
  { name: '1Wutc', ms: 7 * DAY, anchorMs: MONDAY },
];

/** Bar sizes by their OKX name (case-sensitive: `1H` exists, `1h` does not). */
export const BAR_SPECS: ReadonlyMap<string, BarSpec> = new Map(SPECS.map((s) => [s.name, s]));

export function bucketOpen(spec: BarSpec, tsMs: number): number {
  return Math.floor((tsMs - spec.anchorMs) / spec.ms) * spec.ms + spec.anchorMs;
}
