import type { Trade } from '../../domain/trade.js';
import type { RestTrade, WsTrade } from './schemas.js';

/** What the sequencer asks of the feed. Synchronous: the feed does the I/O (REST, logs, the subscriber). */
export interface SequencerPort {
  /** The next trade in id order (the sequencer's state has already moved past it). */
  emit(trade: Trade, raw: WsTrade | RestTrade): void;
  /** A push at or below the last id emitted was dropped. */
  duplicate(): void;
  /** Trades between these times are lost: report it; the stream does not wait for the report. */
  gap(fromMs: number, toMs: number): void;
  /** Fetch the trades after `fromId` from REST, then `endBackfill`; pushes wait meanwhile. */
  backfill(fromId: number, reason: string): void;
  /** The first push after a restart: fetch the trades since `fromMs` up to `head`, then `endBackfill`. */
  resume(head: WsTrade, fromMs: number): void;
}

/** What to do once a backfill has emitted what REST had (see `TradeSequencer.endBackfill`). */
export type DrainPlan =
  /** REST may lag the WebSocket: wait this long, backfill again from `lastId` (pushes still wait). */
  | { readonly kind: 'retry'; readonly delayMs: number }
  /** Replay the pushes that waited (`replay`). */
  | { readonly kind: 'replay'; readonly waiting: WsTrade[] }
  /** REST had only part of the aggregated push `head`: `emitRemainder(head)`, then `replay`. */
  | { readonly kind: 'remainder'; readonly head: WsTrade; readonly waiting: WsTrade[] }
  /** The hole before `head` stays: report the gap, `continueBefore(head)`, then `replay`. */
  | {
      readonly kind: 'gap';
      readonly fromMs: number;
      readonly toMs: number;
      readonly head: WsTrade;
      readonly waiting: WsTrade[];
    };

/** Attempts to close a gap the WebSocket still shows after a backfill before it is reported. */
const STUBBORN_GAP_RETRIES = 5;
const STUBBORN_GAP_DELAY_MS = 200;
/** Sizes of the last trades emitted one by one, kept to split an aggregated push that overlaps them. */
const RECENT_SIZES = 512;

const firstId = (d: WsTrade): number => Number(d.tradeId) - Number(d.count ?? 1) + 1;

/**
 * Per-symbol ordering and de-duplication of OKX trades, with no I/O: the output is in trade-id order with
 * no gap and no duplicate. OKX trade ids are consecutive per instrument and each push covers ids
 * `tradeId − count + 1 … tradeId`, so a push that does not follow the last id emitted reveals missed
 * trades: the sequencer asks for a backfill (`SequencerPort.backfill`) and holds the pushes until
 * `endBackfill`. Duplicates (a reconnect overlap, a double push) are dropped.
 */
export class TradeSequencer {
  /** Highest trade id emitted; undefined before the first trade (or after a gap with nothing waiting). */
  private last: number | undefined;
  private lastTs = 0;
  private waiting = false;
  private buffered: WsTrade[] = [];
  /** Consecutive backfills that could not close a gap the WebSocket shows (REST lagging behind). */
  private stubbornGaps = 0;
  private readonly recentSizes = new Map<number, number>();
  /** After a backfill REST could not serve, with no push waiting: the missed trades start here. */
  private gapFromMs: number | undefined;

  constructor(
    readonly instId: string,
    private readonly port: SequencerPort,
    /** Until the first push: resume from here (see OkxTradesOptions.resumeFromMs). */
    private resumeFromMs?: number,
  ) {}

  get lastId(): number | undefined {
    return this.last;
  }

  get lastTsMs(): number {
    return this.lastTs;
  }

  /** True while a backfill runs: pushes wait. */
  get backfilling(): boolean {
    return this.waiting;
  }

  /** A live push. */
  push(d: WsTrade): void {
    if (this.waiting) this.buffered.push(d);
    else this.accept(d);
  }

  /** Trades may have been missed (a reconnect): backfill unless one runs or nothing was emitted yet. */
  requestBackfill(reason: string): void {
    if (this.waiting || this.last === undefined) return;
    this.waiting = true;
    this.port.backfill(this.last, reason);
  }

  /** Where the pushes that wait start, when after `fromId + 1`: a backfill fetches only the hole. */
  holeEnd(fromId: number): number | undefined {
    const waiting = this.buffered.reduce((m, d) => Math.min(m, firstId(d)), Infinity);
    return waiting > fromId + 1 && waiting !== Infinity ? waiting : undefined;
  }

  /** Emits the REST trades after the last id emitted; how many. */
  emitBackfilled(trades: readonly RestTrade[]): number {
    let emitted = 0;
    for (const t of trades) {
      if (Number(t.tradeId) > (this.last as number)) {
        this.emit(t, 1);
        emitted += 1;
      }
    }
    return emitted;
  }

  /** A resume found REST history from `fromMs` on: the trades start after it. */
  resumedFrom(fromMs: number): void {
    this.lastTs = fromMs;
  }

  /** Emits every trade a resume fetched; the first push (`head`) follows on when there was none. */
  emitResumed(trades: readonly RestTrade[], head: WsTrade): void {
    for (const t of trades) this.emit(t, 1);
    if (this.last === undefined) this.last = firstId(head) - 1;
  }

  /**
   * REST could not fill the hole: the earliest waiting push, whose trades follow the gap (the caller
   * reports it from `lastTsMs`, then `continueBefore`s it). With no push waiting, the hole ends where the
   * next push starts: that one is taken as a new start after the gap, which is then reported.
   */
  abandonBackfill(): WsTrade | undefined {
    const head = this.buffered.reduce<WsTrade | undefined>(
      (m, d) => (m === undefined || Number(d.tradeId) < Number(m.tradeId) ? d : m),
      undefined,
    );
    if (head === undefined) {
      this.gapFromMs = this.lastTs;
      this.last = undefined;
    }
    return head;
  }

  /** Past a reported gap: `head` follows on. */
  continueBefore(head: WsTrade): void {
    this.last = firstId(head) - 1;
  }

  /** The backfill is over: what to do with the pushes that waited. */
  endBackfill(): DrainPlan {
    const waiting = this.buffered.sort((a, b) => Number(a.tradeId) - Number(b.tradeId));
    this.buffered = [];
    this.waiting = false;
    const last = this.last;
    const head = waiting.find((d) => last === undefined || Number(d.tradeId) > last);
    if (head === undefined || head.count === undefined || last === undefined || firstId(head) === last + 1)
      return { kind: 'replay', waiting };
    this.stubbornGaps += 1;
    if (this.stubbornGaps <= STUBBORN_GAP_RETRIES) {
      this.buffered = waiting;
      this.waiting = true;
      return { kind: 'retry', delayMs: STUBBORN_GAP_DELAY_MS * this.stubbornGaps };
    }
    if (firstId(head) <= last) return { kind: 'remainder', head, waiting };
    return { kind: 'gap', fromMs: this.lastTs, toMs: Number(head.ts), head, waiting };
  }

  /** Replays the pushes that waited during a backfill (a new hole among them starts a new backfill). */
  replay(waiting: readonly WsTrade[]): void {
    this.stubbornGaps = 0;
    for (const d of waiting) this.push(d);
  }

  /** The part of an aggregated push not yet emitted, when REST delivered its first trades one by one. */
  emitRemainder(d: WsTrade): void {
    const id = Number(d.tradeId);
    const last = this.last as number;
    let emittedSize = 0;
    for (let k = firstId(d); k <= last; k++) emittedSize += this.recentSizes.get(k) ?? 0;
    this.emit({ ...d, sz: String(Math.max(0, Number(d.sz) - emittedSize)) }, id - last);
  }

  private accept(d: WsTrade): void {
    const id = Number(d.tradeId);
    const count = d.count === undefined ? 1 : Number(d.count);
    const first = id - count + 1;
    if (this.gapFromMs !== undefined) {
      const from = this.gapFromMs;
      this.gapFromMs = undefined;
      this.port.gap(from, Number(d.ts));
    }
    if (this.last === undefined && this.resumeFromMs !== undefined) {
      // The first push after a restart: what was missed since the stored history ends comes first.
      const fromMs = this.resumeFromMs;
      this.resumeFromMs = undefined;
      this.buffered.push(d);
      this.waiting = true;
      this.port.resume(d, fromMs);
    } else if (this.last === undefined || (first === this.last + 1 && count >= 1)) {
      this.emit(d, count);
    } else if (id <= this.last) {
      this.port.duplicate();
    } else if (d.count === undefined) {
      // Older servers do not say how many trades a push aggregates: we cannot see gaps from ids alone.
      this.emit(d, 1);
    } else {
      // Either ids are missing before this push, or REST gave us part of it one trade at a time and the
      // rest (ids lastId+1 … tradeId) is still owed: both are fetched from REST while pushes wait.
      const last = this.last;
      this.buffered.push(d);
      this.requestBackfill(`gap: ids ${last + 1}…${first - 1 > last ? first - 1 : id} missing`);
    }
  }

  private emit(d: WsTrade | RestTrade, count: number): void {
    const trade: Trade = {
      symbol: this.instId,
      tradeId: d.tradeId,
      tsMs: Number(d.ts),
      price: Number(d.px),
      size: Number(d.sz),
      side: d.side,
      ...(count !== 1 ? { count } : {}),
    };
    this.last = Number(d.tradeId);
    this.lastTs = trade.tsMs;
    if (count === 1) {
      this.recentSizes.set(this.last, trade.size);
      if (this.recentSizes.size > RECENT_SIZES)
        this.recentSizes.delete(this.recentSizes.keys().next().value as number);
    }
    this.port.emit(trade, d);
  }
}
