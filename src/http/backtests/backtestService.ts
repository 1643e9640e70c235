import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Subject, type Observable } from 'rxjs';
import { exchangesWithSymbol } from '../../../backtests/index.js';
import { packageRoot } from '../../cli/packageRoot.js';
import { InterruptedError, InvalidFieldError, NotFoundError, RxtradeError } from '../../domain/errors.js';
import { timeframeMs, type Timeframe } from '../../domain/timeframe.js';
import { DEFAULT_SIZING, riskConfigSchema, venueModelSchema } from '../../domain/trading/config.js';
import { silentLogger, type Logger } from '../../infra/logger.js';
import {
  BacktestRunStore,
  type BacktestRun,
  type BacktestRunOutcome,
  type BacktestRunRequest,
  type BacktestRunSummary,
} from '../../storage/backtestRuns.js';
import { readCandleColumns } from '../../storage/candleColumns.js';
import type { Database } from '../../storage/database.js';
import { defaultStrategyRegistry, type StrategyRegistry } from '../../strategies/registry.js';
import { parseRequest } from '../validate.js';
import type { BacktestWorkerInput, BacktestWorkerMessage } from './backtestWorker.js';
import { DEFAULT_EXCHANGE } from '../../domain/exchange.js';

/** A backtest as POST /api/backtests asks for it (already shape-checked by the route's schema). */
export interface BacktestRequest {
  readonly strategy: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly symbol: string;
  readonly exchange?: string;
  /** Timeframe of the stored candles read (default 1m, or the strategy's timeframe when given longer). */
  readonly timeframe?: Timeframe;
  readonly fromMs: number;
  readonly toMs: number;
  readonly initialBalance?: number;
  readonly risk?: Readonly<Record<string, unknown>>;
  readonly venue?: Readonly<Record<string, unknown>>;
}

export type BacktestEvent =
  | { readonly type: 'progress'; readonly id: string; readonly done: number; readonly total: number }
  | {
      readonly type: 'done';
      readonly id: string;
      readonly status: 'done' | 'failed';
      readonly error?: string;
    };

/** What the API asks of backtests. */
export interface BacktestService {
  /** Validates the request (a problem: InvalidFieldError naming the field), stores the run and starts it. */
  start(request: BacktestRequest): Promise<{ readonly id: string; readonly status: 'running' }>;
  list(limit?: number): Promise<BacktestRunSummary[]>;
  get(id: string): Promise<BacktestRun | undefined>;
  /** Progress and completion of every run. */
  readonly events$: Observable<BacktestEvent>;
  /** Runs started and not finished (queued ones included). */
  running(): number;
  /** Stops the workers; their runs are marked failed. */
  close(): Promise<void>;
}

export interface WorkerBacktestServiceOptions {
  readonly registry?: StrategyRegistry;
  /** Workers at once; more runs wait (default 2). */
  readonly maxConcurrent?: number;
  /** The compiled worker script (default: backtestWorker.js beside this module, else in dist/). */
  readonly workerUrl?: URL;
  readonly logger?: Logger;
  readonly initialBalance?: number;
}

const DEFAULT_INITIAL_BALANCE = 10_000;

/**
 * Runs backtests on stored candles in worker_threads, so a long run never blocks the API: the candles are
 * read here (async I/O) as columns and copied to a worker, which runs `runBacktest` and posts progress;
 * the outcome goes to `backtest_runs`. Strategies are the built-in registry's (a worker cannot see
 * strategies registered at run time in this thread).
 */
export class WorkerBacktestService implements BacktestService {
  private readonly store: BacktestRunStore;
  private readonly registry: StrategyRegistry;
  private readonly events = new Subject<BacktestEvent>();
  readonly events$: Observable<BacktestEvent> = this.events.asObservable();
  private readonly workers = new Set<Worker>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private pending = 0;
  private closed = false;
  private readonly logger: Logger;

  constructor(
    private readonly db: Database,
    private readonly options: WorkerBacktestServiceOptions = {},
  ) {
    this.store = new BacktestRunStore(db);
    this.registry = options.registry ?? defaultStrategyRegistry();
    this.logger = (options.logger ?? silentLogger).child({ component: 'backtests' });
  }

  running(): number {
    return this.pending;
  }

  list(limit?: number): Promise<BacktestRunSummary[]> {
    return this.store.list(limit);
  }

  get(id: string): Promise<BacktestRun | undefined> {
    return this.store.get(id);
  }

  async start(request: BacktestRequest): Promise<{ readonly id: string; readonly status: 'running' }> {
    const run = await this.validate(request);
    await this.store.create(run);
    this.pending++;
    void this.run(run).finally(() => this.pending--);
    return { id: run.id, status: 'running' };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const release of this.waiting.splice(0)) release();
    await Promise.all([...this.workers].map((w) => w.terminate()));
    this.events.complete();
  }

  private async validate(request: BacktestRequest): Promise<BacktestRunRequest> {
    const definition = this.registry.find(request.strategy);
    if (definition === undefined) {
      throw new InvalidFieldError(
        'strategy',
        `body.strategy: unknown strategy "${request.strategy}" (known: ${this.registry.names().join(', ')})`,
      );
    }
    const given = request.parameters ?? {};
    let params = parseRequest(definition.schema, given, 'body', ['parameters']) as Record<string, unknown>;
    const candleTf: Timeframe =
      request.timeframe ?? (Object.hasOwn(given, 'timeframe') ? (params.timeframe as Timeframe) : '1m');
    if (timeframeMs(params.timeframe as Timeframe) < timeframeMs(candleTf)) {
      if (Object.hasOwn(given, 'timeframe')) {
        throw new InvalidFieldError(
          'timeframe',
          `body.timeframe: ${candleTf} candles are longer than the strategy's parameters.timeframe ${String(params.timeframe)}`,
        );
      }
      params = parseRequest(definition.schema, { ...given, timeframe: candleTf }, 'body', [
        'parameters',
      ]) as Record<string, unknown>;
    }
    const risk = parseRequest(riskConfigSchema, { sizing: DEFAULT_SIZING, ...(request.risk ?? {}) }, 'body', [
      'risk',
    ]);
    const venue = parseRequest(venueModelSchema, request.venue ?? {}, 'body', ['venue']);
    if (!(request.fromMs < request.toMs)) {
      throw new InvalidFieldError('to', `body.to: must be after from (${request.fromMs} ≥ ${request.toMs})`);
    }
    const exchange = request.exchange ?? (await this.exchangeOf(request.symbol));
    const tf = timeframeMs(candleTf);
    const found = await this.db.query(
      `SELECT 1 FROM market_data WHERE exchange = $1 AND symbol = $2 AND timeframe = $3
          AND "timestamp" >= to_timestamp($4::float8 / 1000) AND "timestamp" <= to_timestamp($5::float8 / 1000)
        LIMIT 1`,
      [exchange, request.symbol, candleTf, request.fromMs + tf, request.toMs],
    );
    if (found.length === 0) {
      throw new InvalidFieldError(
        'from',
        `no stored ${candleTf} candles of ${request.symbol} on ${exchange} between from and to (GET /api/markets lists what is stored)`,
      );
    }
    return {
      id: randomUUID(),
      strategy: definition.name,
      params,
      symbol: request.symbol,
      exchange,
      timeframe: candleTf,
      fromMs: request.fromMs,
      toMs: request.toMs,
      initialBalance: request.initialBalance ?? this.options.initialBalance ?? DEFAULT_INITIAL_BALANCE,
      risk,
      venue,
    };
  }

  private async exchangeOf(symbol: string): Promise<string> {
    const exchanges = await exchangesWithSymbol(this.db, symbol);
    if (exchanges.length === 0) {
      throw new InvalidFieldError('symbol', `body.symbol: no stored candles of ${symbol}`);
    }
    return exchanges.includes(DEFAULT_EXCHANGE) ? DEFAULT_EXCHANGE : (exchanges[0] as string);
  }

  private async run(run: BacktestRunRequest): Promise<void> {
    await this.slot();
    try {
      if (this.closed) throw new InterruptedError('the server stopped before the run started');
      const tf = timeframeMs(run.timeframe as Timeframe);
      const cols = await readCandleColumns(this.db, {
        symbol: run.symbol,
        timeframe: run.timeframe as Timeframe,
        exchange: run.exchange,
        fromMs: run.fromMs + tf,
        toMs: run.toMs + 1,
      });
      const input: BacktestWorkerInput = {
        strategy: run.strategy,
        parameters: run.params,
        symbol: run.symbol,
        timeframe: run.timeframe as Timeframe,
        risk: run.risk as BacktestWorkerInput['risk'],
        venue: run.venue as BacktestWorkerInput['venue'],
        initialCash: run.initialBalance,
        closeTimeMs: cols.closeTimeMs,
        open: cols.open,
        high: cols.high,
        low: cols.low,
        close: cols.close,
        volume: cols.volume,
        tradesCount: cols.tradesCount,
      };
      const outcome = await this.inWorker(run.id, input);
      await this.store.finish(run.id, outcome);
      this.events.next({ type: 'done', id: run.id, status: 'done' });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.logger.warn({ id: run.id, err }, 'backtest failed');
      await this.store.fail(run.id, message).catch(() => undefined);
      this.events.next({ type: 'done', id: run.id, status: 'failed', error: message });
    } finally {
      this.release();
    }
  }

  private inWorker(id: string, input: BacktestWorkerInput): Promise<BacktestRunOutcome> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.workerUrl(), { workerData: input });
      this.workers.add(worker);
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        this.workers.delete(worker);
        fn();
      };
      worker.on('message', (m: BacktestWorkerMessage) => {
        if (m.type === 'progress') this.events.next({ type: 'progress', id, done: m.done, total: m.total });
        else if (m.type === 'result') settle(() => resolve(m.outcome));
        else settle(() => reject(new BacktestFailed(m.message)));
      });
      worker.on('error', (err) => settle(() => reject(err)));
      worker.on('exit', (code) =>
        settle(() => reject(new BacktestFailed(`the backtest worker stopped (exit code ${code})`))),
      );
    });
  }

  private workerUrl(): URL {
    if (this.options.workerUrl !== undefined) return this.options.workerUrl;
    const beside = new URL('./backtestWorker.js', import.meta.url);
    if (existsSync(fileURLToPath(beside))) return beside;
    // Running from the TypeScript sources (tests): the compiled worker in dist/ (`npm run build`).
    const built = join(packageRoot(), 'dist', 'src', 'http', 'backtests', 'backtestWorker.js');
    if (!existsSync(built))
      throw new NotFoundError(`the backtest worker ${built} is not built: run npm run build`);
    return new URL(`file://${built}`);
  }

  private async slot(): Promise<void> {
    const max = this.options.maxConcurrent ?? 2;
    if (this.active < max || this.closed) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}

/** A run that could not finish: its message is stored as the run's error. */
class BacktestFailed extends RxtradeError {
  constructor(message: string) {
    super('backtest_failed', message);
    this.name = 'BacktestFailed';
  }
}
