import type { Trade } from '../../src/domain/trade.js';
import type { RestTrade, WsTrade } from '../../src/streams/okx/schemas.js';
import { TradeSequencer, type SequencerPort } from '../../src/streams/okx/tradeSequencer.js';

type Call =
  | { readonly emit: string; readonly count?: number; readonly size: number }
  | { readonly duplicate: true }
  | { readonly gap: [number, number] }
  | { readonly backfill: number; readonly reason: string }
  | { readonly resume: string; readonly fromMs: number };

/** A sequencer whose port records every request, in order. */
function recorded(resumeFromMs?: number): { seq: TradeSequencer; calls: Call[]; trades: Trade[] } {
  const calls: Call[] = [];
  const trades: Trade[] = [];
  const port: SequencerPort = {
    emit: (t) => {
      trades.push(t);
      calls.push({ emit: t.tradeId, size: t.size, ...(t.count !== undefined ? { count: t.count } : {}) });
    },
    duplicate: () => calls.push({ duplicate: true }),
    gap: (fromMs, toMs) => calls.push({ gap: [fromMs, toMs] }),
    backfill: (fromId, reason) => calls.push({ backfill: fromId, reason }),
    resume: (head, fromMs) => calls.push({ resume: head.tradeId, fromMs }),
  };
  return { seq: new TradeSequencer('BTC-USDT', port, resumeFromMs), calls, trades };
}

const push = (id: number, count: number | undefined, ts = id * 1000, sz = '1'): WsTrade => ({
  instId: 'BTC-USDT',
  tradeId: String(id),
  px: '100',
  sz,
  side: 'buy',
  ts: String(ts),
  ...(count !== undefined ? { count: String(count) } : {}),
});
const rest = (id: number, sz = '1'): RestTrade => ({
  instId: 'BTC-USDT',
  tradeId: String(id),
  px: '100',
  sz,
  side: 'sell',
  ts: String(id * 1000),
});

describe('TradeSequencer', () => {
  it('emits consecutive pushes in order, an aggregated one with its count', () => {
    const { seq, calls, trades } = recorded();
    seq.push(push(10, 1));
    seq.push(push(13, 3, 13_000, '6'));
    seq.push(push(14, 1));
    expect(calls).toEqual([
      { emit: '10', size: 1 },
      { emit: '13', size: 6, count: 3 },
      { emit: '14', size: 1 },
    ]);
    expect(trades.map((t) => [t.symbol, t.side, t.price, t.tsMs])[1]).toEqual([
      'BTC-USDT',
      'buy',
      100,
      13_000,
    ]);
    expect([seq.lastId, seq.lastTsMs]).toEqual([14, 14_000]);
  });

  it('drops pushes at or below the last id emitted', () => {
    const { seq, calls } = recorded();
    seq.push(push(10, 1));
    seq.push(push(10, 1));
    seq.push(push(9, 1));
    expect(calls).toEqual([{ emit: '10', size: 1 }, { duplicate: true }, { duplicate: true }]);
  });

  it('emits a push without a count as one trade (older servers): no gap can be seen', () => {
    const { seq, calls } = recorded();
    seq.push(push(10, 1));
    seq.push(push(20, undefined));
    expect(calls).toEqual([
      { emit: '10', size: 1 },
      { emit: '20', size: 1 },
    ]);
  });

  it('on a hole asks for a backfill, holds pushes, then emits REST trades and the waiting pushes in order', () => {
    const { seq, calls } = recorded();
    seq.push(push(10, 1));
    seq.push(push(14, 1));
    seq.push(push(13, 1));
    expect(calls.slice(1)).toEqual([{ backfill: 10, reason: 'gap: ids 11…13 missing' }]);
    expect(seq.backfilling).toBe(true);
    expect(seq.holeEnd(10)).toBe(13);
    // REST overlaps what was emitted: only the ids after 10 count.
    expect(seq.emitBackfilled([rest(10), rest(11), rest(12)])).toBe(2);
    const plan = seq.endBackfill();
    expect(plan.kind).toBe('replay');
    if (plan.kind !== 'replay') return;
    seq.replay(plan.waiting);
    expect(calls.slice(2).map((c) => ('emit' in c ? c.emit : c))).toEqual(['11', '12', '13', '14']);
    expect(seq.backfilling).toBe(false);
  });

  it('asks for one backfill at a time and none before the first trade', () => {
    const { seq, calls } = recorded();
    seq.requestBackfill('reconnect');
    expect(calls).toEqual([]);
    seq.push(push(10, 1));
    seq.requestBackfill('reconnect');
    seq.requestBackfill('reconnect');
    expect(calls).toEqual([
      { emit: '10', size: 1 },
      { backfill: 10, reason: 'reconnect' },
    ]);
    expect(seq.holeEnd(10)).toBeUndefined();
  });

  it('retries a hole REST leaves open five times, with growing waits, then plans a gap', () => {
    const { seq, calls } = recorded();
    seq.push(push(10, 1));
    seq.push(push(20, 2, 20_000));
    const delays: number[] = [];
    for (;;) {
      const plan = seq.endBackfill();
      if (plan.kind !== 'retry') {
        expect(plan).toMatchObject({ kind: 'gap', fromMs: 10_000, toMs: 20_000 });
        if (plan.kind !== 'gap') return;
        seq.continueBefore(plan.head);
        seq.replay(plan.waiting);
        break;
      }
      delays.push(plan.delayMs);
      expect(seq.backfilling).toBe(true);
    }
    expect(delays).toEqual([200, 400, 600, 800, 1000]);
    expect(calls.at(-1)).toEqual({ emit: '20', size: 1, count: 2 });
    expect(seq.lastId).toBe(20);
  });

  it('emits the rest of an aggregated push REST delivered only in part', () => {
    const { seq, calls } = recorded();
    seq.push(push(10, 1));
    seq.requestBackfill('reconnect');
    // The push 11…14 waits while REST delivers 11 and 12 one by one.
    seq.push(push(14, 4, 14_000, '10'));
    expect(seq.emitBackfilled([rest(11, '2'), rest(12, '3')])).toBe(2);
    let plan = seq.endBackfill();
    while (plan.kind === 'retry') plan = seq.endBackfill();
    expect(plan.kind).toBe('remainder');
    if (plan.kind !== 'remainder') return;
    seq.emitRemainder(plan.head);
    seq.replay(plan.waiting);
    // 10 − (2 + 3) of the push's size is still owed, as the 2 trades 13 and 14.
    expect(calls.slice(-2)).toEqual([{ emit: '14', size: 5, count: 2 }, { duplicate: true }]);
  });

  it('after a backfill REST could not serve with nothing waiting, the next push starts after a gap', () => {
    const { seq, calls } = recorded();
    seq.push(push(10, 1));
    seq.requestBackfill('reconnect');
    expect(seq.abandonBackfill()).toBeUndefined();
    expect(seq.endBackfill()).toEqual({ kind: 'replay', waiting: [] });
    seq.replay([]);
    seq.push(push(50, 1, 50_000));
    expect(calls.slice(2)).toEqual([{ gap: [10_000, 50_000] }, { emit: '50', size: 1 }]);
  });

  it('holds the first push after a restart for a resume, then emits the history and the push', () => {
    const { seq, calls } = recorded(5_000);
    seq.push(push(10, 2, 10_000));
    seq.push(push(11, 1, 11_000));
    expect(calls).toEqual([{ resume: '10', fromMs: 5_000 }]);
    seq.resumedFrom(5_000);
    seq.emitResumed([rest(7), rest(8)], push(10, 2));
    const plan = seq.endBackfill();
    if (plan.kind !== 'replay') throw new Error(`unexpected plan ${plan.kind}`);
    seq.replay(plan.waiting);
    expect(calls.slice(1).map((c) => ('emit' in c ? c.emit : c))).toEqual(['7', '8', '10', '11']);
  });

  it('a resume with no history lets the first push follow on', () => {
    const { seq, calls } = recorded(5_000);
    seq.push(push(10, 2, 10_000));
    seq.emitResumed([], push(10, 2));
    expect(seq.lastId).toBe(8);
    const plan = seq.endBackfill();
    if (plan.kind !== 'replay') throw new Error(`unexpected plan ${plan.kind}`);
    seq.replay(plan.waiting);
    expect(calls.at(-1)).toEqual({ emit: '10', size: 1, count: 2 });
  });
});
