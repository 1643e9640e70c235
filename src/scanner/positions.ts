import { metricsJson } from '../../backtests/index.js';
import type { Candle } from '../domain/candle.js';
import { MetricsAccumulator } from '../domain/metrics.js';
import { MINUTE_MS } from '../domain/timeframe.js';
import {
  parseRiskConfig,
  parseVenueModel,
  TradingEngine,
  type RiskDecision,
  type TradingConfig,
  type TradingListener,
} from '../domain/trading/index.js';
import type { ScannerConfig } from './config.js';
import type { PartialExitRow, PositionRow, RunMetricsRow } from './store.js';

type RiskManagement = ScannerConfig['risk_management'];

export interface Opportunity {
  readonly symbol: string;
  /** Close time of the 1m candle it was found on. */
  readonly timeMs: number;
  readonly price: number;
  readonly score: number;
  readonly indicators: Readonly<Record<string, number | undefined>>;
}

interface Tracked {
  row: PositionRow;
  /** Quantity of the entry fill: partial exits are percentages of it. */
  initialQty: number;
}

/** The trading core's configuration for the scanner's risk rules. */
export function tradingConfigOf(r: RiskManagement, listener: TradingListener): TradingConfig {
  return {
    risk: parseRiskConfig({
      sizing: { type: 'equity', percentage: r.max_position_percentage },
      stop_loss_percentage: r.stop_loss_percentage,
      take_profit: r.take_profit,
      trailing_stop: r.trailing_stop,
      max_open_positions: r.max_open_positions,
    }),
    venue: parseVenueModel({ fee_rate: r.fee_rate }),
    listener,
  };
}

/**
 * Simulated positions opened on the scanner's opportunities, on the trading core the bots use
 * (TradingEngine: risk manager, simulated venue with stop-loss, partial take-profits and trailing stop,
 * portfolio book). An opportunity is a buy signal sized at `max_position_percentage` of equity; it fills at
 * the next 1m candle's open and its exits are watched on the candles after. Every partial exit is kept
 * (price, share of the entry, P&L, whether the trailing stop was active), and the run's metrics follow
 * src/domain/metrics.ts (equity sampled once a minute).
 */
export class PositionManager {
  private engine: TradingEngine;
  private readonly tracked = new Map<string, Tracked>();
  private readonly dirty = new Map<number, PositionRow>();
  private exits: PartialExitRow[] = [];
  private readonly trailing = new Map<string, boolean>();
  private readonly acc: MetricsAccumulator;
  private grossProfit = 0;
  private wins = 0;
  private grossLoss = 0;
  private losses = 0;
  private totalPnl = 0;
  private readonly listener: TradingListener;

  constructor(risk: RiskManagement) {
    this.acc = new MetricsAccumulator(risk.initial_balance, MINUTE_MS);
    this.listener = {
      order: (o) => {
        if (o.purpose !== 'entry') return;
        const row: PositionRow = {
          positionId: o.id,
          symbol: o.symbol,
          opportunityTimeMs: o.createdTimeMs,
          status: 'pending',
          pnl: 0,
        };
        this.tracked.set(o.symbol, { row, initialQty: 0 });
        this.dirty.set(o.id, row);
      },
      cancelled: (c) => {
        const t = this.tracked.get(c.symbol);
        if (t === undefined || t.row.positionId !== c.orderId) return;
        this.update(t, { status: 'closed', closedAtMs: c.timeMs });
        this.tracked.delete(c.symbol);
      },
      fill: (f) => {
        this.acc.onFee(f.fee);
        const t = this.tracked.get(f.symbol);
        if (t === undefined || f.purpose !== 'entry') return;
        t.initialQty = f.qty;
        this.update(t, { status: 'open', openedAtMs: f.timeMs, entryPrice: f.price, qty: f.qty });
      },
      roundTrip: (trip) => {
        this.acc.onTrade(trip);
        this.totalPnl += trip.pnl;
        if (trip.pnl > 0) {
          this.wins++;
          this.grossProfit += trip.pnl;
        } else if (trip.pnl < 0) {
          this.losses++;
          this.grossLoss -= trip.pnl;
        }
        const t = this.tracked.get(trip.symbol);
        if (t === undefined) return;
        this.exits.push({
          positionId: t.row.positionId,
          symbol: trip.symbol,
          timeMs: trip.exitTimeMs,
          price: trip.exitPrice,
          qty: trip.qty,
          percentage: t.initialQty > 0 ? (trip.qty / t.initialQty) * 100 : 100,
          pnl: trip.pnl,
          purpose: trip.exitPurpose,
          trailingActive: trip.exitPurpose === 'trailing_stop' || this.trailing.get(trip.symbol) === true,
        });
        const flat = this.engine.book.qtyOf(trip.symbol) === 0;
        this.update(t, {
          pnl: t.row.pnl + trip.pnl,
          ...(flat ? { status: 'closed' as const, closedAtMs: trip.exitTimeMs } : {}),
        });
        if (flat) {
          this.tracked.delete(trip.symbol);
          this.trailing.delete(trip.symbol);
        }
      },
    };
    this.engine = new TradingEngine({
      ...tradingConfigOf(risk, this.listener),
      initialCash: risk.initial_balance,
    });
  }

  /** New risk rules (a config reload): the engine goes on from its state; open positions keep their exits. */
  reconfigure(risk: RiskManagement): void {
    this.engine = TradingEngine.restore(this.engine.snapshot(), tradingConfigOf(risk, this.listener));
  }

  /** A buy signal for the opportunity: the order, or why the risk rules refused it. */
  onOpportunity(o: Opportunity): RiskDecision | undefined {
    return this.engine.onSignal({
      symbol: o.symbol,
      timeframe: '1m',
      closeTimeMs: o.timeMs,
      action: 'buy',
      confidence: o.score / 100,
      reason: `momentum score ${o.score.toFixed(1)}`,
      price: o.price,
      indicators: o.indicators,
    });
  }

  /** A closed 1m candle: pending entries fill, exits are watched, the book is marked. */
  onCandle(c: Candle): void {
    this.engine.onCandle(c);
    if (this.tracked.has(c.symbol) && this.engine.book.qtyOf(c.symbol) !== 0) {
      for (const b of this.engine.venue.toState().brackets) {
        if (b.symbol === c.symbol) this.trailing.set(c.symbol, b.trailing);
      }
    }
  }

  /** After every symbol's candle of a minute: samples the equity for the run's metrics. */
  onMinute(closeTimeMs: number): void {
    const book = this.engine.book;
    this.acc.onCandle(closeTimeMs, book.equity, book.openCount > 0, 1);
  }

  /** True while `symbol` has a position or an entry pending. */
  holds(symbol: string): boolean {
    return this.tracked.has(symbol);
  }

  get openPositions(): number {
    return this.engine.book.openCount;
  }

  get equity(): number {
    return this.engine.book.equity;
  }

  /** Position rows changed and partial exits made since the last call. */
  drain(): { positions: PositionRow[]; exits: PartialExitRow[] } {
    const positions = [...this.dirty.values()];
    this.dirty.clear();
    const exits = this.exits;
    this.exits = [];
    return { positions, exits };
  }

  metrics(): RunMetricsRow {
    const m = this.acc.result();
    return {
      trades: m.trades,
      winRate: m.winRate,
      avgProfit: this.wins > 0 ? this.grossProfit / this.wins : Number.NaN,
      avgLoss: this.losses > 0 ? -this.grossLoss / this.losses : Number.NaN,
      profitFactor: m.profitFactor,
      maxDrawdown: m.maxDrawdown,
      sharpe: m.sharpe,
      totalPnl: this.totalPnl,
      metrics: metricsJson(m),
    };
  }

  private update(t: Tracked, change: Partial<PositionRow>): void {
    t.row = { ...t.row, ...change };
    this.dirty.set(t.row.positionId, t.row);
  }
}
