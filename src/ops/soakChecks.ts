import type { Candle } from '../domain/candle.js';
import { MINUTE_MS } from '../domain/timeframe.js';
import type { Queryable } from '../storage/database.js';
import type { LoopDelay, MemorySample } from './soakProbe.js';

/** One bot at a sample: its status and money. */
export interface BotBalance {
  readonly botKey: string;
  readonly status: string;
  readonly statusMessage?: string;
  readonly cash: number;
  readonly totalValue: number;
  readonly trades: number;
}

/** What the soak measures at the end of each simulated hour. */
export interface SoakSample {
  /** Simulated hours since the start (1, 2, … ; the last may be a fraction). */
  readonly hour: number;
  readonly wallSec: number;
  readonly memory: MemorySample;
  readonly handles: number;
  readonly handleTypes: Readonly<Record<string, number>>;
  readonly loop: LoopDelay;
  /** Rows per table (market_data, trades, signals, bot_performance, positions). */
  readonly rows: Readonly<Record<string, number>>;
  readonly bots: readonly BotBalance[];
  /** Every API request of the sample answered 200 (health, bots, the dashboard's page). */
  readonly apiOk: boolean;
  readonly apiProblem?: string;
  /** The collector so far: where its trades and candles are (counts since the start). */
  readonly feed: FeedSample;
}

export interface FeedSample {
  readonly trades: number;
  readonly lateTrades: number;
  /** Candles emitted (every timeframe, revisions included), stored, waiting in memory, waiting in the spill file. */
  readonly candles: number;
  readonly stored: number;
  readonly queued: number;
  readonly spillPending: number;
  readonly reconnects: number;
}

/** Per symbol: the stored 1m candles of the run, and where the minute-by-minute sequence breaks. */
export interface MinuteAudit {
  readonly symbol: string;
  readonly rows: number;
  readonly firstMs?: number;
  readonly lastMs?: number;
  /** Close times missing between the first and the last stored 1m candle (the first 10). */
  readonly missing: readonly number[];
  readonly missingCount: number;
  /** Close times stored more than once (the first 10). */
  readonly duplicated: readonly number[];
}

/** The 1m candles stored for `exchange` since `fromMs`, checked minute by minute. */
export async function auditMinuteCandles(
  db: Queryable,
  exchange: string,
  symbols: readonly string[],
  fromMs: number,
): Promise<MinuteAudit[]> {
  const out: MinuteAudit[] = [];
  for (const symbol of symbols) {
    const rows = await db.query<{ ms: number; n: number }>(
      `SELECT (extract(epoch from "timestamp") * 1000)::bigint AS ms, count(*)::int AS n FROM market_data
       WHERE exchange = $1 AND symbol = $2 AND timeframe = '1m' AND "timestamp" >= to_timestamp($3 / 1000.0)
       GROUP BY 1 ORDER BY 1`,
      [exchange, symbol, fromMs],
    );
    const times = rows.map((r) => Number(r.ms));
    const missing: number[] = [];
    let missingCount = 0;
    for (let i = 1; i < times.length; i++) {
      for (let t = (times[i - 1] as number) + MINUTE_MS; t < (times[i] as number); t += MINUTE_MS) {
        missingCount += 1;
        if (missing.length < 10) missing.push(t);
      }
    }
    out.push({
      symbol,
      rows: rows.reduce((n, r) => n + Number(r.n), 0),
      ...(times.length > 0 ? { firstMs: times[0], lastMs: times[times.length - 1] } : {}),
      missing,
      missingCount,
      duplicated: rows
        .filter((r) => Number(r.n) > 1)
        .slice(0, 10)
        .map((r) => Number(r.ms)),
    });
  }
  return out;
}

/**
 * What the bots are fed: the first emission (`revision` 0) of each closed 1m candle of a symbol, which must
 * come once per minute, in order. Counts what repeats and what the stream skipped.
 */
export class MinuteStreamAudit {
  private readonly last = new Map<string, number>();
  private readonly counts = new Map<string, { repeated: number; skipped: number; candles: number }>();

  note(c: Candle): void {
    if (c.timeframe !== '1m' || !c.closed || c.revision !== 0) return;
    const counts = this.counts.get(c.symbol) ?? { repeated: 0, skipped: 0, candles: 0 };
    this.counts.set(c.symbol, counts);
    counts.candles += 1;
    const last = this.last.get(c.symbol);
    if (last !== undefined && c.closeTimeMs <= last) {
      counts.repeated += 1;
      return;
    }
    if (last !== undefined) counts.skipped += (c.closeTimeMs - last) / MINUTE_MS - 1;
    this.last.set(c.symbol, c.closeTimeMs);
  }

  result(): Readonly<Record<string, { repeated: number; skipped: number; candles: number }>> {
    return Object.fromEntries(this.counts);
  }
}

export interface SoakEvidence {
  readonly samples: readonly SoakSample[];
  readonly minutes: readonly MinuteAudit[];
  readonly stream: Readonly<Record<string, { repeated: number; skipped: number; candles: number }>>;
  /** Simulated minutes the run lasted: every symbol must have about that many 1m candles. */
  readonly simulatedMinutes: number;
  readonly unhandledRejections: readonly string[];
  /**
   * Minutes at the end of the run that may lack their candle: the last minutes are closed by the clock a
   * grace after they end, later still on a busy machine. Default 3.
   */
  readonly edgeMinutes?: number;
  /** Allowed heap growth after the first simulated hour, a fraction. Default 0.1. */
  readonly growthLimit?: number;
}

/** Why the soak fails: one line per broken rule, empty when it passes. */
export function soakFailures(e: SoakEvidence): string[] {
  const failures: string[] = [];
  const limit = e.growthLimit ?? 0.1;
  const growth = heapGrowth(e.samples);
  if (growth !== undefined && growth.fraction > limit) {
    failures.push(
      `memory: the heap after GC grew ${(growth.fraction * 100).toFixed(1)} % after the first simulated hour ` +
        `(${growth.baselineMb} MB at hour 1, at least ${growth.floorMb} MB from hour ${growth.fromHour} on; limit ${limit * 100} %)`,
    );
  }
  for (const m of e.minutes) {
    if (m.missingCount > 0) {
      failures.push(
        `candles: ${m.symbol} misses ${m.missingCount} 1m candle${m.missingCount === 1 ? '' : 's'} in the database, ` +
          `first ${m.missing.map((t) => new Date(t).toISOString()).join(', ')}`,
      );
    }
    if (m.duplicated.length > 0) {
      failures.push(
        `candles: ${m.symbol} has 1m candles stored twice at ${m.duplicated.map((t) => new Date(t).toISOString()).join(', ')}`,
      );
    }
    if (m.rows < e.simulatedMinutes - (e.edgeMinutes ?? 3)) {
      failures.push(
        `candles: ${m.symbol} has ${m.rows} 1m candles for ${Math.floor(e.simulatedMinutes)} simulated minutes: the feed fell behind`,
      );
    }
  }
  for (const [symbol, s] of Object.entries(e.stream)) {
    if (s.repeated > 0)
      failures.push(`candles: ${symbol}: ${s.repeated} closed 1m candles were given to the bots twice`);
    if (s.skipped > 0) failures.push(`candles: ${symbol}: the bots' 1m stream skipped ${s.skipped} minutes`);
  }
  const errored = new Map<string, string>();
  for (const s of e.samples) {
    for (const b of s.bots) {
      if (b.status === 'error' && !errored.has(b.botKey))
        errored.set(b.botKey, `hour ${s.hour}: ${b.statusMessage ?? 'no message'}`);
    }
    if (!s.apiOk) failures.push(`api: at hour ${s.hour}: ${s.apiProblem ?? 'did not answer'}`);
  }
  for (const [bot, why] of errored) failures.push(`bots: ${bot} in error (${why})`);
  for (const r of e.unhandledRejections) failures.push(`unhandled rejection: ${r}`);
  return failures;
}

/**
 * How much the heap after GC grew after the first simulated hour: the sample at hour 1 against the lowest
 * sample of the last quarter of the run (at least the last one). A leak raises that floor; a backlog being
 * worked off (candles queued while the database caught up, a burst of late trades) only raises single
 * samples. Undefined when no sample follows hour 1.
 */
export function heapGrowth(
  samples: readonly SoakSample[],
): { fraction: number; baselineMb: number; floorMb: number; fromHour: number } | undefined {
  const i = samples.findIndex((s) => s.hour >= 1);
  const baseline = samples[i];
  const later = samples.slice(i + 1);
  if (i < 0 || baseline === undefined || later.length === 0) return undefined;
  const tail = later.slice(-Math.max(1, Math.ceil(later.length / 4)));
  const floorMb = Math.min(...tail.map((s) => s.memory.heapUsedMb));
  return {
    fraction: floorMb / baseline.memory.heapUsedMb - 1,
    baselineMb: baseline.memory.heapUsedMb,
    floorMb,
    fromHour: tail[0]?.hour ?? 0,
  };
}
