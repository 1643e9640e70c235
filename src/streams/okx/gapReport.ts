import { linkSignals } from '../../infra/abort.js';
import type { Logger } from '../../infra/logger.js';
import type { HealthTracker } from './health.js';
import type { GapCandle, OkxFeedEvent } from './okxFeedTypes.js';
import type { OkxRestClient } from './rest.js';

/** How long a gap waits for OKX's candles covering it (the symbol's pushes wait meanwhile). */
const GAP_CANDLES_WAIT_MS = 10_000;

export interface GapReportContext {
  readonly rest: OkxRestClient;
  /** Aborted when the feed stops: the candle request is abandoned and nothing is reported. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly health: HealthTracker;
  readonly onEvent?: (event: OkxFeedEvent) => void;
}

/**
 * Trades of `symbol` between these times are lost to us: a `gap` event carries OKX's 1m candles covering
 * them (as many as REST gives within a bounded wait), so candles downstream can still be made whole.
 */
export async function reportTradeGap(
  ctx: GapReportContext,
  symbol: string,
  fromMs: number,
  toMs: number,
): Promise<void> {
  ctx.health.gaps += 1;
  let candles: GapCandle[] = [];
  const fromMinute = fromMs - (fromMs % 60_000);
  const deadline = linkSignals([ctx.signal], GAP_CANDLES_WAIT_MS);
  try {
    // Bounded (the live stream of this symbol waits for it), and abandoned when the feed stops.
    candles = await ctx.rest.historyCandlesRange(symbol, '1m', fromMinute, toMs - (toMs % 60_000) + 60_000, {
      signal: deadline.signal,
      maxRetries: 1,
    });
  } catch (err) {
    if (ctx.signal.aborted) return;
    ctx.log.error({ symbol, err: String(err) }, 'could not fetch candles for a trade gap');
  } finally {
    deadline.dispose();
  }
  ctx.log.error(
    {
      symbol,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      candles: candles.length,
    },
    'trades lost: OKX REST history does not reach back to the last trade seen',
  );
  ctx.onEvent?.({ type: 'gap', symbol, fromMs, toMs, candles });
}
