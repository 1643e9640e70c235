import { Observable, type OperatorFunction } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import type { Timeframe } from '../domain/timeframe.js';
import type { Trade } from '../domain/trade.js';
import { PortfolioBook } from '../domain/trading/portfolioBook.js';
import type { PortfolioEvent, TradingEvent } from '../domain/trading/types.js';

/** What `portfolio` reads: fills, and the candles (or trades) that mark the positions. */
export type PortfolioInput = Candle | Trade | TradingEvent;

/**
 * Keeps the account — cash, positions (quantity, average entry), realized and unrealized P&L, fees — and
 * emits a snapshot after every candle and a round trip for every position (or part of one) closed.
 *
 * <span class="informal">Feed it `simulateFills`' output: fills arrive before the candle that caused
 * them, so each snapshot already holds them. Equity = cash + Σ qty × close. A round trip's `pnl` is net of
 * its exit fee and its share of the entry fee, so once flat Σ pnl = equity − initial cash.</span>
 *
 * ```
 * input:   -c1-F(buy)-c2-F(sell)-c3-|
 * output:  -S1--------S2-T--------S3-|
 * ```
 *
 * Trades only mark (no snapshot); other trading events are ignored; an impossible fill (non-positive
 * price or quantity, negative fee) errors with InvalidDataError. `timeframe`: only candles of that
 * timeframe mark and snapshot. The accounting is PortfolioBook's: see src/domain/trading/portfolioBook.ts.
 *
 * @see simulateFills
 */
export function portfolio(
  initialCash: number,
  options: { readonly timeframe?: Timeframe } = {},
): OperatorFunction<PortfolioInput, PortfolioEvent> {
  const timeframe = options.timeframe;
  return (source) =>
    new Observable<PortfolioEvent>((subscriber) => {
      let book: PortfolioBook;
      try {
        book = new PortfolioBook(initialCash);
      } catch (err) {
        subscriber.error(err);
        return;
      }
      return source.subscribe({
        next: (x) => {
          try {
            if ('kind' in x) {
              if (x.kind === 'fill') {
                const trip = book.applyFill(x);
                if (trip !== undefined) subscriber.next(trip);
              }
            } else if ('tradeId' in x) {
              book.mark(x.symbol, x.price, x.tsMs);
            } else if (x.closed && (timeframe === undefined || x.timeframe === timeframe)) {
              book.mark(x.symbol, x.close, x.closeTimeMs);
              subscriber.next(book.snapshot(x.closeTimeMs, x.symbol, x.close));
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
