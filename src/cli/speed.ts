import { UsageError } from '../domain/errors.js';

/**
 * The fastest simulated clock `start`, `collect --sim` and `okx-sim` accept. The bundled recorded trades
 * (~53 trades/s for BTC-USDT and ETH-USDT together) at 1000× are ~53 k trades/s, which the collector, in
 * the same process as the simulator, keeps up with on the 2-core development machine; far above it the
 * simulator generates trades faster than anything downstream can take them (at 100 000× Ctrl-C took ~47 s
 * and no candle came out). See the README's `--speed`.
 */
export const MAX_SPEED = 1000;

/** Refuses a `--speed` beyond MAX_SPEED (the caller has already checked it is a number > 0). */
export function checkSpeedBound(speed: number): void {
  if (speed > MAX_SPEED) {
    throw new UsageError(
      `--speed must be at most ${MAX_SPEED}, got ${speed}: faster, the simulator produces trades faster than ` +
        'the collector can take them (the feed stalls and Ctrl-C is slow to answer)',
    );
  }
}
