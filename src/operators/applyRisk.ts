import { Observable, type OperatorFunction } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import type { Signal } from '../domain/signal.js';
import type { Timeframe } from '../domain/timeframe.js';
import type { RiskConfig, VenueModel } from '../domain/trading/config.js';
import { PortfolioBook } from '../domain/trading/portfolioBook.js';
import { RiskManager } from '../domain/trading/riskManager.js';
import type { RiskDecision, TradingEvent } from '../domain/trading/types.js';

/** What `applyRisk` reads: candles (marks), signals (decisions), and the venue's fills and cancellations. */
export type RiskInput = Candle | Signal | TradingEvent;

export interface RiskAccount {
  readonly initialCash: number;
  /** The venue the orders go to: its taker fee and worst slippage enter the cash check. */
  readonly venue: VenueModel;
  /** When set, only candles of this timeframe mark prices. */
  readonly timeframe?: Timeframe;
}

/**
 * Turns signals into orders — sized, rounded to the lot, carrying stop-loss / take-profit / trailing-stop
 * exits — or into `Denied` events with a reason (never an error).
 *
 * <span class="informal">It needs the account, so besides candles and signals it reads the fills and
 * cancellations of the venue its orders go to (fed back by the composition root; see
 * src/domain/trading/index.ts). Other trading events are ignored, so the root may merge whole streams.</span>
 *
 * ```
 * input:   -c1-s1(buy)-------c2-F(fill)-s2(buy)--------c3-s3(sell)-|
 * output:  -----O1(buy)-------------------D(position_open)---O2(sell)-|
 * ```
 *
 * The rules are RiskManager's: see src/domain/trading/riskManager.ts.
 *
 * @see simulateFills
 * @see portfolio
 */
export function applyRisk(
  config: RiskConfig,
  account: RiskAccount,
): OperatorFunction<RiskInput, RiskDecision> {
  const timeframe = account.timeframe;
  return (source) =>
    new Observable<RiskDecision>((subscriber) => {
      const book = new PortfolioBook(account.initialCash);
      const risk = new RiskManager(config, account.venue, book);
      return source.subscribe({
        next: (x) => {
          try {
            if ('kind' in x) {
              if (x.kind === 'fill') {
                book.applyFill(x);
                risk.onFill(x);
              } else if (x.kind === 'cancelled') {
                risk.onCancelled(x);
              }
            } else if ('action' in x) {
              const d = risk.onSignal(x);
              if (d !== undefined) subscriber.next(d);
            } else if (x.closed && (timeframe === undefined || x.timeframe === timeframe)) {
              book.mark(x.symbol, x.close, x.closeTimeMs);
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
