import type { Queryable } from '../storage/database.js';
import type { ScannerConfig } from './config.js';

/** One universe evaluation of a symbol. */
export interface UniverseRow {
  readonly symbol: string;
  readonly included: boolean;
  readonly change?: 'entered' | 'left';
  readonly reason?: string;
  readonly volume24h: number;
  readonly spreadPct: number;
  readonly volatilityPct?: number;
  readonly historyCandles?: number;
}

export interface OpportunityRow {
  readonly symbol: string;
  /** Close time of the 1m candle it was found on. */
  readonly timeMs: number;
  readonly price: number;
  readonly score: number;
  readonly indicators: Readonly<Record<string, number | undefined>>;
}

export interface SnapshotRow {
  readonly symbol: string;
  readonly timeMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly volume24h?: number;
  readonly btcCorrelation?: number;
  readonly indicators: Readonly<Record<string, number | undefined>>;
  /** Top 5 levels each side, `[price, size]`. */
  readonly book?: {
    readonly bids: readonly (readonly [number, number])[];
    readonly asks: readonly (readonly [number, number])[];
  };
}

export interface PositionRow {
  readonly positionId: number;
  readonly symbol: string;
  readonly opportunityTimeMs: number;
  readonly status: 'pending' | 'open' | 'closed';
  readonly openedAtMs?: number;
  readonly entryPrice?: number;
  readonly qty?: number;
  readonly closedAtMs?: number;
  readonly pnl: number;
}

export interface PartialExitRow {
  readonly positionId: number;
  readonly symbol: string;
  readonly timeMs: number;
  readonly price: number;
  readonly qty: number;
  /** Share of the quantity first entered that this exit closed, percent. */
  readonly percentage: number;
  readonly pnl: number;
  readonly purpose: string;
  readonly trailingActive: boolean;
}

export interface RunMetricsRow {
  readonly trades: number;
  readonly winRate: number;
  readonly avgProfit: number;
  readonly avgLoss: number;
  readonly profitFactor: number;
  readonly maxDrawdown: number;
  readonly sharpe: number;
  readonly totalPnl: number;
  readonly metrics: Readonly<Record<string, number | null>>;
}

/** A finite number or SQL NULL (NaN and ±∞ have no place in a double precision column here). */
const num = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);
const ts = (ms: number | undefined): Date | null => (ms === undefined ? null : new Date(ms));
/** JSON without the undefined and non-finite values. */
const cleanJson = (o: Readonly<Record<string, number | undefined>>): string =>
  JSON.stringify(
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && Number.isFinite(v))),
  );

/**
 * Writes one scanner run's rows (tables of migration 007). Rows of one call go in one statement; every
 * row carries the run id.
 */
export class ScannerStore {
  constructor(
    private readonly db: Queryable,
    readonly runId: string,
    readonly exchange: string,
  ) {}

  async startRun(): Promise<void> {
    await this.db.query('INSERT INTO scanner_runs (run_id, exchange) VALUES ($1, $2)', [
      this.runId,
      this.exchange,
    ]);
  }

  async finishRun(): Promise<void> {
    await this.db.query('UPDATE scanner_runs SET finished_at = now() WHERE run_id = $1', [this.runId]);
  }

  async recordConfig(version: number, source: string, config: ScannerConfig): Promise<void> {
    await this.db.query(
      'INSERT INTO scanner_config_history (run_id, version, source, config) VALUES ($1, $2, $3, $4)',
      [this.runId, version, source, JSON.stringify(config)],
    );
  }

  async recordUniverse(timeMs: number, rows: readonly UniverseRow[]): Promise<void> {
    await this.insert(
      'scanner_universe',
      [
        'run_id',
        'exchange',
        'symbol',
        'evaluated_at',
        'included',
        'change',
        'reason',
        'volume_24h',
        'spread_pct',
        'volatility_pct',
        'history_candles',
      ],
      rows.map((r) => [
        this.runId,
        this.exchange,
        r.symbol,
        new Date(timeMs),
        r.included,
        r.change ?? null,
        r.reason ?? null,
        num(r.volume24h),
        num(r.spreadPct),
        num(r.volatilityPct),
        r.historyCandles ?? null,
      ]),
    );
  }

  async recordOpportunities(rows: readonly OpportunityRow[]): Promise<void> {
    await this.insert(
      'scanner_opportunities',
      ['run_id', 'exchange', 'symbol', 'time', 'price', 'score', 'indicators'],
      rows.map((r) => [
        this.runId,
        this.exchange,
        r.symbol,
        new Date(r.timeMs),
        r.price,
        r.score,
        cleanJson(r.indicators),
      ]),
    );
  }

  async recordSnapshots(rows: readonly SnapshotRow[]): Promise<void> {
    await this.insert(
      'scanner_snapshots',
      [
        'run_id',
        'exchange',
        'symbol',
        'time',
        'open',
        'high',
        'low',
        'close',
        'volume',
        'volume_24h',
        'btc_correlation',
        'indicators',
        'book',
      ],
      rows.map((r) => [
        this.runId,
        this.exchange,
        r.symbol,
        new Date(r.timeMs),
        r.open,
        r.high,
        r.low,
        r.close,
        r.volume,
        num(r.volume24h),
        num(r.btcCorrelation),
        cleanJson(r.indicators),
        r.book === undefined ? null : JSON.stringify(r.book),
      ]),
    );
  }

  async savePositions(rows: readonly PositionRow[]): Promise<void> {
    for (const r of rows) {
      await this.db.query(
        `INSERT INTO scanner_positions (run_id, position_id, symbol, opportunity_time, opened_at, entry_price, qty, closed_at, pnl, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (run_id, position_id) DO UPDATE SET opened_at = EXCLUDED.opened_at, entry_price = EXCLUDED.entry_price,
           qty = EXCLUDED.qty, closed_at = EXCLUDED.closed_at, pnl = EXCLUDED.pnl, status = EXCLUDED.status`,
        [
          this.runId,
          r.positionId,
          r.symbol,
          new Date(r.opportunityTimeMs),
          ts(r.openedAtMs),
          num(r.entryPrice),
          num(r.qty),
          ts(r.closedAtMs),
          r.pnl,
          r.status,
        ],
      );
    }
  }

  async recordPartialExits(rows: readonly PartialExitRow[]): Promise<void> {
    await this.insert(
      'scanner_partial_exits',
      [
        'run_id',
        'position_id',
        'symbol',
        'time',
        'price',
        'qty',
        'percentage',
        'pnl',
        'purpose',
        'trailing_active',
      ],
      rows.map((r) => [
        this.runId,
        r.positionId,
        r.symbol,
        new Date(r.timeMs),
        r.price,
        r.qty,
        r.percentage,
        r.pnl,
        r.purpose,
        r.trailingActive,
      ]),
    );
  }

  async saveRunMetrics(m: RunMetricsRow): Promise<void> {
    await this.db.query(
      `INSERT INTO scanner_run_metrics (run_id, updated_at, trades, win_rate, avg_profit, avg_loss, profit_factor, max_drawdown, sharpe, total_pnl, metrics)
       VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (run_id) DO UPDATE SET updated_at = now(), trades = EXCLUDED.trades, win_rate = EXCLUDED.win_rate,
         avg_profit = EXCLUDED.avg_profit, avg_loss = EXCLUDED.avg_loss, profit_factor = EXCLUDED.profit_factor,
         max_drawdown = EXCLUDED.max_drawdown, sharpe = EXCLUDED.sharpe, total_pnl = EXCLUDED.total_pnl, metrics = EXCLUDED.metrics`,
      [
        this.runId,
        m.trades,
        num(m.winRate),
        num(m.avgProfit),
        num(m.avgLoss),
        num(m.profitFactor),
        num(m.maxDrawdown),
        num(m.sharpe),
        m.totalPnl,
        JSON.stringify(m.metrics),
      ],
    );
  }

  /** One multi-row INSERT (chunks of 500 rows: Postgres allows 65,535 parameters). */
  private async insert(table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const params: unknown[] = [];
      const tuples = chunk.map((row) => {
        const marks = row.map((v) => {
          params.push(v);
          return `$${params.length}`;
        });
        return `(${marks.join(', ')})`;
      });
      await this.db.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
    }
  }
}
