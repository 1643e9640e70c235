import type { Queryable } from './database.js';

export type BacktestRunStatus = 'running' | 'done' | 'failed';

/** What a backtest run was asked to do. */
export interface BacktestRunRequest {
  readonly id: string;
  readonly strategy: string;
  /** The strategy's parameters after validation (defaults filled in). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly symbol: string;
  readonly exchange: string;
  /** Timeframe of the candles read. */
  readonly timeframe: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly initialBalance: number;
  readonly risk: unknown;
  readonly venue: unknown;
}

/** One fill of a run, as charts mark it. */
export interface BacktestRunFill {
  readonly tMs: number;
  readonly side: 'buy' | 'sell';
  readonly price: number;
  readonly qty: number;
}

/** What a finished run left behind. */
export interface BacktestRunOutcome {
  readonly candles: number;
  /** src/domain/metrics.ts's metrics with snake_case keys (null where undefined). */
  readonly metrics: Readonly<Record<string, number | null>>;
  readonly trades: readonly unknown[];
  /** `[closeTimeMs, equity]` per candle of the strategy's timeframe. */
  readonly equity: readonly (readonly [number, number])[];
  readonly fills: readonly BacktestRunFill[];
  readonly warnings: readonly string[];
}

/** A run that finished elsewhere (an optimizer's combination): its request and what it measured. */
export interface FinishedBacktestRun extends BacktestRunRequest {
  readonly candles: number;
  readonly metrics: Readonly<Record<string, number | null>>;
  readonly warnings: readonly string[];
}

/** A run as listed (no series). */
export interface BacktestRunSummary extends BacktestRunRequest {
  readonly status: BacktestRunStatus;
  readonly error?: string;
  readonly candles?: number;
  readonly metrics?: Readonly<Record<string, number | null>>;
  readonly createdAtMs: number;
  readonly finishedAtMs?: number;
}

/** A run with its series (empty while running or after a failure). */
export interface BacktestRun extends BacktestRunSummary {
  readonly trades: readonly unknown[];
  readonly equity: readonly (readonly [number, number])[];
  readonly fills: readonly BacktestRunFill[];
  readonly warnings: readonly string[];
}

const MS = (column: string): string => `(extract(epoch from ${column}) * 1000)::bigint`;

const SUMMARY_COLUMNS = `id, strategy, params, symbol, exchange, timeframe, from_ms, to_ms, initial_balance, risk,
  venue, status, error, candles, metrics, ${MS('created_at')} AS created_ms, ${MS('finished_at')} AS finished_ms`;

interface SummaryRow {
  id: string;
  strategy: string;
  params: Record<string, unknown>;
  symbol: string;
  exchange: string;
  timeframe: string;
  from_ms: number | string;
  to_ms: number | string;
  initial_balance: string;
  risk: unknown;
  venue: unknown;
  status: BacktestRunStatus;
  error: string | null;
  candles: number | null;
  metrics: Record<string, number | null> | null;
  created_ms: number | string;
  finished_ms: number | string | null;
}

interface RunRow extends SummaryRow {
  trades: unknown[] | null;
  equity: [number, number][] | null;
  fills: BacktestRunFill[] | null;
  warnings: string[] | null;
}

/**
 * Backtest runs in `backtest_runs` (migration 006): created `running`, then finished `done` with their
 * outcome or `failed` with the reason. Series are stored as JSON and read back whole.
 */
export class BacktestRunStore {
  constructor(private readonly db: Queryable) {}

  async create(run: BacktestRunRequest): Promise<void> {
    await this.db.query(
      `INSERT INTO backtest_runs (id, strategy, params, symbol, exchange, timeframe, from_ms, to_ms,
                                  initial_balance, risk, venue, status)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, 'running')`,
      [
        run.id,
        run.strategy,
        JSON.stringify(run.params),
        run.symbol,
        run.exchange,
        run.timeframe,
        run.fromMs,
        run.toMs,
        run.initialBalance,
        JSON.stringify(run.risk),
        JSON.stringify(run.venue),
      ],
    );
  }

  async finish(id: string, outcome: BacktestRunOutcome): Promise<void> {
    await this.db.query(
      `UPDATE backtest_runs
          SET status = 'done', candles = $2, metrics = $3::jsonb, trades = $4::jsonb, equity = $5::jsonb,
              fills = $6::jsonb, warnings = $7::jsonb, finished_at = now()
        WHERE id = $1`,
      [
        id,
        outcome.candles,
        JSON.stringify(outcome.metrics),
        JSON.stringify(outcome.trades),
        JSON.stringify(outcome.equity),
        JSON.stringify(outcome.fills),
        JSON.stringify(outcome.warnings),
      ],
    );
  }

  /**
   * Stores runs that already finished, `done`, in one statement (an optimizer's hundreds of combinations):
   * their metrics and warnings, no series (an optimizer keeps none; they read back as empty).
   */
  async saveFinished(runs: readonly FinishedBacktestRun[]): Promise<void> {
    if (runs.length === 0) return;
    const rows = runs.map((r) => ({
      id: r.id,
      strategy: r.strategy,
      params: r.params,
      symbol: r.symbol,
      exchange: r.exchange,
      timeframe: r.timeframe,
      from_ms: r.fromMs,
      to_ms: r.toMs,
      initial_balance: r.initialBalance,
      risk: r.risk,
      venue: r.venue,
      candles: r.candles,
      metrics: r.metrics,
      warnings: r.warnings,
    }));
    await this.db.query(
      `INSERT INTO backtest_runs (id, strategy, params, symbol, exchange, timeframe, from_ms, to_ms,
                                  initial_balance, risk, venue, status, candles, metrics, warnings, finished_at)
       SELECT id, strategy, params, symbol, exchange, timeframe, from_ms, to_ms, initial_balance, risk, venue,
              'done', candles, metrics, warnings, now()
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, strategy text, params jsonb, symbol text,
              exchange text, timeframe text, from_ms bigint, to_ms bigint, initial_balance numeric,
              risk jsonb, venue jsonb, candles integer, metrics jsonb, warnings jsonb)`,
      [JSON.stringify(rows)],
    );
  }

  async fail(id: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE backtest_runs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`,
      [id, error],
    );
  }

  /**
   * Marks runs still `running` as failed: called when an instance starts, since a run's worker dies with
   * the process that ran it. Returns how many were marked.
   */
  async failRunning(error: string): Promise<number> {
    const rows = await this.db.query(
      `UPDATE backtest_runs SET status = 'failed', error = $1, finished_at = now()
        WHERE status = 'running' RETURNING id`,
      [error],
    );
    return rows.length;
  }

  /** The newest runs first, at most `limit`. */
  async list(limit = 100): Promise<BacktestRunSummary[]> {
    const rows = await this.db.query<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM backtest_runs ORDER BY created_at DESC, id LIMIT $1`,
      [limit],
    );
    return rows.map(summary);
  }

  async get(id: string): Promise<BacktestRun | undefined> {
    const rows = await this.db.query<RunRow>(
      `SELECT ${SUMMARY_COLUMNS}, trades, equity, fills, warnings FROM backtest_runs WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    return {
      ...summary(r),
      trades: r.trades ?? [],
      equity: r.equity ?? [],
      fills: r.fills ?? [],
      warnings: r.warnings ?? [],
    };
  }
}

function summary(r: SummaryRow): BacktestRunSummary {
  return {
    id: r.id,
    strategy: r.strategy,
    params: r.params,
    symbol: r.symbol,
    exchange: r.exchange,
    timeframe: r.timeframe,
    fromMs: Number(r.from_ms),
    toMs: Number(r.to_ms),
    initialBalance: Number(r.initial_balance),
    risk: r.risk,
    venue: r.venue,
    status: r.status,
    ...(r.error !== null ? { error: r.error } : {}),
    ...(r.candles !== null ? { candles: r.candles } : {}),
    ...(r.metrics !== null ? { metrics: r.metrics } : {}),
    createdAtMs: Number(r.created_ms),
    ...(r.finished_ms !== null ? { finishedAtMs: Number(r.finished_ms) } : {}),
  };
}
