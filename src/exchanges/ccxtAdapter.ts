import type ccxtDefault from 'ccxt';
import type { Exchange } from 'ccxt';
import { merge, Observable, type Subscriber } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { NotFoundError, UsageError } from '../domain/errors.js';
import { compareTradeIds, type Trade } from '../domain/trade.js';
import { sleep, untilAborted } from '../infra/abort.js';
import { backoffMs } from '../infra/rateLimiter.js';
import { candleFromOhlcv, tradeFromCcxt, type CcxtTradeLike } from './ccxtMapping.js';
import {
  fromUnified,
  toUnified,
  type ExchangeAdapter,
  type ExchangeInstrument,
  type FeedEvent,
  type TradeStreamOptions,
} from './exchangeAdapter.js';

/** Exchanges whose trade ids count up by one per market, so a jump is a gap to fill. */
const SEQUENTIAL_IDS = new Set(['kraken']);
/** At most this many REST pages (1000 trades each) fill one hole; older trades stay missing. */
const MAX_BACKFILL_PAGES = 20;
/** How long to wait before asking REST again for trades the stream already showed. */
const REST_LAG_RETRY_MS = 250;
/** Trades ccxt keeps per symbol between two `watchTrades` calls. */
const TRADES_CACHE = 100_000;

export interface CcxtAdapterOptions {
  /** ccxt's exchange id: `kraken`, `binance`… (its `ccxt.pro` class). */
  readonly exchange: string;
  /** Overrides of ccxt's `urls` (deep-merged), e.g. a simulator's: `{ api: { public, ws: { publicV2 } } }`. */
  readonly urls?: Record<string, unknown>;
  /** Told about every stream's connections and backfills (each stream's own `onEvent` is told too). */
  readonly onEvent?: (event: FeedEvent) => void;
  /** Reconnect backoff: base·2^(n−1) ms capped at max, ±20 %. Default 500 ms … 30 s. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Clock for deciding whether the newest candle is closed. Default Date.now. */
  readonly now?: () => number;
  /** ccxt's pause between two requests, ms (default: the exchange's own, Kraken's 1000); a simulator needs less. */
  readonly rateLimitMs?: number;
}

/** One spot market's 24 h ticker (ccxt's fetchTickers), under our symbol. */
export interface AdapterTicker {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** 24 h volume in quote currency (ccxt's quoteVolume, else baseVolume × vwap). */
  readonly quoteVolume: number;
  readonly bid: number;
  readonly ask: number;
  readonly last: number;
}

let ccxtModule: Promise<typeof ccxtDefault> | undefined;

/**
 * Loads ccxt once (a large module: seconds of a busy process on a loaded machine). A caller with a clock
 * that must not stall meanwhile, such as an accelerated simulator's, loads it before starting that clock.
 */
export function loadCcxt(): Promise<typeof ccxtDefault> {
  const loading = ccxtModule ?? import('ccxt').then((m) => m.default);
  ccxtModule = loading;
  loading.catch(() => (ccxtModule = undefined));
  return loading;
}

/**
 * Any exchange ccxt supports, through ccxt.pro: `watchTrades` for the stream, `fetchTrades` to fill what a
 * reconnect missed, `fetchOHLCV` for 1m candles. ccxt's own rate limiter paces every request
 * (`enableRateLimit`); its WebSocket client keeps the connection alive (pings) and reconnects on the next
 * watch after an error, which this adapter retries with exponential backoff.
 */
export class CcxtAdapter implements ExchangeAdapter {
  private markets: Promise<ExchangeInstrument[]> | undefined;
  private readonly now: () => number;

  private constructor(
    private readonly ex: Exchange,
    private readonly options: CcxtAdapterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get id(): string {
    return this.options.exchange;
  }

  /** Continuing stored history relies on OKX's REST history today: not through ccxt. */
  readonly resumes = false;

  /** Loads ccxt (lazily: it is large) and makes the exchange; plain ws:// URLs (a simulator) are allowed. */
  static async create(options: CcxtAdapterOptions): Promise<CcxtAdapter> {
    const ccxt = await loadCcxt();
    const pro = ccxt.pro as unknown as Record<string, (new (config: object) => Exchange) | undefined>;
    const Class = Object.hasOwn(pro, options.exchange) ? pro[options.exchange] : undefined;
    if (typeof Class !== 'function') {
      throw new UsageError(
        `--exchange ${options.exchange}: ccxt.pro has no such exchange (it knows e.g. kraken, binance, coinbase)`,
      );
    }
    // ccxt keeps the newest `tradesLimit` trades per symbol between two watches (default 1000): a busy
    // market outpaces that while the pipeline is busy, so keep far more.
    const ex = new Class({
      enableRateLimit: true,
      options: { tradesLimit: TRADES_CACHE },
      ...(options.rateLimitMs !== undefined ? { rateLimit: options.rateLimitMs } : {}),
      ...(options.urls !== undefined ? { urls: options.urls } : {}),
    });
    // ccxt refuses non-TLS WebSockets until this ran (its documented way to reach a local server).
    if (JSON.stringify(options.urls ?? {}).includes('"ws://')) await ex.loadHttpProxyAgent();
    return new CcxtAdapter(ex, options);
  }

  instruments(): Promise<ExchangeInstrument[]> {
    const loading =
      this.markets ??
      this.ex.loadMarkets().then((markets) =>
        Object.values(markets).flatMap((m): ExchangeInstrument[] =>
          m?.spot === true && m.id !== undefined
            ? [
                {
                  symbol: fromUnified(m.symbol),
                  unified: m.symbol,
                  exchangeId: m.id,
                  base: m.base,
                  quote: m.quote,
                  priceStep: m.precision.price,
                  sizeStep: m.precision.amount,
                  active: m.active !== false,
                },
              ]
            : [],
        ),
      );
    this.markets = loading;
    loading.catch(() => (this.markets = undefined));
    return loading;
  }

  trades$(symbols: readonly string[], options: TradeStreamOptions = {}): Observable<Trade> {
    const onEvent = (e: FeedEvent): void => {
      this.options.onEvent?.(e);
      options.onEvent?.(e);
    };
    // One watch for every symbol where ccxt has it (Kraken): several concurrent watches on one ccxt
    // connection race its reconnect (a subscription sent on the dead socket is lost, its watch hangs).
    if (this.ex.has['watchTradesForSymbols'] === true) return this.watched([...symbols], onEvent);
    return merge(...symbols.map((s) => this.watched([s], onEvent)));
  }

  async fetchTrades(symbol: string, sinceMs?: number, limit?: number): Promise<Trade[]> {
    await this.known(symbol);
    const rows = await this.ex.fetchTrades(toUnified(symbol), sinceMs, limit);
    return rows
      .flatMap((t) => tradeFromCcxt(symbol, t) ?? [])
      .sort((a, b) => compareTradeIds(a.tradeId, b.tradeId));
  }

  async fetchCandles1m(symbol: string, sinceMs?: number, limit?: number): Promise<Candle[]> {
    await this.known(symbol);
    const rows = await this.ex.fetchOHLCV(toUnified(symbol), '1m', sinceMs, limit);
    const now = this.now();
    return rows.flatMap((r) => candleFromOhlcv(symbol, r, now) ?? []);
  }

  /** Every active spot market's 24 h ticker (one `fetchTickers` request). */
  async fetchTickers(): Promise<AdapterTicker[]> {
    const markets = new Map((await this.instruments()).map((i) => [i.unified, i]));
    const tickers = await this.ex.fetchTickers();
    return Object.values(tickers).flatMap((t): AdapterTicker[] => {
      const m = t.symbol === undefined ? undefined : markets.get(t.symbol);
      if (m === undefined || !m.active) return [];
      const last = t.last ?? t.close ?? Number.NaN;
      return [
        {
          symbol: m.symbol,
          base: m.base,
          quote: m.quote,
          quoteVolume: t.quoteVolume ?? (t.baseVolume ?? Number.NaN) * (t.vwap ?? last),
          bid: t.bid ?? Number.NaN,
          ask: t.ask ?? Number.NaN,
          last,
        },
      ];
    });
  }

  /** The order book's best `depth` levels a side, `[price, amount]`. */
  async fetchBook(
    symbol: string,
    depth: number,
  ): Promise<{ bids: [number, number][]; asks: [number, number][] }> {
    await this.known(symbol);
    const book = await this.ex.fetchOrderBook(toUnified(symbol), depth);
    const side = (levels: readonly (readonly (number | undefined)[])[]): [number, number][] =>
      levels.slice(0, depth).flatMap(([p, a]) => (p === undefined || a === undefined ? [] : [[p, a]]));
    return { bids: side(book.bids), asks: side(book.asks) };
  }

  async close(): Promise<void> {
    await this.ex.close();
  }

  private async known(symbol: string): Promise<void> {
    const list = await this.instruments();
    if (!list.some((i) => i.symbol === symbol)) {
      throw new NotFoundError(`${this.id} has no spot market ${symbol} (${toUnified(symbol)})`);
    }
  }

  private watched(symbols: string[], onEvent: (e: FeedEvent) => void): Observable<Trade> {
    return new Observable<Trade>((subscriber) => {
      const abort = new AbortController();
      void this.watchLoop(symbols, subscriber, abort.signal, onEvent);
      return () => abort.abort();
    });
  }

  /**
   * Watches the symbols until unsubscribed: each trade once, in id order per symbol. After an error it
   * waits (backoff) and watches again; a symbol's first trades after that (or after a jump in sequential
   * ids) come after the trades REST has since the last one passed on.
   */
  private async watchLoop(
    symbols: string[],
    out: Subscriber<Trade>,
    signal: AbortSignal,
    onEvent: (e: FeedEvent) => void,
  ): Promise<void> {
    const url = `${this.id} (ccxt.pro)`;
    try {
      for (const s of symbols) await this.known(s);
    } catch (err) {
      out.error(err);
      return;
    }
    const bySymbol = new Map(symbols.map((s) => [toUnified(s), s] as const));
    const state = new Map(symbols.map((s) => [s, { last: undefined as Trade | undefined, hole: false }]));
    const emit = (trades: readonly Trade[]): void => {
      for (const t of [...trades].sort((a, b) => compareTradeIds(a.tradeId, b.tradeId))) {
        const st = state.get(t.symbol);
        if (st === undefined || (st.last !== undefined && compareTradeIds(t.tradeId, st.last.tradeId) <= 0))
          continue;
        st.last = t;
        out.next(t);
      }
    };
    const what = `watching ${symbols.join(', ')}`;
    let attempt = 0;
    let connected = false;
    while (!signal.aborted) {
      try {
        const unified = [...bySymbol.keys()];
        const batch = await untilAborted(
          unified.length === 1
            ? this.ex.watchTrades(unified[0] as string)
            : this.ex.watchTradesForSymbols(unified),
          signal,
          what,
        );
        if (!connected || attempt > 0) {
          onEvent({ type: 'connected', url, reconnect: connected });
          connected = true;
          attempt = 0;
        }
        const trades = this.arrived(batch, bySymbol, state);
        for (const symbol of new Set(trades.map((t) => t.symbol))) {
          const st = state.get(symbol);
          const last = st?.last;
          if (st === undefined || last === undefined) continue;
          const first = trades
            .filter((t) => t.symbol === symbol && compareTradeIds(t.tradeId, last.tradeId) > 0)
            .sort((a, b) => compareTradeIds(a.tradeId, b.tradeId))[0];
          if (st.hole || (first !== undefined && this.skipped(last, first))) {
            const filled = await this.backfill(symbol, last, first, emit, signal);
            const reason = st.hole
              ? 'reconnect'
              : `trade ids jumped from ${last.tradeId} to ${first?.tradeId}`;
            onEvent({ type: 'backfill', symbol, trades: filled, reason });
          }
          st.hole = false;
        }
        emit(trades);
      } catch (err) {
        if (signal.aborted) return;
        attempt += 1;
        for (const st of state.values()) st.hole = true;
        const wait = backoffMs(
          attempt,
          this.options.backoff?.baseMs ?? 500,
          this.options.backoff?.maxMs ?? 30_000,
          0.2,
          Math.random,
        );
        onEvent({
          type: 'disconnected',
          url,
          reason: `${err instanceof Error ? err.message : String(err)}; retrying in ${Math.round(wait)} ms`,
        });
        try {
          await sleep(wait, signal);
        } catch {
          return;
        }
      }
    }
  }

  /**
   * Every watched symbol's trades that came since the last wake-up, not just those of the symbol that woke
   * us. ccxt resolves a multi-symbol watch with the first symbol's new trades only; another symbol's, taken
   * in from the socket in the same burst, wait in its per-symbol cache (`exchange.trades`) until a message of
   * theirs is the first of a later burst, which on a busy socket may never happen (the first symbol's update
   * comes first on every push). So read each cache from its newest trade back to the last one passed on.
   */
  private arrived(
    batch: readonly CcxtTradeLike[],
    bySymbol: ReadonlyMap<string, string>,
    state: ReadonlyMap<string, { readonly last: Trade | undefined }>,
  ): Trade[] {
    const out: Trade[] = [];
    const caches = this.ex.trades as Record<string, readonly CcxtTradeLike[] | undefined> | undefined;
    const fromBatch = new Set<string>();
    for (const [unified, symbol] of bySymbol) {
      const cache = caches?.[unified];
      if (cache === undefined) {
        fromBatch.add(unified);
        continue;
      }
      const last = state.get(symbol)?.last;
      for (let i = cache.length - 1; i >= 0; i--) {
        const t = tradeFromCcxt(symbol, cache[i] as CcxtTradeLike);
        if (t === undefined) continue;
        if (last !== undefined && compareTradeIds(t.tradeId, last.tradeId) <= 0) break;
        out.push(t);
      }
    }
    for (const t of batch) {
      const unified = t.symbol ?? '';
      const symbol = bySymbol.get(unified);
      if (symbol === undefined || !fromBatch.has(unified)) continue;
      const trade = tradeFromCcxt(symbol, t);
      if (trade !== undefined) out.push(trade);
    }
    return out;
  }

  /** Trade ids that count up by one (Kraken's, per pair): a jump means trades the stream skipped. */
  private skipped(last: Trade, next: Trade): boolean {
    if (!SEQUENTIAL_IDS.has(this.id) || !/^\d+$/.test(last.tradeId) || !/^\d+$/.test(next.tradeId))
      return false;
    return BigInt(next.tradeId) > BigInt(last.tradeId) + 1n;
  }

  /**
   * The trades after `last` and before `until` (the stream's first new trade; all when undefined) from REST,
   * a page of 1000 at a time, passed to `emit`; returns how many.
   */
  private async backfill(
    symbol: string,
    last: Trade,
    until: Trade | undefined,
    emit: (trades: readonly Trade[]) => void,
    signal: AbortSignal,
  ): Promise<number> {
    let filled = 0;
    // ccxt sends `since` in whole seconds (Kraken answers the 1000 oldest trades from that second on) and
    // drops those before the millisecond: page on from the newest row's time.
    let sinceMs = last.tsMs - 1000;
    for (let page = 0; page < MAX_BACKFILL_PAGES; page++) {
      const rows = await untilAborted(this.fetchTrades(symbol, sinceMs, 1000), signal, 'backfill');
      const fresh = rows.filter(
        (t) =>
          compareTradeIds(t.tradeId, last.tradeId) > 0 &&
          (until === undefined || compareTradeIds(t.tradeId, until.tradeId) < 0),
      );
      emit(fresh);
      filled += fresh.length;
      const newest = rows[rows.length - 1];
      if (until !== undefined && newest !== undefined && compareTradeIds(newest.tradeId, until.tradeId) >= 0)
        break;
      if (newest !== undefined && newest.tsMs > sinceMs) {
        sinceMs = newest.tsMs; // the next page (ccxt asks Kraken from that second on)
      } else if (until === undefined) {
        break; // nothing newer: the hole is filled as far as REST knows
      } else {
        // REST has not caught up with the stream yet (it can lag it): ask again shortly.
        await sleep(REST_LAG_RETRY_MS, signal);
      }
    }
    return filled;
  }
}
