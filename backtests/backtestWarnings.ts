import type { CandleGap } from '../src/domain/candleGaps.js';
import { iso } from '../src/domain/time.js';
import { timeframeMs, type Timeframe } from '../src/domain/timeframe.js';
import type { StrategyErrorEvent } from '../src/operators/strategy.js';

/** Gaps named one line each; past this many, the rest are counted in one line. */
const MAX_GAP_LINES = 5;
/** Strategy errors quoted; the rest are counted. */
const MAX_ERROR_LINES = 5;

/** A backtest's warnings, one line each, for people. */
export class BacktestWarnings {
  readonly lines: string[] = [];
  private strategyErrors = 0;
  private readonly errorLines: string[] = [];

  /** Daily stock data has a gap every weekend: name the first few, then count the rest. */
  gaps(gaps: readonly CandleGap[], tf: Timeframe): void {
    for (const g of gaps.slice(0, MAX_GAP_LINES)) this.lines.push(gapLine(g, tf));
    if (gaps.length > MAX_GAP_LINES) {
      const rest = gaps.slice(MAX_GAP_LINES);
      const missing = rest.reduce((n, g) => n + g.missing, 0);
      this.lines.push(`… and ${rest.length} more gaps (${missing} missing candles, not filled)`);
    }
  }

  strategyError(e: StrategyErrorEvent): void {
    this.strategyErrors++;
    if (this.errorLines.length < MAX_ERROR_LINES) {
      this.errorLines.push(`strategy error on the candle closing ${iso(e.closeTimeMs)}: ${e.message}`);
    }
  }

  get strategyErrorCount(): number {
    return this.strategyErrors;
  }

  /** `held`: the positions as `qty symbol (entered time)`. */
  closedAtEnd(held: readonly string[], price: number, timeMs: number, pnl: number): void {
    this.lines.push(
      `the position still open at the end, ${held.join(', ')}, was closed at the last close ` +
        `${price} (${iso(timeMs)}), net P&L ${Number(pnl.toFixed(8))}`,
    );
  }

  /** The strategy errors, once the run is over. */
  finish(): readonly string[] {
    const n = this.strategyErrors;
    if (n > 0) {
      this.lines.push(`${n} strategy error${n === 1 ? '' : 's'} (held instead):`);
      this.lines.push(...this.errorLines.map((l) => `  ${l}`));
    }
    return this.lines;
  }
}

function gapLine(g: CandleGap, tf: Timeframe): string {
  const ms = timeframeMs(tf);
  const k = g.missing;
  return (
    `gap: ${k} missing ${tf} candle${k === 1 ? '' : 's'} closing ${iso(g.afterCloseTimeMs + ms)} … ` +
    `${iso(g.beforeCloseTimeMs - ms)} (not filled)`
  );
}
