import { bucketOpen, BAR_SPECS, type BarSpec } from './bars.js';
import { formatDecimal, stepOf } from './decimal.js';
import { MinuteBars, type Bar } from './minuteBars.js';
import type { RawTrade, TradeSource } from './source.js';

/** One individual trade as the simulator generated it (and as OKX's REST trade rows describe it). */
export interface SimTrade {
  readonly instId: string;
  readonly tradeId: string;
  readonly px: string;
  readonly sz: string;
  readonly side: 'buy' | 'sell';
  readonly ts: number;
}

/** A generated trade with the numbers the simulator computes with. */
export interface GenTrade {
  readonly id: number;
  readonly ts: number;
  readonly px: number;
  readonly lots: number;
  readonly side: 'buy' | 'sell';
  readonly sim: SimTrade;
}

/** One taker order: consecutive trades with the same time, side and price (what OKX's `trades` pushes). */
export interface TakerOrder {
  readonly trades: readonly GenTrade[];
  readonly lots: number;
}

export interface MarketOptions {
  readonly instId: string;
  readonly source: TradeSource;
  readonly firstTradeId: number;
  readonly speed: number;
  readonly loop: boolean;
  /** Most trades kept (for ground truth and REST); the oldest are forgotten past it (a few % at a time). Default: all. */
  readonly maxStoredTrades?: number;
}

const DAY = 86_400_000;
/**
 * How far past `maxStoredTrades` the stored trades may go before the oldest are forgotten (a fraction of
 * it): dropping in chunks keeps the cost per trade small (one splice per `max × STORED_SLACK` trades), and
 * a small chunk keeps the memory flat — at 25 % the soak's heap swung by ~12 MB (2 × 20k trades of
 * ~300 B) between two drops, more than its growth rule can tell from a leak.
 */
const STORED_SLACK = 0.04;
const UTC_DAY = BAR_SPECS.get('1Dutc') as BarSpec;
const HK_DAY = BAR_SPECS.get('1D') as BarSpec;

/**
 * One instrument's market in live time: turns the source's trades into live trades as the clock reaches
 * them (liveTs = start + originalOffset / speed; a loop continues from where the previous pass ended),
 * with contiguous trade ids, and keeps every generated trade (the ground truth) and the 1m bars.
 */
export class SimMarket {
  readonly instId: string;
  readonly baseCcy: string;
  readonly quoteCcy: string;
  readonly tickSz: string;
  readonly lotSz: string;
  readonly bars: MinuteBars;
  private readonly stored: GenTrade[] = [];
  private forgotten = 0;
  private startWallMs: number | undefined;
  private passOriginMs = 0;
  private iterator: Iterator<RawTrade> | undefined;
  private pending: RawTrade | undefined;
  private nextId: number;
  private finished = false;
  /** Clock time of the last `advance`: what REST and pushes describe. */
  clockMs = 0;

  constructor(private readonly options: MarketOptions) {
    this.instId = options.instId;
    const [base = options.instId, quote = ''] = options.instId.split('-');
    this.baseCcy = base;
    this.quoteCcy = quote;
    this.tickSz = stepOf(options.source.pxDecimals);
    this.lotSz = stepOf(options.source.szDecimals);
    this.bars = new MinuteBars(10 ** -options.source.szDecimals);
    this.nextId = options.firstTradeId;
  }

  start(wallMs: number): void {
    this.startWallMs = wallMs;
    this.clockMs = wallMs;
    this.iterator = this.options.source.pass();
    this.finished = this.options.source.empty;
  }

  /**
   * Generates the trades due by `nowMs`, in order, at most `maxTrades` of them; returns them. When more
   * were due, the market's clock stops at the last one generated (so REST and candles stay consistent with
   * the trades) and `behindMs` says how far it lags `nowMs`; the next calls catch up.
   */
  advance(nowMs: number, maxTrades = Infinity): GenTrade[] {
    const fresh: GenTrade[] = [];
    const start = this.startWallMs;
    if (start === undefined) return fresh;
    let capped = false;
    while (!this.finished) {
      const raw = this.peek();
      if (raw === undefined) break;
      const ts = Math.floor(start + (this.passOriginMs + raw.offsetMs) / this.options.speed);
      if (ts > nowMs) break;
      if (fresh.length >= maxTrades) {
        capped = true;
        break;
      }
      this.pending = undefined;
      fresh.push(this.record(raw, ts));
    }
    const reached = capped ? (fresh[fresh.length - 1]?.ts ?? this.clockMs) : nowMs;
    this.behindMs = capped ? nowMs - reached : 0;
    this.clockMs = Math.max(this.clockMs, reached);
    this.bars.rollTo(this.clockMs);
    return fresh;
  }

  /** How far the last `advance` left the market behind the time it was asked to reach (0: not behind). */
  behindMs = 0;

  private peek(): RawTrade | undefined {
    if (this.pending !== undefined) return this.pending;
    for (;;) {
      const next = (this.iterator as Iterator<RawTrade>).next();
      if (!next.done) return (this.pending = next.value);
      if (!this.options.loop) {
        this.finished = true;
        return undefined;
      }
      this.passOriginMs += this.options.source.passLengthMs;
      this.iterator = this.options.source.pass();
    }
  }

  private record(raw: RawTrade, ts: number): GenTrade {
    const id = this.nextId++;
    const trade: GenTrade = {
      id,
      ts,
      px: raw.px,
      lots: raw.lots,
      side: raw.side,
      sim: {
        instId: this.instId,
        tradeId: String(id),
        px: this.formatPx(raw.px),
        sz: this.formatLots(raw.lots),
        side: raw.side,
        ts,
      },
    };
    this.stored.push(trade);
    const max = this.options.maxStoredTrades;
    if (max !== undefined && this.stored.length > max + Math.ceil(max * STORED_SLACK)) {
      const drop = this.stored.length - max;
      this.stored.splice(0, drop);
      this.forgotten += drop;
    }
    this.bars.add(ts, raw.px, raw.lots);
    return trade;
  }

  formatLots(lots: number): string {
    const d = this.options.source.szDecimals;
    return formatDecimal(lots / 10 ** d, d);
  }

  formatPx(px: number): string {
    return formatDecimal(px, this.options.source.pxDecimals);
  }

  formatQuote(quote: number): string {
    return formatDecimal(
      quote,
      Math.min(12, this.options.source.pxDecimals + this.options.source.szDecimals),
    );
  }

  /** Every stored trade, oldest first (all generated trades unless maxStoredTrades forgot some). */
  trades(): readonly GenTrade[] {
    return this.stored;
  }

  get generatedCount(): number {
    return this.forgotten + this.stored.length;
  }

  get lastTrade(): GenTrade | undefined {
    return this.stored[this.stored.length - 1];
  }

  /** OKX candle row: [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]; confirm "1" once closed. */
  candleRow(spec: BarSpec, bar: Bar): string[] {
    const quote = this.formatQuote(bar.quote);
    return [
      String(bar.openMs),
      this.formatPx(bar.o),
      this.formatPx(bar.h),
      this.formatPx(bar.l),
      this.formatPx(bar.c),
      this.formatLots(bar.lots),
      quote,
      quote,
      bar.openMs + spec.ms <= this.clockMs ? '1' : '0',
    ];
  }

  /** The figures of OKX's ticker that come from trades: last, 24-hour window, start-of-day opens. */
  tickerFigures(): TickerFigures | undefined {
    const last = this.lastTrade;
    if (last === undefined) return undefined;
    const window = this.bars.since(this.clockMs - DAY + 60_000);
    let high = -Infinity;
    let low = Infinity;
    let lots = 0;
    let quote = 0;
    for (const b of window) {
      high = Math.max(high, b.h);
      low = Math.min(low, b.l);
      lots += b.lots;
      quote += b.quote;
    }
    const open24h = window[0]?.o ?? last.px;
    const sod = (spec: BarSpec): number => this.bars.bar(spec, bucketOpen(spec, this.clockMs))?.o ?? last.px;
    return {
      last: last.px,
      lastLots: last.lots,
      open24h,
      high24h: high,
      low24h: low,
      vol24hLots: lots,
      volCcy24h: quote,
      sodUtc0: sod(UTC_DAY),
      sodUtc8: sod(HK_DAY),
    };
  }
}

export interface TickerFigures {
  readonly last: number;
  readonly lastLots: number;
  readonly open24h: number;
  readonly high24h: number;
  readonly low24h: number;
  readonly vol24hLots: number;
  readonly volCcy24h: number;
  readonly sodUtc0: number;
  readonly sodUtc8: number;
}

/** Groups consecutive trades with the same time, side and price: one taker order each. */
export function takerOrders(trades: readonly GenTrade[]): TakerOrder[] {
  const orders: TakerOrder[] = [];
  let group: GenTrade[] = [];
  let lots = 0;
  for (const t of trades) {
    const head = group[0];
    if (head !== undefined && (head.ts !== t.ts || head.side !== t.side || head.px !== t.px)) {
      orders.push({ trades: group, lots });
      group = [];
      lots = 0;
    }
    group.push(t);
    lots += t.lots;
  }
  if (group.length > 0) orders.push({ trades: group, lots });
  return orders;
}
