import { Observable, type OperatorFunction } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import type { Timeframe } from '../domain/timeframe.js';
import type { Trade } from '../domain/trade.js';
import type { VenueModel } from '../domain/trading/config.js';
import { SimulatedVenue } from '../domain/trading/simulatedVenue.js';
import type { TradingEvent, VenueEvent } from '../domain/trading/types.js';

/** What `simulateFills` reads: orders, and the prices they fill on (candles or trades). */
export type VenueInput = Candle | Trade | TradingEvent;
/** Fills and cancellations, then the candle or trade that caused them (passed through). */
export type VenueOutput = VenueEvent | Candle | Trade;

/**
 * Fills orders on the prices that come after them: the simulated exchange of paper trading and backtests.
 *
 * <span class="informal">An order decided on candle t fills on candle t+1: market orders at its open,
 * limit/stop orders and the position's stop-loss / take-profit / trailing stop when its high/low reaches
 * them (a gap through a stop fills at the open). Live, on trades: at the next trade's price. Each candle or
 * trade is passed on AFTER the fills it caused, so `portfolio` can follow directly.</span>
 *
 * ```
 * input:   -c1-O(buy)-c2------------c3----------|
 * output:  -c1--------(F(c2.open)c2)-c3----------|
 * ```
 *
 * Fees: a fraction of notional on every fill (maker for limits and take-profits, taker otherwise);
 * slippage (fixed or seeded random bps) worsens every taker fill. A fill is stamped with the time its price
 * occurred: the fill candle's open time, or the trade's time. An order with no later price never fills.
 * The detailed rules are SimulatedVenue's: see src/domain/trading/simulatedVenue.ts. Other trading events
 * (denials, snapshots...) are ignored; forming candles (`closed: false`) too. `timeframe`: only candles of
 * that timeframe are used (and passed on).
 *
 * @see applyRisk
 * @see portfolio
 */
export function simulateFills(
  model: VenueModel,
  options: { readonly timeframe?: Timeframe } = {},
): OperatorFunction<VenueInput, VenueOutput> {
  const timeframe = options.timeframe;
  return (source) =>
    new Observable<VenueOutput>((subscriber) => {
      const venue = new SimulatedVenue(model, (e) => subscriber.next(e), timeframe);
      return source.subscribe({
        next: (x) => {
          try {
            if ('kind' in x) {
              if (x.kind === 'order') venue.submit(x);
            } else if ('tradeId' in x) {
              venue.onTrade(x);
              subscriber.next(x);
            } else if (x.closed && (timeframe === undefined || x.timeframe === timeframe)) {
              venue.onCandle(x);
              subscriber.next(x);
            }
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
