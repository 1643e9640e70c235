import { Observable, type OperatorFunction } from 'rxjs';
import { isEmptyCandle, type Candle, type CandleSource } from '../domain/candle.js';
import { decimalsToHold, roundToDecimals } from '../domain/decimals.js';
import { InvalidDataError, UsageError } from '../domain/errors.js';
import { bucketCloseOf, sortTimeframes, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import { iso } from '../domain/time.js';

/**
 * Derives higher-timeframe candles (5m, 15m, 1h, 4h, 1d) from closed lower-timeframe candles, per symbol.
 *
 * <span class="informal">A higher candle is emitted only once complete: when its last constituent has
 * arrived, or when a later constituent arrives across a gap. It can therefore never be seen early.</span>
 *
 * ```
 * 1m closes:   --a(1m)--b(2m)--c(3m)--d(4m)--e(5m)--f(6m)-------------h(12m)--|
 * resample 5m: ---------------------------------E(5m: a..e)-----------F(10m: f)--|
 *                                                             (gap: 10m closed by the 12m candle)
 * ```
 *
 * - Output is the requested timeframes only: include the input timeframe (e.g. `1m`) to pass it through.
 *   For one input candle, outputs come in time order: buckets closed by a gap, the input, then the buckets
 *   it completes, shortest timeframe first.
 * - OHLC are those of the trades inside the bucket: constituents without trades (volume 0, OHLC carried
 *   forward) count toward completeness but not toward OHLC, so the result equals a candle built directly
 *   from the trades. A bucket without any trade carries the previous close, with volume 0.
 * - Volume and trade counts add up. Gaps in the input are not filled: a bucket with no constituent at all
 *   is not emitted.
 * - Forming candles (`closed: false`) are ignored. A revised input candle (`revision` > 0) is passed through
 *   and revises the higher buckets it belongs to (emitted again with `revision` + 1) while its constituents
 *   are still held (the last two buckets of the largest timeframe, or `holdMs` when longer).
 * - Input must be in time order per symbol, aligned, and of one timeframe per symbol; anything else errors.
 * - A higher candle any of whose constituents came from OKX's candles (`source: 'okx_candles'`) says so too.
 * - `seed`: candles that came before the stream (a restarted collector's stored 1m candles of the current
 *   5m…1d buckets), taken into the buckets as if they had been input, but emitting nothing: the first
 *   higher candles the stream completes then hold the whole interval, not just the part after the restart.
 *   Per symbol, in time order; applied when the symbol's first candle arrives (a function is asked then),
 *   and only the seeds older than that candle.
 *
 * ```
 * seed:        a(1m) b(2m) c(3m)
 * input:       --d(4m)--e(5m)--f(6m)--|
 * resample 5m: ---------E(5m: a..e)---|
 * ```
 *
 * @see tradesToCandles
 */
export function resampleCandles(
  timeframes: readonly Timeframe[],
  options: {
    readonly seed?: readonly Candle[] | ((symbol: string) => readonly Candle[]);
    /**
     * Input candles held for revisions, at least (ms back from the newest): a revised input candle within
     * it still revises its higher buckets. Default and minimum: two buckets of the largest timeframe. A
     * producer that revises further back (tradesToCandles' `revisionWindow`) passes its own span.
     */
    readonly holdMs?: number;
  } = {},
): OperatorFunction<Candle, Candle> {
  const resampler = () => new Resampler(timeframes, options);
  resampler(); // a bad timeframe list fails here, when the operator is built
  return (source) =>
    new Observable<Candle>((subscriber) => {
      const r = resampler();
      return source.subscribe({
        next: (c) => {
          try {
            r.take(c, subscriber);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * resampleCandles over an array, synchronously: what the operator emits for `candles`, as an array (a
 * backtest's candle stream, without a stream layer per candle). Throws what the operator would emit as
 * an error.
 */
export function resampleCandleArray(
  candles: readonly Candle[],
  timeframes: readonly Timeframe[],
  options: ResampleOptions = {},
): Candle[] {
  const r = new Resampler(timeframes, options);
  const out: Candle[] = [];
  const sink: Sink = { next: (c) => out.push(c), closed: false };
  for (let i = 0; i < candles.length; i++) r.take(candles[i] as Candle, sink);
  return out;
}

export type ResampleOptions = Parameters<typeof resampleCandles>[1];

/** One resampleCandles subscription's state: a SymbolResampler per symbol. */
export class Resampler {
  private readonly targets: Timeframe[];
  private readonly states = new Map<string, SymbolResampler>();
  private readonly discard: Sink = { next: () => undefined, closed: false };

  constructor(
    timeframes: readonly Timeframe[],
    private readonly options: ResampleOptions = {},
  ) {
    if (timeframes.length === 0) throw new UsageError('resampleCandles: give at least one timeframe');
    this.targets = sortTimeframes(timeframes);
  }

  /** One input candle: what it completes or revises goes to `out`. */
  take(c: Candle, out: Sink): void {
    if (!c.closed) return;
    const s = this.stateFor(c);
    if (c.revision > 0) s.revise(c, out);
    else s.add(c, out);
  }

  private stateFor(c: Candle): SymbolResampler {
    let s = this.states.get(c.symbol);
    if (s === undefined) {
      s = new SymbolResampler(c.symbol, c.timeframe, this.targets, this.options?.holdMs ?? 0);
      this.states.set(c.symbol, s);
      const seed = this.options?.seed;
      const seeds =
        typeof seed === 'function' ? seed(c.symbol) : (seed ?? []).filter((x) => x.symbol === c.symbol);
      for (const x of seeds) {
        if (x.closed && x.closeTimeMs < c.closeTimeMs) s.add(x, this.discard);
      }
    } else if (s.base !== c.timeframe) {
      throw new InvalidDataError(
        `resampleCandles: ${c.symbol} ${c.timeframe} candle in a stream of ${s.base} candles: one input timeframe per symbol`,
      );
    }
    return s;
  }
}

/** Where a Resampler sends what it emits. */
export interface Sink {
  next(c: Candle): void;
  readonly closed: boolean;
}

class Bucket {
  closeTimeMs = Number.NaN;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  /** Decimals of the most precise volume merged: the sum is rounded to them to shed float drift. */
  volumeDecimals = 0;
  tradesCount = 0;
  hasTrades = false;
  /** Close carried by constituents without trades: the OHLC of a bucket in which nothing traded. */
  carried = 0;
  /** Set when a constituent came from elsewhere than trades (OKX's candles). */
  source: CandleSource | undefined;

  constructor(
    readonly timeframe: Timeframe,
    readonly ms: number,
  ) {}

  get isOpen(): boolean {
    return !Number.isNaN(this.closeTimeMs);
  }

  start(closeTimeMs: number): void {
    this.closeTimeMs = closeTimeMs;
    this.volume = 0;
    this.volumeDecimals = 0;
    this.tradesCount = 0;
    this.hasTrades = false;
    this.source = undefined;
  }

  clear(): void {
    this.closeTimeMs = Number.NaN;
  }

  merge(c: Candle): void {
    if (c.source !== undefined && c.source !== 'trades') this.source = c.source;
    this.volume += c.volume;
    this.volumeDecimals = decimalsToHold(c.volume, this.volumeDecimals);
    this.tradesCount += c.tradesCount;
    if (isEmptyCandle(c)) {
      this.carried = c.close;
    } else if (!this.hasTrades) {
      this.hasTrades = true;
      this.open = c.open;
      this.high = c.high;
      this.low = c.low;
      this.close = c.close;
    } else {
      if (c.high > this.high) this.high = c.high;
      if (c.low < this.low) this.low = c.low;
      this.close = c.close;
    }
  }

  toCandle(symbol: string, revision: number): Candle {
    const t = this.hasTrades;
    return {
      symbol,
      timeframe: this.timeframe,
      closeTimeMs: this.closeTimeMs,
      open: t ? this.open : this.carried,
      high: t ? this.high : this.carried,
      low: t ? this.low : this.carried,
      close: t ? this.close : this.carried,
      volume: roundToDecimals(this.volume, this.volumeDecimals),
      tradesCount: this.tradesCount,
      closed: true,
      revision,
      ...(this.source !== undefined ? { source: this.source } : {}),
    };
  }
}

class SymbolResampler {
  readonly baseMs: number;
  private readonly passThrough: boolean;
  private readonly buckets: Bucket[];
  private lastCloseTimeMs = Number.NEGATIVE_INFINITY;
  /** The most recent input candles, by close time: enough to rebuild the last two largest buckets. */
  private readonly recent: (Candle | undefined)[];
  /** Revision numbers of re-emitted buckets, keyed `${timeframe}@${closeTimeMs}`; pruned as they age out. */
  private readonly revisions = new Map<string, number>();

  constructor(
    readonly symbol: string,
    readonly base: Timeframe,
    targets: readonly Timeframe[],
    holdMs: number,
  ) {
    this.baseMs = timeframeMs(base);
    this.passThrough = targets.includes(base);
    this.buckets = [];
    for (const tf of targets) {
      const ms = timeframeMs(tf);
      if (ms === this.baseMs) continue;
      if (ms < this.baseMs || ms % this.baseMs !== 0) {
        throw new UsageError(`resampleCandles: cannot derive ${tf} candles from ${base} candles (${symbol})`);
      }
      this.buckets.push(new Bucket(tf, ms));
    }
    const largest = this.buckets.reduce((m, b) => Math.max(m, b.ms), this.baseMs);
    const held = Math.max(2 * largest, Math.ceil(holdMs / this.baseMs) * this.baseMs);
    this.recent = new Array<Candle | undefined>(held / this.baseMs);
  }

  add(c: Candle, out: Sink): void {
    const t = c.closeTimeMs;
    if (t % this.baseMs !== 0) {
      throw new InvalidDataError(
        `resampleCandles: ${c.symbol} ${c.timeframe} candle closing at ${iso(t)} is not aligned to ${c.timeframe}`,
      );
    }
    if (t <= this.lastCloseTimeMs) {
      throw new InvalidDataError(
        `resampleCandles: ${c.symbol} ${c.timeframe} candle closing at ${iso(t)} arrived after ${iso(this.lastCloseTimeMs)}: input must be in time order without duplicates`,
      );
    }
    this.lastCloseTimeMs = t;
    this.recent[this.slot(t)] = c;
    const buckets = this.buckets;
    // Buckets left open by a gap in the input close first: they are older than `c`.
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i] as Bucket;
      if (b.isOpen && bucketCloseOf(t, b.ms) > b.closeTimeMs) {
        out.next(b.toCandle(this.symbol, 0));
        b.clear();
      }
    }
    if (this.passThrough) out.next(c);
    for (let i = 0; i < buckets.length && !out.closed; i++) {
      const b = buckets[i] as Bucket;
      const bucketClose = bucketCloseOf(t, b.ms);
      if (!b.isOpen) b.start(bucketClose);
      b.merge(c);
      if (bucketClose === t) {
        out.next(b.toCandle(this.symbol, 0));
        b.clear();
      }
    }
  }

  revise(c: Candle, out: Sink): void {
    const t = c.closeTimeMs;
    const held = this.recent[this.slot(t)];
    if (held === undefined || held.closeTimeMs !== t || t > this.lastCloseTimeMs) {
      // Not a candle we hold: pass it on (its own timeframe may be wanted) but derive nothing from it.
      if (this.passThrough) out.next(c);
      return;
    }
    this.recent[this.slot(t)] = c;
    if (this.passThrough) out.next(c);
    const oldestHeld = this.lastCloseTimeMs - (this.recent.length - 1) * this.baseMs;
    for (const b of this.buckets) {
      const bucketClose = bucketCloseOf(t, b.ms);
      if (b.isOpen && b.closeTimeMs === bucketClose) {
        // Still forming: rebuild it in place from the candles held.
        b.start(bucketClose);
        this.mergeHeld(b, bucketClose, this.lastCloseTimeMs);
        continue;
      }
      if (bucketClose - b.ms + this.baseMs < oldestHeld) continue; // constituents no longer held
      const rebuilt = new Bucket(b.timeframe, b.ms);
      rebuilt.start(bucketClose);
      this.mergeHeld(rebuilt, bucketClose, bucketClose);
      const key = `${b.timeframe}@${bucketClose}`;
      const revision = (this.revisions.get(key) ?? 0) + 1;
      this.revisions.set(key, revision);
      out.next(rebuilt.toCandle(this.symbol, revision));
    }
    this.pruneRevisions(oldestHeld);
  }

  private mergeHeld(b: Bucket, bucketClose: number, until: number): void {
    for (let t = bucketClose - b.ms + this.baseMs; t <= until; t += this.baseMs) {
      const held = this.recent[this.slot(t)];
      if (held !== undefined && held.closeTimeMs === t) b.merge(held);
    }
  }

  private pruneRevisions(oldestHeld: number): void {
    if (this.revisions.size < 64) return;
    for (const key of this.revisions.keys()) {
      if (Number(key.slice(key.indexOf('@') + 1)) < oldestHeld) this.revisions.delete(key);
    }
  }

  private slot(closeTimeMs: number): number {
    return Math.floor(closeTimeMs / this.baseMs) % this.recent.length;
  }
}
