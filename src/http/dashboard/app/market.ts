/// <reference lib="dom" />
import { get, query } from './api.js';
import { byId, fill, fmtPrice, fmtTime, h } from './dom.js';
import type { Live } from './live.js';
import type { Store } from './state.js';
import type { CandleMessage, MarketTrade, OrderBook, Page } from './types.js';

/** No request more often than this: live prices come by push, the book and the tape by this refresh. */
export const MARKET_REFRESH_MS = 5000;

/** The selected bot's market: live price (pushed candles), order book top 5 and the recent trades. */
export class MarketView {
  private symbol: string | undefined;
  private timer: number | undefined;
  private lastPrice: number | undefined;

  constructor(
    private readonly store: Store,
    live: Live,
  ) {
    store.addEventListener('select', () => this.follow());
    live.on<CandleMessage>('candle', (m) => {
      if (m.symbol === this.symbol) this.showPrice(m.close, m.closeTimeMs);
    });
    live.onConnect(() => void this.refresh());
  }

  private follow(): void {
    const bot = this.store.selected === undefined ? undefined : this.store.bots.get(this.store.selected);
    if (bot?.symbol === this.symbol) return;
    this.symbol = bot?.symbol;
    this.lastPrice = undefined;
    fill(byId('market-symbol'), this.symbol ?? '');
    if (this.timer !== undefined) window.clearInterval(this.timer);
    this.timer = window.setInterval(() => void this.refresh(), MARKET_REFRESH_MS);
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    const symbol = this.symbol;
    if (symbol === undefined) return;
    const path = `/api/market/${encodeURIComponent(symbol)}`;
    const [book, trades] = await Promise.all([
      get<OrderBook>(`${path}/orderbook`).catch(() => undefined),
      get<Page<MarketTrade>>(`${path}/trades${query({ limit: 15 })}`).catch(() => undefined),
    ]);
    if (symbol !== this.symbol) return;
    this.renderBook(book);
    this.renderTrades(trades?.items ?? []);
    const newest = trades?.items[0];
    if (newest !== undefined && this.lastPrice === undefined) this.showPrice(newest.price, newest.tsMs);
  }

  private showPrice(price: number, tsMs: number): void {
    const el = byId('market-price');
    el.classList.toggle('up', this.lastPrice !== undefined && price > this.lastPrice);
    el.classList.toggle('down', this.lastPrice !== undefined && price < this.lastPrice);
    this.lastPrice = price;
    fill(el, fmtPrice(price));
    fill(byId('market-time'), fmtTime(tsMs));
  }

  private renderBook(book: OrderBook | undefined): void {
    const asks = (book?.asks ?? []).slice(0, 5).reverse();
    const bids = (book?.bids ?? []).slice(0, 5);
    const row = (side: string, [price, size]: [number, number]) =>
      h(
        'tr',
        { class: side },
        h('td', { class: 'num' }, fmtPrice(price)),
        h('td', { class: 'num' }, fmtPrice(size)),
      );
    fill(
      byId('book-body'),
      ...asks.map((level) => row('ask', level)),
      ...bids.map((level) => row('bid', level)),
      book === undefined ? h('tr', {}, h('td', { colspan: 2, class: 'empty' }, 'No book.')) : null,
    );
  }

  private renderTrades(items: readonly MarketTrade[]): void {
    fill(
      byId('tape-body'),
      ...items.map((t) =>
        h(
          'tr',
          { class: t.side },
          h('td', {}, fmtTime(t.tsMs).slice(11)),
          h('td', { class: 'num' }, fmtPrice(t.price)),
          h('td', { class: 'num' }, fmtPrice(t.size)),
        ),
      ),
    );
  }
}
