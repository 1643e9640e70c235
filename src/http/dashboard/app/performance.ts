/// <reference lib="dom" />
import { DATASETS, equitySpec, type EquityRow } from '../specs.js';
import { get, query } from './api.js';
import { Chart } from './charts.js';
import { byId, fill, fmtMoney, fmtPct, h, signClass } from './dom.js';
import type { Live } from './live.js';
import type { Store } from './state.js';
import type { Page, PerformanceMessage, StoredPerformance } from './types.js';

/**
 * Every bot side by side: balance, P&L, trades, win rate, fees, max drawdown. Each bot's account history
 * is loaded once (and on reconnect); pushed `performance` messages keep it current.
 */
export class PerformanceTable {
  private readonly body = byId('perf-body');
  private readonly chart = new Chart(byId('bots-equity'));
  private frame: number | undefined;

  constructor(
    private readonly store: Store,
    live: Live,
  ) {
    store.addEventListener('bots', () => this.render());
    live.on<PerformanceMessage>('performance', (m) => {
      if (store.addPerf(m)) this.render();
    });
  }

  /** Every bot's total value over time on one chart (redrawn at most once per animation frame). */
  private scheduleChart(): void {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      const rows: EquityRow[] = [];
      for (const [botId, points] of this.store.perf) {
        for (const p of points) rows.push({ run: botId, tMs: p.tMs, value: p.totalValue });
      }
      if (this.chart.drawn) void this.chart.replace({ [DATASETS.equity]: rows });
      else void this.chart.draw(equitySpec(rows, { height: 160 }));
    });
  }

  /** Loads the account history of every bot (the win rate needs the closed round trips). */
  async load(): Promise<void> {
    await Promise.all(
      [...this.store.bots.keys()].map(async (botId) => {
        const page = await get<Page<StoredPerformance>>(
          `/api/bots/${encodeURIComponent(botId)}/performance${query({ order: 'desc', limit: 2000 })}`,
        );
        this.store.setPerf(botId, page.items);
      }),
    );
    this.render();
  }

  private render(): void {
    this.scheduleChart();
    const bots = [...this.store.bots.values()].sort((a, b) => a.botKey.localeCompare(b.botKey));
    fill(
      this.body,
      ...bots.map((bot) => {
        const perf = this.store.perf.get(bot.botKey);
        const last = perf?.[perf.length - 1];
        const roundTrips = last?.totalTrades;
        const winRate =
          roundTrips === undefined || roundTrips === 0 ? undefined : (last?.winningTrades ?? 0) / roundTrips;
        const pnlPct = bot.virtualBalance > 0 ? bot.pnl / bot.virtualBalance : undefined;
        return h(
          'tr',
          {
            'data-bot': bot.botKey,
            class: bot.botKey === this.store.selected ? 'selected' : undefined,
            onclick: () => this.store.select(bot.botKey),
          },
          h(
            'td',
            {},
            h('span', { class: `light light-${bot.status}`, 'aria-label': bot.status }),
            ' ',
            bot.botKey,
          ),
          h('td', { class: 'num' }, fmtMoney(bot.totalValue)),
          h('td', { class: 'num' }, fmtMoney(bot.cash)),
          h('td', { class: `num ${signClass(bot.pnl)}` }, `${fmtMoney(bot.pnl)} (${fmtPct(pnlPct)})`),
          h('td', { class: 'num' }, String(roundTrips ?? '–'), h('small', {}, ` / ${bot.trades} fills`)),
          h('td', { class: 'num' }, fmtPct(winRate)),
          h('td', { class: 'num' }, fmtMoney(last?.totalFees ?? bot.totalFees)),
          h('td', { class: 'num' }, fmtPct(bot.maxDrawdown)),
        );
      }),
    );
  }
}
