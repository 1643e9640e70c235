import { botConfigDocument, type BotConfig } from '../bots/botConfig.js';
import { RxtradeError, UsageError } from '../domain/errors.js';
import type { Database, Queryable } from './database.js';
import {
  BOT_STATUSES,
  type BotCandleRecord,
  type BotStatus,
  type BotSummary,
  type ConfigReason,
  type PageOptions,
  type RecordCandleResult,
  type RecordCandlesResult,
  type StoredBot,
  type StoredConfig,
  type StoredFill,
  type StoredPerformance,
  type StoredSignal,
  type BotPositionRecord,
} from './botRecords.js';

export * from './botRecords.js';

/** A bot key no row has. */
export class UnknownBotError extends RxtradeError {
  constructor(botKey: string) {
    super('not_found', `no bot "${botKey}" in the database`);
    this.name = 'UnknownBotError';
  }
}

/** Restarts kept per bot in `bots.restarts` (the supervisor only needs the last hour's). */
const MAX_RESTARTS = 100;
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

/** `timestamptz` → epoch ms, exactly (extract gives numeric). */
const MS = (column: string): string => `(extract(epoch from ${column}) * 1000)::bigint`;
/** Epoch ms (a bigint parameter or column) → timestamptz. */
const TS = (ms: string): string => `to_timestamp(${ms}::double precision / 1000)`;

/**
 * Bots and what they do, in `bots`, `signals`, `trades`, `positions`, `bot_performance` and
 * `config_history`. A bot is known by its key, the config's `bot_id` (stored in `bots.name`).
 *
 * `recordCandle` is the hot path: everything one candle leaves behind in ONE statement (so one round trip
 * and atomic without BEGIN/COMMIT), skipped as a whole when the bot already recorded that candle, and
 * with fills keyed by (bot, epoch, fill seq) so a replay never writes a fill twice. `recordCandles` does
 * the same for many bots in one statement and one commit.
 */
export class BotStore {
  constructor(private readonly db: Database) {}

  /**
   * Creates the bot's row, or updates its configuration (strategy, symbol, timeframe, config, virtual
   * balance) keeping its status, cash, engine state and history. A new bot starts `inactive` with
   * `virtual_balance` as cash. Returns `bots.id`.
   */
  async upsertBot(config: BotConfig, q: Queryable = this.db): Promise<number> {
    const rows = await q.query<{ id: number }>(
      `INSERT INTO bots (name, strategy_name, symbol, timeframe, config_file, config, config_hash,
                         virtual_balance, current_balance, total_value)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $8, $8)
       ON CONFLICT (name) DO UPDATE
          SET strategy_name = EXCLUDED.strategy_name, symbol = EXCLUDED.symbol, timeframe = EXCLUDED.timeframe,
              config_file = EXCLUDED.config_file, config = EXCLUDED.config, config_hash = EXCLUDED.config_hash,
              virtual_balance = EXCLUDED.virtual_balance, updated_at = now()
       RETURNING id`,
      [
        config.botId,
        config.strategyName,
        config.symbol,
        config.timeframe,
        config.source,
        JSON.stringify(botConfigDocument(config)),
        config.contentHash,
        config.virtualBalance,
      ],
    );
    return Number(rows[0]?.id);
  }

  /**
   * `upsertBot` and, when the configuration is new or its content hash differs from the one applied last,
   * a `config_history` row with `reason` — in one transaction. Applying an unchanged file again (a restart)
   * adds no history.
   */
  async applyConfig(
    config: BotConfig,
    reason: ConfigReason,
  ): Promise<{ readonly id: number; readonly changed: boolean }> {
    return this.db.transaction(async (tx) => {
      const before = await tx.query<{ config_hash: string | null }>(
        'SELECT config_hash FROM bots WHERE name = $1 FOR UPDATE',
        [config.botId],
      );
      const id = await this.upsertBot(config, tx);
      const changed = before.length === 0 || before[0]?.config_hash !== config.contentHash;
      if (changed) await this.insertConfig(tx, id, config, reason);
      return { id, changed };
    });
  }

  /** Appends a configuration to the bot's `config_history` (always, unlike applyConfig). */
  async recordConfig(botKey: string, config: BotConfig, reason: ConfigReason): Promise<void> {
    const id = await this.idOf(botKey);
    await this.insertConfig(this.db, id, config, reason);
  }

  /** Sets the status (and its message: why it is in `error`, what paused it…; cleared when absent). */
  async setStatus(botKey: string, status: BotStatus, message?: string): Promise<void> {
    if (!BOT_STATUSES.includes(status)) {
      throw new UsageError(`bot status must be one of ${BOT_STATUSES.join(', ')}, got "${status}"`);
    }
    const rows = await this.db.query(
      `UPDATE bots SET status = $2, status_message = $3, updated_at = now() WHERE name = $1 RETURNING id`,
      [botKey, status, message ?? null],
    );
    if (rows.length === 0) throw new UnknownBotError(botKey);
  }

  /**
   * Writes what processing the candle closing at `step.closeTimeMs` left behind, atomically: the signal
   * rows, the fills (a fill already stored — same bot, epoch and seq — is skipped), the open positions
   * (replacing the stored ones), one bot_performance row, and on the bot's row the engine snapshot, cash
   * (`current_balance`), total value, `last_candle_ms` and `last_heartbeat`. When the bot already recorded
   * a candle closing at or after this one, nothing at all is written (`recorded: false`). One statement:
   * one round trip, no BEGIN/COMMIT.
   */
  async recordCandle(botKey: string, step: BotCandleRecord): Promise<RecordCandleResult> {
    const [result] = await this.recordBatch([{ botKey, step }]);
    if (result === undefined) throw new UnknownBotError(botKey);
    return { recorded: result.recorded, fillsWritten: result.fillsWritten };
  }

  /**
   * `recordCandle` for many records in ONE statement and one commit: what a candle close of many bots should
   * use, as a commit costs far more than the rows, and what a bot whose records queued up (the database was
   * slower than its candles for a while) uses to write its backlog at once. A bot may appear several times,
   * its records in close-time order: they are written as if one after the other (only those newer than its
   * last recorded candle; its row and positions end as the newest one leaves them). Each bot's records are
   * all-or-nothing: if the batch fails (one bot's bad row, a constraint), each bot's records are retried on
   * their own, so one bot's failure stays its own: its results carry the error, the others are written.
   * Results are in the order given.
   */
  async recordCandles(
    items: readonly { readonly botKey: string; readonly step: BotCandleRecord }[],
  ): Promise<RecordCandlesResult[]> {
    if (items.length === 0) return [];
    let results: Map<number, RecordCandleResult>;
    try {
      results = new Map((await this.recordBatch(items)).map((r) => [r.index, r]));
    } catch (err) {
      const keys = [...new Set(items.map((i) => i.botKey))];
      if (keys.length === 1) {
        return items.map(({ botKey }) => ({ botKey, recorded: false, fillsWritten: 0, error: err }));
      }
      const out: RecordCandlesResult[] = new Array<RecordCandlesResult>(items.length);
      await Promise.all(
        keys.map(async (key) => {
          const at = items.flatMap((item, i) => (item.botKey === key ? [i] : []));
          const own = await this.recordCandles(at.map((i) => items[i] as (typeof items)[number]));
          at.forEach((i, k) => (out[i] = own[k] as RecordCandlesResult));
        }),
      );
      return out;
    }
    return items.map(({ botKey }, i) => {
      const r = results.get(i);
      return r !== undefined
        ? { botKey, recorded: r.recorded, fillsWritten: r.fillsWritten }
        : { botKey, recorded: false, fillsWritten: 0, error: new UnknownBotError(botKey) };
    });
  }

  /**
   * One statement for the batch: per item (by its index), whether its record was written and how many of
   * its fills; an item whose bot key has no bot row is absent.
   */
  private async recordBatch(
    items: readonly { readonly botKey: string; readonly step: BotCandleRecord }[],
  ): Promise<(RecordCandleResult & { readonly index: number })[]> {
    const rows = await this.db.query<{
      ord: number;
      recorded: boolean;
      fills: number | string;
    }>(RECORD_CANDLES_SQL, [JSON.stringify(items.map(({ botKey, step }, i) => recordJson(i, botKey, step)))]);
    return rows.map((r) => ({ index: Number(r.ord), recorded: r.recorded, fillsWritten: Number(r.fills) }));
  }

  /**
   * Starts the bot over (`reset: true`): a new epoch, cash and total value back to `virtual_balance`, no
   * engine state, no positions. Its history stays (older epochs); `last_candle_ms` stays too, so candles
   * already processed are not recorded again.
   */
  async resetBot(botKey: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: number }>(
        `UPDATE bots SET epoch = epoch + 1, engine_state = NULL, current_balance = virtual_balance,
                total_value = virtual_balance, updated_at = now()
          WHERE name = $1 RETURNING id`,
        [botKey],
      );
      if (rows.length === 0) throw new UnknownBotError(botKey);
      await tx.query('DELETE FROM positions WHERE bot_id = $1', [rows[0]?.id]);
    });
  }

  /** Appends a restart (time and error) to `bots.restarts`, keeping the last 100. */
  async recordRestart(botKey: string, atMs: number, error: string): Promise<void> {
    const rows = await this.db.query(
      `UPDATE bots
          SET restarts = (CASE WHEN jsonb_array_length(restarts) >= ${MAX_RESTARTS}
                               THEN restarts - 0 ELSE restarts END)
                         || jsonb_build_array(jsonb_build_object('at_ms', $2::bigint, 'error', $3::text)),
              updated_at = now()
        WHERE name = $1 RETURNING id`,
      [botKey, atMs, error],
    );
    if (rows.length === 0) throw new UnknownBotError(botKey);
  }

  /** The bot's row, or undefined when there is none. */
  async loadBot(botKey: string): Promise<StoredBot | undefined> {
    const rows = await this.db.query<BotRow>(
      `SELECT id, name, status, status_message, strategy_name, symbol, timeframe, config_file, config,
              config_hash, virtual_balance, current_balance, total_value, engine_state, last_candle_ms,
              ${MS('last_heartbeat')} AS heartbeat_ms, epoch, restarts
         FROM bots WHERE name = $1`,
      [botKey],
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    return {
      id: Number(r.id),
      botKey: r.name,
      status: r.status,
      ...opt('statusMessage', r.status_message),
      strategyName: r.strategy_name,
      symbol: r.symbol,
      timeframe: r.timeframe,
      ...opt('configFile', r.config_file),
      config: r.config,
      ...opt('configHash', r.config_hash),
      virtualBalance: Number(r.virtual_balance),
      cash: Number(r.current_balance),
      totalValue: Number(r.total_value ?? r.current_balance),
      engineState: r.engine_state ?? undefined,
      ...opt('lastCandleMs', num(r.last_candle_ms)),
      ...opt('lastHeartbeatMs', num(r.heartbeat_ms)),
      epoch: r.epoch,
      restarts: (r.restarts ?? []).map((x) => ({ atMs: Number(x.at_ms), error: x.error })),
    };
  }

  /** Every bot with its status, cash, total value, P&L and number of fills (this epoch), by key. */
  async listBots(): Promise<BotSummary[]> {
    const rows = await this.db.query<{
      name: string;
      status: BotStatus;
      status_message: string | null;
      strategy_name: string;
      symbol: string;
      timeframe: string;
      virtual_balance: string;
      current_balance: string;
      total_value: string | null;
      trades: number | string;
      last_candle_ms: number | string | null;
      heartbeat_ms: number | string | null;
    }>(
      `SELECT b.name, b.status, b.status_message, b.strategy_name, b.symbol, b.timeframe, b.virtual_balance,
              b.current_balance, b.total_value, b.last_candle_ms, ${MS('b.last_heartbeat')} AS heartbeat_ms,
              (SELECT count(*) FROM trades t WHERE t.bot_id = b.id AND t.epoch = b.epoch) AS trades
         FROM bots b ORDER BY b.name`,
    );
    return rows.map((r) => {
      const totalValue = Number(r.total_value ?? r.current_balance);
      const virtualBalance = Number(r.virtual_balance);
      return {
        botKey: r.name,
        status: r.status,
        ...opt('statusMessage', r.status_message),
        strategyName: r.strategy_name,
        symbol: r.symbol,
        timeframe: r.timeframe,
        virtualBalance,
        cash: Number(r.current_balance),
        totalValue,
        pnl: totalValue - virtualBalance,
        trades: Number(r.trades),
        ...opt('lastCandleMs', num(r.last_candle_ms)),
        ...opt('lastHeartbeatMs', num(r.heartbeat_ms)),
      };
    });
  }

  /**
   * Per bot (by key): winning trades and fees of its latest bot_performance row, and the largest
   * peak-to-trough fall of its total value over its rows (a fraction; 0 without any).
   */
  async performanceStats(): Promise<
    Map<string, { readonly winningTrades: number; readonly totalFees: number; readonly maxDrawdown: number }>
  > {
    const rows = await this.db.query<{
      name: string;
      winning_trades: number | null;
      total_fees: string | null;
      max_drawdown: number | string | null;
    }>(
      `SELECT b.name,
              (SELECT p.winning_trades FROM bot_performance p WHERE p.bot_id = b.id
                ORDER BY p."timestamp" DESC, p.id DESC LIMIT 1) AS winning_trades,
              (SELECT p.total_fees FROM bot_performance p WHERE p.bot_id = b.id
                ORDER BY p."timestamp" DESC, p.id DESC LIMIT 1) AS total_fees,
              (SELECT max(CASE WHEN d.peak > 0 THEN 1 - d.total_value / d.peak ELSE 0 END)::double precision
                 FROM (SELECT p.total_value, max(p.total_value) OVER (ORDER BY p."timestamp", p.id) AS peak
                         FROM bot_performance p WHERE p.bot_id = b.id) d) AS max_drawdown
         FROM bots b`,
    );
    return new Map(
      rows.map((r) => [
        r.name,
        {
          winningTrades: Number(r.winning_trades ?? 0),
          totalFees: Number(r.total_fees ?? 0),
          maxDrawdown: Number(r.max_drawdown ?? 0),
        },
      ]),
    );
  }

  /** The bot's signals, by time. */
  async signals(botKey: string, page: PageOptions = {}): Promise<StoredSignal[]> {
    const rows = await this.page<{
      id: number | string;
      ms: number | string;
      signal_type: StoredSignal['action'];
      price: string | null;
      confidence: number | null;
      reason: string | null;
      indicators: Record<string, number | undefined> | null;
    }>('signals', 'signal_type, price, confidence, reason, indicators', botKey, page);
    return rows.map((r) => ({
      id: Number(r.id),
      closeTimeMs: Number(r.ms),
      action: r.signal_type,
      price: Number(r.price),
      confidence: Number(r.confidence),
      reason: r.reason ?? '',
      indicators: r.indicators ?? {},
    }));
  }

  /** The bot's fills (every epoch), by time. */
  async trades(botKey: string, page: PageOptions = {}): Promise<StoredFill[]> {
    const rows = await this.page<TradeRow>(
      'trades',
      `epoch, fill_seq, order_id, signal_id, side, price, quantity, fees, pnl, balance_after, order_type,
       purpose, liquidity, reason`,
      botKey,
      page,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      epoch: r.epoch,
      seq: Number(r.fill_seq),
      orderId: Number(r.order_id),
      ...opt('signalId', num(r.signal_id)),
      timeMs: Number(r.ms),
      side: r.side,
      price: Number(r.price),
      qty: Number(r.quantity),
      fee: Number(r.fees),
      ...opt('pnl', num(r.pnl)),
      balanceAfter: Number(r.balance_after),
      ...opt('orderType', r.order_type ?? undefined),
      ...opt('purpose', r.purpose ?? undefined),
      ...opt('liquidity', r.liquidity ?? undefined),
      ...opt('reason', r.reason ?? undefined),
    }));
  }

  /** The bot's bot_performance rows (one per candle), by time. */
  async performance(botKey: string, page: PageOptions = {}): Promise<StoredPerformance[]> {
    const rows = await this.page<{
      id: number | string;
      ms: number | string;
      total_value: string;
      cash_balance: string;
      crypto_balance: string;
      total_trades: number;
      winning_trades: number;
      total_fees: string;
    }>(
      'bot_performance',
      'total_value, cash_balance, crypto_balance, total_trades, winning_trades, total_fees',
      botKey,
      page,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      timeMs: Number(r.ms),
      totalValue: Number(r.total_value),
      cash: Number(r.cash_balance),
      cryptoValue: Number(r.crypto_balance),
      totalTrades: r.total_trades,
      winningTrades: r.winning_trades,
      totalFees: Number(r.total_fees),
    }));
  }

  /** The bot's open positions as last recorded. */
  async positions(botKey: string): Promise<BotPositionRecord[]> {
    const rows = await this.db.query<{
      symbol: string;
      side: BotPositionRecord['side'];
      quantity: string;
      avg_entry: string;
      entry_ms: number | string;
      entry_fees: string;
      last_price: string | null;
      stop_loss: string | null;
      take_profit: unknown;
      trailing_stop: unknown;
    }>(
      `SELECT p.symbol, p.side, p.quantity, p.avg_entry, ${MS('p.opened_at')} AS entry_ms, p.entry_fees,
              p.last_price, p.stop_loss, p.take_profit, p.trailing_stop
         FROM positions p JOIN bots b ON b.id = p.bot_id
        WHERE b.name = $1 ORDER BY p.symbol`,
      [botKey],
    );
    return rows.map((r) => ({
      symbol: r.symbol,
      side: r.side,
      qty: Number(r.quantity),
      avgEntryPrice: Number(r.avg_entry),
      entryTimeMs: Number(r.entry_ms),
      entryFees: Number(r.entry_fees),
      ...opt('lastPrice', num(r.last_price)),
      ...opt('stopLoss', num(r.stop_loss)),
      ...opt('takeProfit', r.take_profit ?? undefined),
      ...opt('trailingStop', r.trailing_stop ?? undefined),
    }));
  }

  /** The configurations applied to the bot, newest first. */
  async configHistory(botKey: string, limit = 100): Promise<StoredConfig[]> {
    const rows = await this.db.query<{
      id: number | string;
      ms: number | string;
      config: unknown;
      source_file: string | null;
      content_hash: string | null;
      reason: StoredConfig['reason'];
    }>(
      `SELECT h.id, ${MS('h.applied_at')} AS ms, h.config, h.source_file, h.content_hash, h.reason
         FROM config_history h JOIN bots b ON b.id = h.bot_id
        WHERE b.name = $1 ORDER BY h.applied_at DESC, h.id DESC LIMIT $2`,
      [botKey, pageLimit(limit)],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      appliedAtMs: Number(r.ms),
      config: r.config,
      ...opt('sourceFile', r.source_file),
      ...opt('contentHash', r.content_hash),
      reason: r.reason,
    }));
  }

  private async insertConfig(
    q: Queryable,
    id: number,
    config: BotConfig,
    reason: ConfigReason,
  ): Promise<void> {
    await q.query(
      `INSERT INTO config_history (bot_id, config, source_file, content_hash, reason)
       VALUES ($1, $2::jsonb, $3, $4, $5)`,
      [id, JSON.stringify(botConfigDocument(config)), config.source, config.contentHash, reason],
    );
  }

  private async idOf(botKey: string): Promise<number> {
    const rows = await this.db.query<{ id: number }>('SELECT id FROM bots WHERE name = $1', [botKey]);
    if (rows[0] === undefined) throw new UnknownBotError(botKey);
    return Number(rows[0].id);
  }

  /** One page of a per-bot, time-stamped table, on its (bot_id, timestamp) index. */
  private async page<R>(
    table: string,
    columns: string,
    botKey: string,
    page: PageOptions,
  ): Promise<(R & { id: number | string; ms: number | string })[]> {
    const desc = page.order === 'desc';
    const params: unknown[] = [botKey, pageLimit(page.limit)];
    const where = ['x.bot_id = b.id'];
    if (page.fromMs !== undefined) where.push(`x."timestamp" >= ${TS(`$${params.push(page.fromMs)}`)}`);
    if (page.toMs !== undefined) where.push(`x."timestamp" < ${TS(`$${params.push(page.toMs)}`)}`);
    if (page.after !== undefined) {
      const t = `$${params.push(page.after.timeMs)}`;
      const id = `$${params.push(page.after.id)}`;
      where.push(`(x."timestamp", x.id) ${desc ? '<' : '>'} (${TS(t)}, ${id}::bigint)`);
    }
    const dir = desc ? 'DESC' : 'ASC';
    return this.db.query(
      `SELECT x.id, ${MS('x."timestamp"')} AS ms, ${columns
        .split(',')
        .map((c) => `x.${c.trim()}`)
        .join(', ')}
         FROM ${table} x JOIN bots b ON b.name = $1
        WHERE ${where.join(' AND ')}
        ORDER BY x."timestamp" ${dir}, x.id ${dir}
        LIMIT $2`,
      params,
    );
  }
}

/**
 * recordCandle(s) in one statement. Data-modifying CTEs all run, on one snapshot, atomically. `fresh` are
 * the records newer than their bot's last recorded candle (a replay writes nothing); `b`, the bot rows
 * updated to their newest fresh record (`latest`) — only if no newer candle was recorded meanwhile — and
 * every insert hangs off `b` (through `written`). The records travel as one JSON array (one parameter, any
 * size), unpacked by jsonb_to_recordset. Positions are the newest record's: those not held any more are
 * deleted and the others upserted, two disjoint sets of rows, as one statement may not delete and
 * re-insert the same key. A fill finds its signal among the rows inserted by this statement (`sig`, which
 * the other CTEs see only through its RETURNING) or stored before.
 */
const RECORD_CANDLES_SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS i(ord integer, bot_key text, close_time_ms bigint, engine_state jsonb, cash numeric, total_value numeric,
              crypto_value numeric, total_trades integer, winning_trades integer, total_fees numeric,
              signals jsonb, fills jsonb, positions jsonb)
), prev AS (
  SELECT bots.id, bots.name, bots.epoch, bots.last_candle_ms FROM bots WHERE bots.name IN (SELECT bot_key FROM input)
), fresh AS (
  SELECT p.id, p.epoch, i.*
    FROM input i JOIN prev p ON p.name = i.bot_key
   WHERE p.last_candle_ms IS NULL OR p.last_candle_ms < i.close_time_ms
), latest AS (
  SELECT DISTINCT ON (id) * FROM fresh ORDER BY id, close_time_ms DESC
), b AS (
  UPDATE bots
     SET engine_state = l.engine_state, last_candle_ms = l.close_time_ms, current_balance = l.cash,
         total_value = l.total_value, last_heartbeat = now(), updated_at = now()
    FROM latest l
   WHERE bots.id = l.id AND (bots.last_candle_ms IS NULL OR bots.last_candle_ms < l.close_time_ms)
  RETURNING bots.id
), written AS (
  SELECT f.* FROM fresh f WHERE f.id IN (SELECT id FROM b)
), sig AS (
  INSERT INTO signals (bot_id, "timestamp", signal_type, price, confidence, reason, indicators)
  SELECT w.id, ${TS('s.close_time_ms')}, s.action, s.price, s.confidence, s.reason, s.indicators
    FROM written w, jsonb_to_recordset(w.signals)
         AS s(close_time_ms bigint, action text, price numeric, confidence double precision, reason text, indicators jsonb)
  RETURNING id, bot_id, "timestamp"
), fills AS (
  INSERT INTO trades (bot_id, epoch, fill_seq, order_id, signal_id, "timestamp", side, price, quantity, fees, pnl,
                      balance_after, order_type, purpose, liquidity, reason)
  SELECT w.id, w.epoch, f.seq, f.order_id,
         COALESCE(
           (SELECT max(sg.id) FROM sig sg
             WHERE sg.bot_id = w.id AND sg."timestamp" = ${TS('f.signal_time_ms')}),
           (SELECT s.id FROM signals s
             WHERE s.bot_id = w.id AND s."timestamp" = ${TS('f.signal_time_ms')}
             ORDER BY s.id DESC LIMIT 1)),
         ${TS('f.time_ms')}, f.side, f.price, f.qty, f.fee, f.pnl, f.balance_after, f.order_type, f.purpose,
         f.liquidity, f.reason
    FROM written w, jsonb_to_recordset(w.fills)
         AS f(seq bigint, order_id bigint, signal_time_ms bigint, time_ms bigint, side text, price numeric, qty numeric,
              fee numeric, pnl numeric, balance_after numeric, order_type text, purpose text, liquidity text, reason text)
  ON CONFLICT (bot_id, epoch, fill_seq) DO NOTHING
  RETURNING bot_id, fill_seq
), gone AS (
  DELETE FROM positions p USING latest l
   WHERE p.bot_id = l.id AND l.id IN (SELECT id FROM b)
     AND p.symbol NOT IN (SELECT e->>'symbol' FROM jsonb_array_elements(l.positions) e)
  RETURNING 1
), pos AS (
  INSERT INTO positions (bot_id, symbol, side, quantity, avg_entry, opened_at, entry_fees, last_price, stop_loss,
                         take_profit, trailing_stop, updated_at)
  SELECT l.id, p.symbol, p.side, p.qty, p.avg_entry, ${TS('p.entry_time_ms')}, p.entry_fees, p.last_price,
         p.stop_loss, p.take_profit, p.trailing_stop, now()
    FROM latest l, jsonb_to_recordset(l.positions)
         AS p(symbol text, side text, qty numeric, avg_entry numeric, entry_time_ms bigint, entry_fees numeric,
              last_price numeric, stop_loss numeric, take_profit jsonb, trailing_stop jsonb)
   WHERE l.id IN (SELECT id FROM b)
  ON CONFLICT (bot_id, symbol) DO UPDATE
     SET side = EXCLUDED.side, quantity = EXCLUDED.quantity, avg_entry = EXCLUDED.avg_entry,
         opened_at = EXCLUDED.opened_at, entry_fees = EXCLUDED.entry_fees, last_price = EXCLUDED.last_price,
         stop_loss = EXCLUDED.stop_loss, take_profit = EXCLUDED.take_profit,
         trailing_stop = EXCLUDED.trailing_stop, updated_at = now()
  RETURNING 1
), perf AS (
  INSERT INTO bot_performance (bot_id, "timestamp", total_value, cash_balance, crypto_balance, total_trades,
                               winning_trades, total_fees)
  SELECT w.id, ${TS('w.close_time_ms')}, w.total_value, w.cash, w.crypto_value, w.total_trades, w.winning_trades,
         w.total_fees
    FROM written w
  RETURNING 1
)
SELECT i.ord, (w.id IS NOT NULL) AS recorded,
       (SELECT count(*) FROM fills
         WHERE fills.bot_id = w.id
           AND fills.fill_seq IN (SELECT (e->>'seq')::bigint FROM jsonb_array_elements(w.fills) e)) AS fills
  FROM input i
  LEFT JOIN written w ON w.ord = i.ord
 WHERE w.id IS NOT NULL OR EXISTS (SELECT 1 FROM prev p WHERE p.name = i.bot_key)`;

function recordJson(ord: number, botKey: string, step: BotCandleRecord): object {
  const p = step.performance;
  return {
    ord,
    bot_key: botKey,
    close_time_ms: step.closeTimeMs,
    engine_state: step.engineState ?? null,
    cash: p.cash,
    total_value: p.totalValue,
    crypto_value: p.cryptoValue,
    total_trades: p.totalTrades,
    winning_trades: p.winningTrades,
    total_fees: p.totalFees,
    signals: step.signals.map(signalJson),
    fills: step.fills.map(fillJson),
    positions: step.positions.map(positionJson),
  };
}

function signalJson(s: BotCandleRecord['signals'][number]): object {
  return {
    close_time_ms: s.closeTimeMs,
    action: s.action,
    price: finite(s.price),
    confidence: finite(s.confidence),
    reason: s.reason,
    indicators: s.indicators,
  };
}

function fillJson(f: BotCandleRecord['fills'][number]): object {
  return {
    seq: f.seq,
    order_id: f.orderId,
    signal_time_ms: f.signalTimeMs ?? null,
    time_ms: f.timeMs,
    side: f.side,
    price: f.price,
    qty: f.qty,
    fee: f.fee,
    pnl: f.pnl ?? null,
    balance_after: f.balanceAfter,
    order_type: f.orderType ?? null,
    purpose: f.purpose ?? null,
    liquidity: f.liquidity ?? null,
    reason: f.reason ?? null,
  };
}

function positionJson(p: BotPositionRecord): object {
  return {
    symbol: p.symbol,
    side: p.side,
    qty: p.qty,
    avg_entry: p.avgEntryPrice,
    entry_time_ms: p.entryTimeMs,
    entry_fees: p.entryFees ?? 0,
    last_price: p.lastPrice ?? null,
    stop_loss: p.stopLoss ?? null,
    take_profit: p.takeProfit ?? null,
    trailing_stop: p.trailingStop ?? null,
  };
}

interface BotRow {
  id: number;
  name: string;
  status: BotStatus;
  status_message: string | null;
  strategy_name: string;
  symbol: string;
  timeframe: string;
  config_file: string | null;
  config: unknown;
  config_hash: string | null;
  virtual_balance: string;
  current_balance: string;
  total_value: string | null;
  engine_state: unknown;
  last_candle_ms: number | string | null;
  heartbeat_ms: number | string | null;
  epoch: number;
  restarts: { at_ms: number; error: string }[] | null;
}

interface TradeRow {
  id: number | string;
  ms: number | string;
  epoch: number;
  fill_seq: number | string;
  order_id: number | string;
  signal_id: number | string | null;
  side: StoredFill['side'];
  price: string;
  quantity: string;
  fees: string;
  pnl: string | null;
  balance_after: string;
  order_type: StoredFill['orderType'] | null;
  purpose: StoredFill['purpose'] | null;
  liquidity: StoredFill['liquidity'] | null;
  reason: string | null;
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`limit must be a whole number ≥ 1, got ${limit}`);
  return Math.min(limit, MAX_PAGE);
}

function num(v: number | string | null | undefined): number | undefined {
  return v === null || v === undefined ? undefined : Number(v);
}

/** NaN and ±Infinity as null (JSON has no such numbers; the columns allow null). */
function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** `{ [key]: value }` when value is neither undefined nor null, else `{}` (exactOptionalPropertyTypes). */
function opt<K extends string, V>(key: K, value: V | null | undefined): { [k in K]?: V } {
  return value === null || value === undefined ? {} : ({ [key]: value } as { [k in K]?: V });
}
