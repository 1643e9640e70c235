import { InvalidDataError } from '../domain/errors.js';
import type { SchedulerLike } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { isTimeframe } from '../domain/timeframe.js';
import type { Trade } from '../domain/trade.js';
import type { Logger } from '../infra/logger.js';
import { CandleStore } from '../storage/candleStore.js';
import type { Database } from '../storage/database.js';
import { RawTradeStore } from '../storage/rawTradeStore.js';
import { BatchWriter } from './batchWriter.js';
import { DEFAULT_EXCHANGE } from '../domain/exchange.js';

export interface StoreSinkOptions {
  /** The `exchange` column ("okx", or "okx-sim" for data from the simulator). */
  readonly exchange?: string;
  /** Append-only file for items beyond the in-memory bound during a database outage. */
  readonly spillPath?: string;
  /** Append-only file for the items the database refuses (with the reason), see BatchWriter. */
  readonly deadLetterPath?: string;
  readonly maxQueued?: number;
  readonly maxBatch?: number;
  readonly lingerMs?: number;
  readonly retry?: { readonly baseMs?: number; readonly maxMs?: number };
  readonly scheduler?: SchedulerLike;
  readonly logger?: Logger;
}

/**
 * Closed candles → `market_data`, batched (COPY into staging + upsert, so replays change nothing and a
 * revised candle updates its row), in order, surviving database outages and refused candles (see
 * BatchWriter).
 */
export function candleSink(db: Database, options: StoreSinkOptions = {}): BatchWriter<Candle> {
  const store = new CandleStore(db, options.exchange ?? DEFAULT_EXCHANGE);
  return new BatchWriter<Candle>({
    ...options,
    name: 'candles',
    write: (candles) => store.upsert(candles),
    fromJson: candleFromJson,
  });
}

/** Trades as received → `raw_trades` (optional: `--raw-trades`), idempotent, with the same outage handling. */
export function rawTradeSink(db: Database, options: StoreSinkOptions = {}): BatchWriter<Trade> {
  const store = new RawTradeStore(db, options.exchange ?? DEFAULT_EXCHANGE);
  return new BatchWriter<Trade>({
    maxBatch: 5000,
    ...options,
    name: 'raw trades',
    write: (trades) => store.insert(trades),
    fromJson: tradeFromJson,
  });
}

function candleFromJson(json: unknown): Candle {
  const c = json as Partial<Candle>;
  const numbers = [c.closeTimeMs, c.open, c.high, c.low, c.close, c.volume, c.tradesCount, c.revision];
  if (
    typeof c.symbol !== 'string' ||
    typeof c.timeframe !== 'string' ||
    !isTimeframe(c.timeframe) ||
    numbers.some((n) => typeof n !== 'number' || !Number.isFinite(n))
  ) {
    throw new InvalidDataError(`not a candle: ${JSON.stringify(json).slice(0, 200)}`);
  }
  return { ...(c as Candle), closed: true };
}

function tradeFromJson(json: unknown): Trade {
  const t = json as Partial<Trade>;
  if (
    typeof t.symbol !== 'string' ||
    typeof t.tradeId !== 'string' ||
    typeof t.tsMs !== 'number' ||
    typeof t.price !== 'number' ||
    typeof t.size !== 'number'
  ) {
    throw new InvalidDataError(`not a trade: ${JSON.stringify(json).slice(0, 200)}`);
  }
  return t as Trade;
}
