/// <reference lib="dom" />
import {
  DATASETS,
  portfolioSpec,
  priceChartSpec,
  splitIndicators,
  tradePnlSpec,
  type CandleRow,
  type IndicatorRow,
  type MarkerRow,
} from '../specs.js';
import { get, query } from './api.js';
import { Chart } from './charts.js';
import { byId, fill, fmtMoney, fmtPrice, fmtTime, h, signClass } from './dom.js';
import type { Live } from './live.js';
import { flash } from './bots.js';
import type { Store } from './state.js';
import type {
  BotView,
  CandleMessage,
  FillMessage,
  HistoryColumns,
  Page,
  PerformanceMessage,
  SignalMessage,
  StoredFill,
  StoredPerformance,
  StoredSignal,
} from './types.js';

const CANDLES = 300;

interface FillRow {
  readonly seq: number;
  readonly tMs: number;
  readonly side: 'buy' | 'sell';
  readonly price: number;
  readonly qty: number;
  readonly fee: number;
  readonly pnl?: number;
  readonly reason?: string;
}

/**
 * The selected bot: its candlesticks with buy/sell markers and indicator overlays, its portfolio value
 * over time and its trades with the P&L of each. Loads from the API on selection and on every reconnect,
 * then follows the bot's and its market's rooms.
 */
export class SelectedBot {
  private readonly priceChart = new Chart(byId('price-chart'));
  private readonly portfolioChart = new Chart(byId('portfolio-chart'));
  private readonly pnlChart = new Chart(byId('pnl-chart'));
  private rooms: string[] = [];
  private bot: BotView | undefined;
  private candles: CandleRow[] = [];
  private fills: FillRow[] = [];
  private indicators: IndicatorRow[] = [];
  private overlayNames = new Set<string>();
  private loadId = 0;
  private frame: number | undefined;
  /** The pushed candle the next chart update draws (for the `rxtrade:candle-drawn` timing mark). */
  private drawnCandle: CandleMessage | undefined;

  constructor(
    private readonly store: Store,
    private readonly live: Live,
  ) {
    // A reconnect reloads the bot list, which re-announces the selection: this reloads then.
    store.addEventListener('select', () => void this.load().catch(report));
    live.on<CandleMessage>('candle', (m) => this.onCandle(m));
    live.on<FillMessage>('fill', (m) => this.onFill(m));
    live.on<SignalMessage>('signal', (m) => this.onSignal(m));
    live.on<PerformanceMessage>('performance', (m) => {
      if (m.botId === this.bot?.botKey) this.schedule();
    });
  }

  /** (Re)loads everything of the selected bot; a newer selection wins over a slower older load. */
  async load(): Promise<void> {
    const botId = this.store.selected;
    const bot = botId === undefined ? undefined : this.store.bots.get(botId);
    const id = ++this.loadId;
    if (bot === undefined) {
      this.bot = undefined;
      fill(byId('chart-title'), 'No bot selected');
      return;
    }
    const rooms = [`bot:${bot.botKey}`, `market:${bot.symbol}:${bot.timeframe}`];
    this.live.swap(this.rooms, rooms);
    this.rooms = rooms;
    // The latest candles up to the bot's last one (all the latest when it has none yet): the stored data's
    // clock is the feed's (a replay may be far from now), so the window is not taken from the wall clock.
    const toMs = bot.lastCandleMs === undefined ? undefined : bot.lastCandleMs + 1;
    const bid = encodeURIComponent(bot.botKey);
    const [history, fills, signals, perf] = await Promise.all([
      get<HistoryColumns>(
        `/api/market/${encodeURIComponent(bot.symbol)}/history` +
          query({ timeframe: bot.timeframe, to: toMs, limit: CANDLES }),
      ),
      get<Page<StoredFill>>(`/api/bots/${bid}/trades${query({ order: 'desc', limit: 1000 })}`),
      get<Page<StoredSignal>>(`/api/bots/${bid}/signals${query({ order: 'desc', limit: CANDLES })}`),
      get<Page<StoredPerformance>>(`/api/bots/${bid}/performance${query({ order: 'desc', limit: 2000 })}`),
    ]);
    if (id !== this.loadId) return;
    this.bot = bot;
    this.candles = history.t.map((tMs, i) => ({
      tMs,
      open: history.open[i]!,
      high: history.high[i]!,
      low: history.low[i]!,
      close: history.close[i]!,
    }));
    this.fills = fills.items
      .map((f) => ({ ...f, tMs: f.timeMs }))
      .sort((a, b) => a.tMs - b.tMs || a.seq - b.seq);
    this.indicators = signals.items.flatMap((s) => indicatorRows(s.closeTimeMs, s.indicators));
    this.store.setPerf(bot.botKey, perf.items);
    fill(
      byId('chart-title'),
      h('strong', {}, bot.botKey),
      ` ${bot.strategyName} · ${bot.symbol} ${bot.timeframe}`,
    );
    await this.drawAll();
  }

  private async drawAll(): Promise<void> {
    const bot = this.bot;
    if (bot === undefined) return;
    const from = this.windowFromMs();
    this.indicators = this.indicators.filter((r) => r.tMs >= from);
    const { overlays } = splitIndicators(this.candles, this.indicators);
    this.overlayNames = new Set(overlays.map((r) => r.name));
    await Promise.all([
      this.priceChart.draw(
        priceChartSpec({
          candles: this.candles,
          markers: this.markers(),
          indicators: this.indicators,
          maxCandles: 2 * CANDLES,
        }),
      ),
      this.portfolioChart.draw(portfolioSpec(this.store.perf.get(bot.botKey) ?? [])),
      this.pnlChart.draw(tradePnlSpec(this.closedTrades())),
    ]);
    this.renderTrades();
    document.body.dataset['chartBot'] = bot.botKey;
  }

  /** Close time of the oldest candle drawn: fills and indicator values before it are not drawn. */
  private windowFromMs(): number {
    return this.candles[0]?.tMs ?? Number.NEGATIVE_INFINITY;
  }

  /** The fills within the candles drawn (older ones would stretch the time axis past the candles). */
  private markers(): MarkerRow[] {
    const from = this.windowFromMs();
    return this.fills
      .filter((f) => f.tMs >= from)
      .map((f) => ({ tMs: f.tMs, side: f.side, price: f.price, qty: f.qty }));
  }

  private closedTrades(): { tMs: number; pnl: number }[] {
    return this.fills.filter((f) => f.pnl !== undefined).map((f) => ({ tMs: f.tMs, pnl: f.pnl! }));
  }

  private onCandle(m: CandleMessage): void {
    const bot = this.bot;
    if (bot === undefined || m.symbol !== bot.symbol || m.timeframe !== bot.timeframe) return;
    const row = { tMs: m.closeTimeMs, open: m.open, high: m.high, low: m.low, close: m.close };
    const last = this.candles[this.candles.length - 1];
    if (last !== undefined && last.tMs === row.tMs) this.candles[this.candles.length - 1] = row;
    else if (last === undefined || last.tMs < row.tMs) this.candles.push(row);
    else return; // an old revision arriving late
    if (this.candles.length > 2 * CANDLES) {
      this.candles.splice(0, this.candles.length - 2 * CANDLES);
      const from = this.windowFromMs();
      this.indicators = this.indicators.filter((r) => r.tMs >= from);
    }
    timing('rxtrade:candle', m);
    this.drawnCandle = m;
    this.schedule();
  }

  private onFill(m: FillMessage): void {
    if (m.botId !== this.bot?.botKey || this.fills.some((f) => f.seq === m.seq)) return;
    this.fills.push({ ...m, tMs: m.tsMs });
    this.schedule();
  }

  private onSignal(m: SignalMessage): void {
    if (m.botId !== this.bot?.botKey || m.indicators === undefined) return;
    const rows = indicatorRows(m.tsMs, m.indicators);
    this.indicators.push(...rows);
    if (rows.some((r) => !this.overlayNames.has(r.name)) && this.overlayNames.size === 0) {
      void this.drawAll(); // the first values: which go over the price is decided now
      return;
    }
    this.schedule();
  }

  /** Pushes coalesce into one chart update per animation frame. */
  private schedule(): void {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      void this.update();
    });
  }

  private async update(): Promise<void> {
    const bot = this.bot;
    if (bot === undefined) return;
    const overlays = this.indicators.filter((r) => this.overlayNames.has(r.name));
    const oscillators = this.indicators.filter((r) => !this.overlayNames.has(r.name));
    await Promise.all([
      this.priceChart.replace({
        [DATASETS.candles]: this.candles,
        [DATASETS.markers]: this.markers(),
        [DATASETS.overlays]: overlays,
        ...(oscillators.length > 0 ? { [DATASETS.oscillators]: oscillators } : {}),
      }),
      this.portfolioChart.replace({ [DATASETS.portfolio]: this.store.perf.get(bot.botKey) ?? [] }),
      this.pnlChart.replace({
        [DATASETS.trades]: this.closedTrades().map((r, i) => ({ n: i + 1, ...r })),
      }),
    ]);
    this.renderTrades();
    if (this.drawnCandle !== undefined) timing('rxtrade:candle-drawn', this.drawnCandle);
    this.drawnCandle = undefined;
  }

  private renderTrades(): void {
    const rows = [...this.fills].reverse().slice(0, 200);
    const fees = this.fills.reduce((sum, f) => sum + f.fee, 0);
    fill(byId('trades-fees'), `fees ${fmtMoney(fees)}`);
    fill(
      byId('trades-body'),
      ...rows.map((f) =>
        h(
          'tr',
          { 'data-seq': f.seq },
          h('td', {}, fmtTime(f.tMs)),
          h('td', { class: f.side }, f.side),
          h('td', { class: 'num' }, fmtPrice(f.price)),
          h('td', { class: 'num' }, fmtPrice(f.qty)),
          h('td', { class: 'num' }, fmtMoney(f.fee)),
          h('td', { class: `num ${signClass(f.pnl)}` }, f.pnl === undefined ? '' : fmtMoney(f.pnl)),
          h('td', {}, f.reason ?? ''),
        ),
      ),
      rows.length === 0 ? h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No trades yet.')) : null,
    );
  }
}

function indicatorRows(
  tMs: number,
  values: Readonly<Record<string, number | null | undefined>>,
): IndicatorRow[] {
  const rows: IndicatorRow[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'number' && Number.isFinite(value)) rows.push({ tMs, name, value });
  }
  return rows;
}

function report(err: unknown): void {
  flash(`chart: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * A User Timing mark per pushed candle (`rxtrade:candle` on arrival, `rxtrade:candle-drawn` once on the
 * chart), with the candle's identity as detail: how a benchmark reads close → browser latency from the
 * page (`performance.getEntriesByName(…)`, `performance.timeOrigin + startTime` is the epoch ms).
 */
function timing(name: string, m: CandleMessage): void {
  if (performance.getEntriesByName(name).length >= 1000) performance.clearMarks(name);
  performance.mark(name, {
    detail: { symbol: m.symbol, timeframe: m.timeframe, closeTimeMs: m.closeTimeMs },
  });
}
