import type { Subscription } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { MINUTE_MS } from '../domain/timeframe.js';
import { compareTradeIds, type Trade } from '../domain/trade.js';
import type { CcxtAdapter } from '../exchanges/ccxtAdapter.js';
import { fromUnified, toUnified } from '../exchanges/exchangeAdapter.js';
import { sleep, untilAborted } from '../infra/abort.js';
import type { Logger } from '../infra/logger.js';
import type { BookTop, MarketTicker, ScanExchange } from './exchange.js';

/** Bars kept per symbol (the scanner reads at most 300 back). */
const KEEP_MINUTES = 720;

export interface CcxtScanExchangeOptions {
  /** What rows are stored under: `kraken`, or `kraken-sim` on the simulator's dialect. */
  readonly name: string;
  readonly adapter: CcxtAdapter;
  /** The scanner's clock (the simulator's with --sim). Default Date.now. */
  readonly now?: () => number;
  /**
   * Wall ms a minute's last trades may still be on their way after the clock passed its close (network,
   * the exchange's batching): a minute's bar is final as soon as a later trade of the symbol arrived;
   * without one settleMs after the scanner first asked for the minute, it comes from REST. Default 1500.
   */
  readonly settleMs?: number;
  readonly logger?: Logger;
}

/** Per symbol: the final 1m bars by close time, the closes they are authoritative for, the stream's state. */
interface Series {
  readonly bars: Map<number, Candle>;
  /** Close-time ranges [from, to] (inclusive, merged) where `bars` has every bar (a missing one: no trade). */
  known: [number, number][];
  /** The first close whose trades all come from the current stream (the minute of its first trade is partial). */
  streamFrom: number | undefined;
  /** The stream was (re)subscribed: the next trade either continues `lastId` or starts a new stretch. */
  restarted: boolean;
  lastId: string | undefined;
  lastTs: number;
}

/**
 * The scanner's view of any exchange ccxt supports (Kraken first), through the CcxtAdapter: the universe
 * from one `fetchTickers` (24 h quote volume, best bid and ask), the order book top 5 from `fetchOrderBook`,
 * and 1m candles built from the trades of ONE `watchTradesForSymbols` over every tracked symbol (the
 * adapter refills reconnect gaps over REST), with `fetchOHLCV` for what the stream has not seen: the
 * history a symbol warms up on, and minutes before a (re)subscription. ccxt paces the requests.
 */
export class CcxtScanExchange implements ScanExchange {
  private readonly series = new Map<string, Series>();
  private tracked = new Set<string>();
  private subscription: Subscription | undefined;
  private readonly now: () => number;
  private readonly settleMs: number;
  /** The newest close asked for, and when (wall) it was first asked: it is final settleMs later. */
  private pending: { close: number; wallMs: number } | undefined;
  private settledThrough = Number.NEGATIVE_INFINITY;
  /** Trades that came after their minute was final (from REST by then), and the OHLC requests made. */
  readonly counts = { lateTrades: 0, ohlcRequests: 0 };

  constructor(private readonly options: CcxtScanExchangeOptions) {
    this.now = options.now ?? Date.now;
    this.settleMs = options.settleMs ?? 1500;
  }

  get name(): string {
    return this.options.name;
  }

  async tickers(signal?: AbortSignal): Promise<MarketTicker[]> {
    const rows = await untilAborted(this.options.adapter.fetchTickers(), signal, 'tickers');
    return rows
      .map((t) => ({
        symbol: toUnified(t.symbol),
        base: t.base,
        quote: t.quote,
        volume24h: t.quoteVolume,
        bid: t.bid,
        ask: t.ask,
        last: t.last,
      }))
      .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  }

  async book(symbol: string, signal?: AbortSignal): Promise<BookTop | undefined> {
    const book = await untilAborted(this.options.adapter.fetchBook(fromUnified(symbol), 5), signal, 'book');
    return book.bids.length === 0 && book.asks.length === 0 ? undefined : book;
  }

  /** Watches the trades of exactly these symbols (one subscription for all), when the set changed. */
  track(symbols: readonly string[]): void {
    const next = new Set(symbols.map(fromUnified));
    if (next.size === this.tracked.size && [...next].every((s) => this.tracked.has(s))) return;
    this.subscription?.unsubscribe();
    this.tracked = next;
    for (const [symbol, s] of this.series) {
      if (next.has(symbol)) s.restarted = true;
      else s.streamFrom = undefined;
    }
    if (next.size === 0) {
      this.subscription = undefined;
      return;
    }
    this.subscription = this.options.adapter.trades$([...next]).subscribe({
      next: (t) => this.onTrade(t),
      error: (err: unknown) =>
        this.options.logger?.error({ err }, 'scanner trade stream failed; candles come from REST'),
    });
  }

  async candles(symbol: string, limit: number, untilMs?: number, signal?: AbortSignal): Promise<Candle[]> {
    const until = Math.floor(Math.min(untilMs ?? this.now(), this.now()) / MINUTE_MS) * MINUTE_MS;
    const from = until - (Math.max(1, limit) - 1) * MINUTE_MS;
    const id = fromUnified(symbol);
    const s = this.seriesOf(id);
    const streaming = (): boolean => s.streamFrom !== undefined && !s.restarted;
    // A minute's bar from the stream is final once a later trade of the symbol came (the stream is in
    // order); without one yet, its last trades may still be on their way: wait settleMs, then ask REST.
    if (!covers(s.known, from, until) && !(streaming() && s.lastTs >= until))
      await this.settle(until, signal);
    if (streaming()) {
      const upTo = Math.min(until, Math.floor(s.lastTs / MINUTE_MS) * MINUTE_MS);
      if (upTo >= (s.streamFrom as number)) addKnown(s, s.streamFrom as number, upTo);
    }
    if (!covers(s.known, from, until)) await this.fetchOhlc(id, s, from, until, signal);
    const out: Candle[] = [];
    for (let close = from; close <= until; close += MINUTE_MS) {
      const bar = s.bars.get(close);
      if (bar !== undefined) out.push({ ...bar, symbol });
    }
    return out.slice(-limit);
  }

  /** Stops watching; the adapter (and its connection) is the caller's. */
  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Waits until the trades of the minute closing at `close` have had settleMs (wall) to arrive. */
  private async settle(close: number, signal?: AbortSignal): Promise<void> {
    if (close <= this.settledThrough) return;
    if (this.pending === undefined || close > this.pending.close) {
      this.pending = { close, wallMs: Date.now() };
    }
    const waitMs = this.pending.wallMs + this.settleMs - Date.now();
    if (waitMs > 0) await sleep(waitMs, signal);
    this.settledThrough = Math.max(this.settledThrough, this.pending.close);
  }

  private seriesOf(symbol: string): Series {
    let s = this.series.get(symbol);
    if (s === undefined) {
      s = {
        bars: new Map(),
        known: [],
        streamFrom: undefined,
        restarted: false,
        lastId: undefined,
        lastTs: 0,
      };
      this.series.set(symbol, s);
    }
    return s;
  }

  private onTrade(t: Trade): void {
    const s = this.seriesOf(t.symbol);
    if (s.lastId !== undefined && compareTradeIds(t.tradeId, s.lastId) <= 0) return;
    const continues =
      s.lastId !== undefined &&
      /^\d+$/.test(t.tradeId) &&
      /^\d+$/.test(s.lastId) &&
      BigInt(t.tradeId) === BigInt(s.lastId) + 1n;
    if (s.streamFrom === undefined || (s.restarted && !continues)) {
      // A new stretch of the stream: its first minute is partial, and so is any bar not final yet (trades
      // between the stretches are missing); those minutes come from REST when asked for.
      const start = Math.floor(t.tsMs / MINUTE_MS) * MINUTE_MS + 2 * MINUTE_MS;
      for (const close of s.bars.keys()) if (!isKnown(s.known, close)) s.bars.delete(close);
      s.streamFrom = start;
    }
    s.restarted = false;
    s.lastId = t.tradeId;
    s.lastTs = Math.max(s.lastTs, t.tsMs);
    const close = Math.floor(t.tsMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    if (close < s.streamFrom) return;
    if (isKnown(s.known, close)) {
      this.counts.lateTrades++;
      return;
    }
    const bar = s.bars.get(close);
    if (bar === undefined) {
      s.bars.set(close, {
        symbol: t.symbol,
        timeframe: '1m',
        closeTimeMs: close,
        open: t.price,
        high: t.price,
        low: t.price,
        close: t.price,
        volume: t.size,
        tradesCount: 1,
        closed: true,
        revision: 0,
        source: 'trades',
      });
    } else {
      s.bars.set(close, {
        ...bar,
        high: Math.max(bar.high, t.price),
        low: Math.min(bar.low, t.price),
        close: t.price,
        volume: bar.volume + t.size,
        tradesCount: bar.tradesCount + 1,
      });
    }
  }

  /** The closed 1m bars of [from, until] from REST (`fetchOHLCV`), for the closes the stream does not cover. */
  private async fetchOhlc(
    symbol: string,
    s: Series,
    from: number,
    until: number,
    signal?: AbortSignal,
  ): Promise<void> {
    this.counts.ohlcRequests++;
    // A little before the first open: ccxt asks Kraken in whole seconds, and rows after `since` come back.
    const rows = await untilAborted(
      this.options.adapter.fetchCandles1m(symbol, from - MINUTE_MS - 1000),
      signal,
      `candles of ${symbol}`,
    );
    for (const c of rows) {
      if (!c.closed || c.closeTimeMs < from || c.closeTimeMs > until) continue;
      if (isKnown(s.known, c.closeTimeMs)) continue;
      s.bars.set(c.closeTimeMs, { ...c, source: 'okx_candles' });
    }
    addKnown(s, from, until);
    const oldest = until - KEEP_MINUTES * MINUTE_MS;
    for (const close of s.bars.keys()) if (close < oldest) s.bars.delete(close);
  }
}

function isKnown(known: readonly [number, number][], close: number): boolean {
  return known.some(([a, b]) => close >= a && close <= b);
}

function covers(known: readonly [number, number][], from: number, to: number): boolean {
  return known.some(([a, b]) => from >= a && to <= b);
}

/** Adds [from, to] to the series' known ranges, merging ranges that touch (a minute apart) or overlap. */
function addKnown(s: Series, from: number, to: number): void {
  const all = [...s.known, [from, to] as [number, number]].sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const [a, b] of all) {
    const last = merged[merged.length - 1];
    if (last !== undefined && a <= last[1] + MINUTE_MS) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  s.known = merged;
}
