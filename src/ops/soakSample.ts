import type { Collector } from '../app/collector.js';
import type { BotControl } from '../bots/botControl.js';
import type { Queryable } from '../storage/database.js';
import type { SoakSample } from './soakChecks.js';
import { memoryAfterGc, openHandles, type LoopDelayMonitor } from './soakProbe.js';

/** The tables whose rows a sample counts. */
export const SOAK_TABLES = ['market_data', 'trades', 'signals', 'bot_performance', 'positions'] as const;

/** What the dashboard and a client ask a running instance: each must answer 200. */
const API_PATHS = ['/api/health', '/api/bots', '/'] as const;

export interface SampleContext {
  readonly hour: number;
  readonly wallSec: number;
  readonly gc: () => void;
  readonly loop: LoopDelayMonitor;
  readonly db: Queryable;
  readonly bots: BotControl;
  readonly apiUrl: string;
  readonly collector: Collector;
}

/** One row of the soak's table: memory after GC, handles, event-loop delay, rows, bots, and the API answering. */
export async function takeSample(c: SampleContext): Promise<SoakSample> {
  const loop = c.loop.take();
  const rows: Record<string, number> = {};
  for (const table of SOAK_TABLES) {
    const [row] = await c.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    rows[table] = Number(row?.n ?? 0);
  }
  const bots = (await c.bots.list()).map((b) => ({
    botKey: b.botKey,
    status: b.status,
    ...(b.statusMessage !== undefined ? { statusMessage: b.statusMessage } : {}),
    cash: b.cash,
    totalValue: b.totalValue,
    trades: b.trades,
  }));
  const apiProblem = await askApi(c.apiUrl);
  const f = c.collector.stats();
  const feed = {
    trades: f.trades,
    lateTrades: f.lateTrades,
    candles: f.candles,
    stored: f.candleSink.written,
    queued: f.candleSink.queued,
    spillPending: f.candleSink.spillPending,
    reconnects: f.health?.reconnects ?? 0,
  };
  // Memory last: what the queries above allocated is garbage by now.
  const memory = memoryAfterGc(c.gc);
  const handles = openHandles();
  return {
    hour: c.hour,
    wallSec: c.wallSec,
    memory,
    handles: handles.total,
    handleTypes: handles.byType,
    loop,
    rows,
    bots,
    apiOk: apiProblem === undefined,
    ...(apiProblem !== undefined ? { apiProblem } : {}),
    feed,
  };
}

/** Undefined when every path answered 200, else what went wrong. */
async function askApi(baseUrl: string): Promise<string | undefined> {
  for (const path of API_PATHS) {
    try {
      const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status !== 200) return `GET ${path} answered ${res.status}`;
    } catch (err) {
      return `GET ${path} failed: ${describe(err)}`;
    }
  }
  return undefined;
}

/** An error with its cause (fetch's "fetch failed" says what failed only there: a reset socket, a refusal…). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause === undefined) return err.message;
  const code = (cause as { code?: unknown }).code;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return `${err.message} (${typeof code === 'string' ? `${code}: ` : ''}${detail})`;
}
