import { from, type Observable } from 'rxjs';
import type { Candle } from '../src/domain/candle.js';
import { bucketCloseOf, closeTimeOf, TIMEFRAMES, timeframeMs } from '../src/domain/timeframe.js';
import { compareTrades, type Trade } from '../src/domain/trade.js';
import { resampleCandles } from '../src/operators/resampleCandles.js';
import { tradesToCandles } from '../src/operators/tradesToCandles.js';
import { VirtualClock } from '../src/scheduling/virtualClock.js';
import { replayInVirtualTime } from '../src/streams/replay.js';
import { readTradeCsv, symbolFromFileName } from '../src/streams/tradeCsv.js';
import { stats, time } from './machine.js';

const SAMPLES = [
  'samples/binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv',
  'samples/binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv',
];

/**
 * Trades → 1m candles → 5m, 15m, 1h, 4h, 1d on the real BTC-USDT and ETH-USDT trades, repeated end to end
 * (times shifted by whole minutes, ids renumbered) to at least `minTrades`.
 */
export async function benchCandles(root: string, minTrades = 2_000_000, runs = 7): Promise<string[]> {
  const real: Trade[] = [];
  for (const f of SAMPLES) {
    const file = await readTradeCsv(`${root}/${f}`, { defaultSymbol: symbolFromFileName(f) ?? 'X' });
    real.push(...file.trades);
  }
  real.sort(compareTrades);
  const trades = repeat(real, minTrades);
  const lines: string[] = [];
  const report = (name: string, seconds: number[], note = ''): number => {
    const s = stats(seconds.map((sec) => trades.length / sec));
    lines.push(
      `candles ${name.padEnd(34)} median ${(s.median / 1e6).toFixed(2)} M trades/s  (min ${(s.min / 1e6).toFixed(2)}, max ${(s.max / 1e6).toFixed(2)}, ${s.runs} runs of ${trades.length} trades)${note}`,
    );
    return s.median;
  };

  let baselineCount = 0;
  const baseline = report(
    'bare JS loop (no RxJS)',
    time(() => (baselineCount = bareLoop(trades)), runs),
  );

  let count = 0;
  const pipeline = (source: (clock: VirtualClock) => Observable<Trade>) => () => {
    const clock = new VirtualClock(trades[0]?.tsMs ?? 0);
    count = 0;
    source(clock)
      .pipe(tradesToCandles({}, clock), resampleCandles(TIMEFRAMES))
      .subscribe((_c: Candle) => (count += 1));
  };
  const rx = report(
    'RxJS operators (from(array))',
    time(
      pipeline(() => from(trades)),
      runs,
    ),
  );
  const countRx = count;
  report(
    'RxJS replay in virtual time',
    time(
      pipeline((clock) => replayInVirtualTime(trades, (t) => t.tsMs, clock)),
      runs,
    ),
  );
  if (count !== countRx || count !== baselineCount) {
    throw new Error(`bench: candle counts disagree (loop ${baselineCount}, rx ${countRx}, replay ${count})`);
  }
  lines.push(
    `candles → ${count} candles per run; RxJS costs ${(baseline / rx).toFixed(2)}× the bare loop (target ≥ 10 M trades/s, ≤ 3×)`,
  );
  return lines;
}

function repeat(real: readonly Trade[], minTrades: number): Trade[] {
  const first = real[0];
  const last = real[real.length - 1];
  if (first === undefined || last === undefined) throw new Error('bench: no sample trades');
  const shiftMs = closeTimeOf(last.tsMs, 60_000) - (first.tsMs - (first.tsMs % 60_000));
  const out: Trade[] = [];
  for (let k = 0; out.length < minTrades; k++) {
    for (const t of real) {
      out.push({ ...t, tsMs: t.tsMs + k * shiftMs, tradeId: `${k}${t.tradeId.padStart(12, '0')}` });
    }
  }
  return out;
}

/** The same work as the operators, written as one plain loop: the floor RxJS is measured against. */
function bareLoop(trades: readonly Trade[]): number {
  interface Acc {
    close: number;
    o: number;
    h: number;
    l: number;
    c: number;
    v: number;
    n: number;
  }
  const higher = TIMEFRAMES.slice(1).map(timeframeMs);
  const state = new Map<string, { m: Acc; up: Acc[] }>();
  let count = 0;
  const roll = (s: { m: Acc; up: Acc[] }, m: Acc): void => {
    count += 1;
    for (let i = 0; i < higher.length; i++) {
      const ms = higher[i] as number;
      const u = s.up[i] as Acc;
      const b = bucketCloseOf(m.close, ms);
      if (u.n < 0 || b !== u.close) {
        if (u.n >= 0) count += 1;
        u.close = b;
        u.o = m.o;
        u.h = m.h;
        u.l = m.l;
        u.v = 0;
        u.n = 0;
      }
      if (m.h > u.h) u.h = m.h;
      if (m.l < u.l) u.l = m.l;
      u.c = m.c;
      u.v += m.v;
      u.n += m.n;
      if (b === m.close) {
        count += 1;
        u.n = -1;
      }
    }
  };
  let lastSymbol = '';
  let last: { m: Acc; up: Acc[] } | undefined;
  for (const t of trades) {
    let s = t.symbol === lastSymbol ? last : state.get(t.symbol);
    if (s === undefined) {
      const acc = (): Acc => ({ close: 0, o: 0, h: 0, l: 0, c: 0, v: 0, n: -1 });
      s = { m: { ...acc(), close: closeTimeOf(t.tsMs, 60_000), n: 0 }, up: higher.map(acc) };
      state.set(t.symbol, s);
    }
    lastSymbol = t.symbol;
    last = s;
    const m = s.m;
    if (t.tsMs >= m.close) {
      const next = closeTimeOf(t.tsMs, 60_000);
      roll(s, m);
      for (m.close += 60_000; m.close < next; m.close += 60_000) {
        m.o = m.h = m.l = m.c;
        m.v = 0;
        m.n = 0;
        roll(s, m);
      }
      m.n = 0;
      m.v = 0;
    }
    if (m.n === 0) m.o = m.h = m.l = m.c = t.price;
    else {
      if (t.price > m.h) m.h = t.price;
      else if (t.price < m.l) m.l = t.price;
      m.c = t.price;
    }
    m.v += t.size;
    m.n += 1;
  }
  return count;
}
