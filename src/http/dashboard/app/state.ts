/// <reference lib="dom" />
import type { BotView, PerformanceMessage, StoredPerformance } from './types.js';

export interface PerfPoint {
  readonly tMs: number;
  readonly totalValue: number;
  readonly cash: number;
  readonly cryptoValue: number;
  readonly totalTrades: number;
  readonly winningTrades: number;
  readonly totalFees: number;
}

const MAX_PERF_POINTS = 5000;

/**
 * What the views share: the bots (as the API last answered, updated by pushed status and performance),
 * each bot's account history, and the selected bot. Views listen for `bots` and `select` events.
 */
export class Store extends EventTarget {
  readonly bots = new Map<string, BotView>();
  readonly perf = new Map<string, PerfPoint[]>();
  selected: string | undefined;

  setBots(bots: readonly BotView[]): void {
    this.bots.clear();
    for (const bot of bots) this.bots.set(bot.botKey, bot);
    if (this.selected === undefined || !this.bots.has(this.selected)) this.selected = bots[0]?.botKey;
    this.dispatchEvent(new Event('bots'));
    this.dispatchEvent(new Event('select'));
  }

  putBot(bot: BotView): void {
    this.bots.set(bot.botKey, bot);
    this.dispatchEvent(new Event('bots'));
  }

  patchBot(botId: string, patch: Partial<BotView>): void {
    const bot = this.bots.get(botId);
    if (bot === undefined) return;
    this.bots.set(botId, { ...bot, ...patch });
    this.dispatchEvent(new Event('bots'));
  }

  select(botId: string): void {
    if (this.selected === botId || !this.bots.has(botId)) return;
    this.selected = botId;
    this.dispatchEvent(new Event('select'));
  }

  setPerf(botId: string, rows: readonly StoredPerformance[]): void {
    this.perf.set(
      botId,
      rows.map((r) => ({ ...r, tMs: r.timeMs })).sort((a, b) => a.tMs - b.tMs),
    );
  }

  /** Adds a pushed account update (a repeat or an older one is dropped); false when dropped. */
  addPerf(message: PerformanceMessage): boolean {
    const rows = this.perf.get(message.botId) ?? [];
    const last = rows[rows.length - 1];
    if (last !== undefined && message.tsMs <= last.tMs) return false;
    rows.push({ ...message, tMs: message.tsMs });
    if (rows.length > MAX_PERF_POINTS) rows.splice(0, rows.length - MAX_PERF_POINTS);
    this.perf.set(message.botId, rows);
    const bot = this.bots.get(message.botId);
    if (bot !== undefined) {
      this.patchBot(message.botId, {
        totalValue: message.totalValue,
        cash: message.cash,
        pnl: message.totalValue - bot.virtualBalance,
        winningTrades: message.winningTrades,
        totalFees: message.totalFees,
        maxDrawdown: Math.max(bot.maxDrawdown, drawdownAt(rows)),
        lastCandleMs: message.tsMs,
      });
    }
    return true;
  }
}

/** Fall of the last value from the highest before it, a fraction. */
function drawdownAt(rows: readonly PerfPoint[]): number {
  let peak = -Infinity;
  for (const r of rows) peak = Math.max(peak, r.totalValue);
  const last = rows[rows.length - 1];
  return last === undefined || peak <= 0 ? 0 : Math.max(0, 1 - last.totalValue / peak);
}
