import type { Candle } from '../domain/candle.js';
import { MINUTE_MS } from '../domain/timeframe.js';
import type { Logger } from '../infra/logger.js';
import type { ScannerConfig } from './config.js';
import type { MarketTicker, ScanExchange } from './exchange.js';
import { universeChanges } from './filters.js';
import type { MarketData } from './marketData.js';
import { PositionManager, type Opportunity } from './positions.js';
import type { PartialExitRow, PositionRow, ScannerStore, SnapshotRow } from './store.js';
import { returnCorrelation, SymbolState } from './symbolState.js';
import { evaluateUniverse } from './universe.js';

/** How long a symbol without its newest candle holds the others back. */
const STRAGGLER_MS = 2 * MINUTE_MS;

/** What a scan found, for whoever prints it (the CLI). All optional. */
export interface ScannerEvents {
  universe?(e: { timeMs: number; size: number; entered: string[]; left: string[] }): void;
  opportunity?(o: Opportunity, decision: string): void;
  position?(p: PositionRow): void;
  exit?(e: PartialExitRow): void;
}

export interface ScannerOptions {
  readonly exchange: ScanExchange;
  readonly store: ScannerStore;
  readonly config: ScannerConfig;
  readonly logger: Logger;
  readonly marketData?: MarketData;
  readonly events?: ScannerEvents;
}

/**
 * The market scanner: keeps the universe (re-evaluated every `reevaluate_minutes`), reads each tracked
 * symbol's new closed 1m candles on every `step`, scores them (SymbolMomentum), records opportunities and
 * snapshots, and hands candles and opportunities to the PositionManager. Candles of all symbols are taken
 * in time order (close time, then symbol), so positions see one market clock.
 */
export class Scanner {
  private config: ScannerConfig;
  private readonly states = new Map<string, SymbolState>();
  private universe = new Set<string>();
  private tickers = new Map<string, MarketTicker>();
  private nextEvaluationMs = Number.NEGATIVE_INFINITY;
  private lastMinuteMs = Number.NEGATIVE_INFINITY;
  readonly positions: PositionManager;
  /** Counters for the CLI summary and the bench. */
  readonly counts = { candles: 0, opportunities: 0, snapshots: 0, evaluations: 0 };

  constructor(private readonly options: ScannerOptions) {
    this.config = options.config;
    this.positions = new PositionManager(options.config.risk_management);
  }

  get universeSymbols(): readonly string[] {
    return [...this.universe].sort();
  }

  /** A new configuration: risk rules at once; filters and indicators from a new evaluation (next step). */
  applyConfig(config: ScannerConfig): void {
    const before = JSON.stringify(this.config.momentum_strategy);
    this.config = config;
    this.positions.reconfigure(config.risk_management);
    if (JSON.stringify(config.momentum_strategy) !== before) this.states.clear();
    this.nextEvaluationMs = Number.NEGATIVE_INFINITY;
  }

  /** One scan at `nowMs`: the universe when due, then every tracked symbol's new candles. */
  async step(nowMs: number, signal?: AbortSignal): Promise<void> {
    if (nowMs >= this.nextEvaluationMs) await this.evaluate(nowMs, signal);
    const candles: Candle[] = [];
    // The newest minute every symbol has reached: a minute is taken once all symbols have its candle
    // (one answering late holds the others back at most STRAGGLER_MS), so snapshots and positions see
    // whole minutes.
    let horizon = Number.POSITIVE_INFINITY;
    for (const [symbol, state] of this.states) {
      const missing = Number.isFinite(state.lastCloseMs)
        ? Math.ceil((nowMs - state.lastCloseMs) / MINUTE_MS)
        : this.config.application.warmup_candles;
      let newest = state.lastCloseMs;
      if (missing >= 1) {
        for (const c of await this.options.exchange.candles(
          symbol,
          Math.min(300, missing + 1),
          nowMs,
          signal,
        )) {
          if (c.closeTimeMs > state.lastCloseMs && c.closeTimeMs <= nowMs) {
            candles.push(c);
            newest = Math.max(newest, c.closeTimeMs);
          }
        }
      }
      horizon = Math.min(horizon, newest);
    }
    horizon = Math.max(horizon, nowMs - STRAGGLER_MS);
    this.options.logger.debug({ nowMs, horizon, candles: candles.length }, 'scan step');
    await this.process(
      candles.filter((c) => c.closeTimeMs <= horizon),
      true,
      signal,
    );
  }

  /** Candles of any symbols, in any order; `live` false warms indicators up without trading on them. */
  async process(candles: Candle[], live: boolean, signal?: AbortSignal): Promise<void> {
    candles.sort((a, b) => a.closeTimeMs - b.closeTimeMs || (a.symbol < b.symbol ? -1 : 1));
    const opportunities: Opportunity[] = [];
    let i = 0;
    while (i < candles.length) {
      const minute = (candles[i] as Candle).closeTimeMs;
      for (; i < candles.length && (candles[i] as Candle).closeTimeMs === minute; i++) {
        const c = candles[i] as Candle;
        const state = this.states.get(c.symbol);
        if (state === undefined) continue;
        const result = state.update(c);
        if (result === undefined) continue;
        this.counts.candles++;
        if (!live) continue;
        this.positions.onCandle(c);
        const m = this.config.momentum_strategy;
        if (!this.universe.has(c.symbol) || !result.warm || result.score < m.min_score) continue;
        const o: Opportunity = {
          symbol: c.symbol,
          timeMs: c.closeTimeMs,
          price: c.close,
          score: result.score,
          indicators: result.values,
        };
        opportunities.push(o);
        const d = this.positions.onOpportunity(o);
        const decision =
          d === undefined ? 'none' : d.kind === 'order' ? `order ${d.id}` : `denied: ${d.message}`;
        this.options.events?.opportunity?.(o, decision);
      }
      if (live && minute > this.lastMinuteMs) {
        this.lastMinuteMs = minute;
        this.positions.onMinute(minute);
        const every = this.config.application.snapshot_interval_minutes * MINUTE_MS;
        if (minute % every === 0) await this.snapshot(minute, signal);
      }
    }
    if (!live) return;
    const store = this.options.store;
    if (opportunities.length > 0) {
      await store.recordOpportunities(opportunities);
      this.counts.opportunities += opportunities.length;
    }
    const { positions, exits } = this.positions.drain();
    if (positions.length > 0) await store.savePositions(positions);
    if (exits.length > 0) await store.recordPartialExits(exits);
    for (const p of positions) this.options.events?.position?.(p);
    for (const e of exits) this.options.events?.exit?.(e);
    if (candles.length > 0) await store.saveRunMetrics(this.positions.metrics());
  }

  private async evaluate(nowMs: number, signal?: AbortSignal): Promise<void> {
    const cfg = this.config;
    const { logger, exchange, store, marketData } = this.options;
    const result = await evaluateUniverse(exchange, cfg, this.states, marketData, nowMs, signal);
    const { entered, left } = universeChanges(this.universe, result.included);
    const enteredSet = new Set(entered);
    const leftSet = new Set(left);
    const rows = result.rows.map((r) =>
      enteredSet.has(r.symbol)
        ? { ...r, change: 'entered' as const }
        : leftSet.has(r.symbol)
          ? { ...r, change: 'left' as const }
          : r,
    );
    await store.recordUniverse(nowMs, rows);
    this.universe = result.included;
    this.tickers = result.tickers;
    this.counts.evaluations++;
    for (const s of entered) logger.info({ symbol: s }, `universe: ${s} entered`);
    for (const s of left)
      logger.info({ symbol: s, reason: rows.find((r) => r.symbol === s)?.reason }, `universe: ${s} left`);
    // Track the universe, open positions and the reference symbol; drop the rest.
    const keep = new Set([...this.universe, cfg.application.reference_symbol]);
    for (const symbol of this.states.keys()) {
      if (!keep.has(symbol) && !this.positions.holds(symbol)) this.states.delete(symbol);
    }
    const warm: Candle[] = [];
    for (const symbol of keep) {
      if (this.states.has(symbol) || !this.tickers.has(symbol)) continue;
      this.states.set(symbol, new SymbolState(symbol, cfg));
      warm.push(
        ...(result.warmup.get(symbol) ??
          (await exchange.candles(symbol, cfg.application.warmup_candles, nowMs, signal))),
      );
    }
    await this.process(warm, false, signal);
    exchange.track?.([...this.states.keys()]);
    this.nextEvaluationMs = nowMs + cfg.filtering.reevaluate_minutes * MINUTE_MS;
    this.options.events?.universe?.({ timeMs: nowMs, size: this.universe.size, entered, left });
  }

  private async snapshot(minute: number, signal?: AbortSignal): Promise<void> {
    const ref = this.states.get(this.config.application.reference_symbol);
    const rows: SnapshotRow[] = [];
    for (const symbol of this.universe) {
      const state = this.states.get(symbol);
      const c = state?.lastCandle;
      if (state === undefined || c === undefined || c.closeTimeMs !== minute) continue;
      const book = await this.options.exchange.book(symbol, signal);
      const volume24h = this.tickers.get(symbol)?.volume24h;
      const corr = ref === undefined ? undefined : returnCorrelation(state.returns, ref.returns);
      rows.push({
        symbol,
        timeMs: minute,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
        indicators: { ...state.last?.values, score: state.last?.score },
        ...(volume24h === undefined ? {} : { volume24h }),
        ...(corr === undefined ? {} : { btcCorrelation: corr }),
        ...(book === undefined ? {} : { book }),
      });
    }
    if (rows.length > 0) await this.options.store.recordSnapshots(rows);
    this.counts.snapshots += rows.length;
  }
}
