import { fileURLToPath } from 'node:url';
import { lastValueFrom, from, toArray, type Subscription } from 'rxjs';
import type { Candle } from '../../src/domain/candle.js';
import type { Trade } from '../../src/domain/trade.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { tradesToCandles } from '../../src/operators/tradesToCandles.js';
import { VirtualClock } from '../../src/scheduling/virtualClock.js';
import { OkxSimulator, type SimTrade } from '../../src/sim/okxSimulator.js';
import { okxTrades, type OkxFeedEvent } from '../../src/streams/okx/okxTrades.js';
import { OkxRestClient } from '../../src/streams/okx/rest.js';
import { readTradeCsv } from '../../src/streams/tradeCsv.js';

/**
 * The live OKX client against the OKX simulator with faults injected: what the client emits must equal the
 * simulator's ground truth exactly — every trade id once, in order, with the right prices and sizes — and
 * the candles built from both must be the same.
 */
const samples = fileURLToPath(new URL('../../samples/', import.meta.url));

async function sampleTrades(file: string, instId: string): Promise<readonly Trade[]> {
  return (await readTradeCsv(`${samples}${file}`, { symbol: instId })).trades;
}

interface Drill {
  catchUpMs?: number;
  readonly trades: Trade[];
  readonly events: OkxFeedEvent[];
  readonly log: RecordingLogger;
  readonly sim: OkxSimulator;
}

interface FaultPlan {
  /** Wall seconds of fault phase; then faults stop and the client must catch up. */
  readonly seconds: number;
  readonly dropEverySec: number;
  readonly stallEverySec: number;
  readonly stallMs: number;
  readonly noticeEverySec: number;
}

async function drill(
  plan: FaultPlan,
  speed: number,
  garbageRate: number,
  duplicateRate: number,
): Promise<Drill> {
  const sim = new OkxSimulator({
    instruments: [
      {
        instId: 'BTC-USDT',
        trades: await sampleTrades('binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv', 'BTC-USDT'),
      },
      {
        instId: 'ETH-USDT',
        trades: await sampleTrades('binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv', 'ETH-USDT'),
      },
    ],
    speed,
    faults: { garbageRate, duplicateRate, seed: 42 },
  });
  const { restUrl, wsPublicUrl } = await sim.start();
  const result: Drill = { trades: [], events: [], log: new RecordingLogger(), sim };
  let sub: Subscription | undefined;
  const timers: ReturnType<typeof setInterval>[] = [];
  try {
    sub = okxTrades({
      symbols: ['BTC-USDT', 'ETH-USDT', 'NOPE-USDT'],
      wsUrl: wsPublicUrl,
      rest: new OkxRestClient({ baseUrl: restUrl, logger: result.log, backoffBaseMs: 100 }),
      logger: result.log,
      onEvent: (e) => result.events.push(e),
      pingAfterMs: 400,
      pongTimeoutMs: 400,
      backoff: { baseMs: 100, maxMs: 1_000 },
      healthEveryMs: 1_000,
    }).subscribe({
      next: (t) => result.trades.push(t),
      error: (e: unknown) =>
        result.events.push({ type: 'symbol-error', symbol: '*', code: 'stream', message: String(e) }),
    });
    timers.push(setInterval(() => sim.dropConnections(), plan.dropEverySec * 1_000));
    timers.push(setInterval(() => sim.stall(plan.stallMs), plan.stallEverySec * 1_000));
    timers.push(setInterval(() => sim.notice(1_000), plan.noticeEverySec * 1_000));
    await new Promise((r) => setTimeout(r, plan.seconds * 1_000));
    timers.forEach(clearInterval);
    // Quiet tail: the client must catch up with everything the simulator generated.
    const caughtUp = (): boolean =>
      ['BTC-USDT', 'ETH-USDT'].every((symbol) => {
        const truth = sim.groundTruth(symbol);
        const mine = result.trades.filter((t) => t.symbol === symbol);
        const target = Number(truth[truth.length - 1]?.tradeId) - 50;
        return mine.length > 0 && Number(mine[mine.length - 1]?.tradeId) >= target;
      });
    const t0 = Date.now();
    while (!caughtUp() && Date.now() - t0 < 40_000) await new Promise((r) => setTimeout(r, 100));
    result.catchUpMs = Date.now() - t0;
  } finally {
    timers.forEach(clearInterval);
    sub?.unsubscribe();
    await sim.stop();
  }
  return result;
}

/** Checks the client's trades of one symbol against ground truth; returns how many exchange trades they cover. */
function expectEqualToGroundTruth(trades: readonly Trade[], truth: readonly SimTrade[]): number {
  expect(trades.length).toBeGreaterThan(100);
  const byId = new Map(truth.map((t) => [Number(t.tradeId), t]));
  let expectedNext: number | undefined;
  let covered = 0;
  for (const t of trades) {
    const last = Number(t.tradeId);
    const first = last - (t.count ?? 1) + 1;
    // In order, nothing skipped, nothing twice:
    if (expectedNext !== undefined) expect(first).toBe(expectedNext);
    expectedNext = last + 1;
    let size = 0;
    for (let id = first; id <= last; id++) {
      const g = byId.get(id);
      expect(g).toBeDefined();
      expect(Number(g?.px)).toBe(t.price);
      expect(Number(g?.ts)).toBe(t.tsMs);
      size += Number(g?.sz);
      covered += 1;
    }
    expect(t.size).toBeCloseTo(size, 9);
  }
  return covered;
}

/** Candles of the trades, the last one closed by a sentinel trade a minute after them (not part of the data). */
async function candles(trades: readonly Trade[]): Promise<Candle[]> {
  const last = trades[trades.length - 1] as Trade;
  const sentinel: Trade = {
    ...last,
    tradeId: `${Number(last.tradeId) + 1}`,
    tsMs: last.tsMs + 60_000,
    size: 0,
    count: 1,
  };
  const clock = new VirtualClock();
  return lastValueFrom(from([...trades, sentinel]).pipe(tradesToCandles({}, clock), toArray()));
}

function truthAsTrades(truth: readonly SimTrade[], fromId: number, toId: number): Trade[] {
  return truth
    .filter((t) => Number(t.tradeId) >= fromId && Number(t.tradeId) <= toId)
    .map((t) => ({
      symbol: t.instId,
      tradeId: t.tradeId,
      tsMs: t.ts,
      price: Number(t.px),
      size: Number(t.sz),
      side: t.side,
    }));
}

describe('okxTrades against the OKX simulator', () => {
  it('collects exactly the ground truth through drops, stalls, notices, garbage and duplicates', async () => {
    // 20× for 42 s of wall time: 14 minutes of market (the 11-minute recording loops), with a drop every
    // 3 s, a 1.2 s stall every 5 s and a 64008 notice every 7 s, 1 % garbage frames and 1 % duplicated pushes.
    const d = await drill(
      { seconds: 42, dropEverySec: 3, stallEverySec: 5, stallMs: 1_200, noticeEverySec: 7 },
      20,
      0.01,
      0.01,
    );
    const stats = d.sim.stats();
    expect(stats.drops).toBeGreaterThanOrEqual(11);
    expect(stats.stalls).toBeGreaterThanOrEqual(6);
    expect(stats.notices).toBeGreaterThanOrEqual(5);
    expect(stats.garbageFrames).toBeGreaterThan(0);
    expect(stats.duplicates).toBeGreaterThan(0);
    expect(d.catchUpMs).toBeLessThan(40_000);

    for (const symbol of ['BTC-USDT', 'ETH-USDT']) {
      const mine = d.trades.filter((t) => t.symbol === symbol);
      const truth = d.sim.groundTruth(symbol);
      const covered = expectEqualToGroundTruth(mine, truth);
      const firstId = Number(mine[0]?.tradeId) - ((mine[0]?.count ?? 1) - 1);
      const lastId = Number(mine[mine.length - 1]?.tradeId);
      expect(covered).toBe(lastId - firstId + 1);
      // Everything the simulator generated from the client's first trade on was collected.
      const lastTruth = Number(truth[truth.length - 1]?.tradeId);
      expect(lastId).toBeGreaterThanOrEqual(lastTruth - 50);
      // At least 10 minutes of market went through the client (the recording holds 11: 19,904 BTC and
      // 14,515 ETH trades).
      expect(covered).toBeGreaterThan((symbol === 'BTC-USDT' ? 19_904 : 14_515) * (10 / 11));

      // Candles from what the client collected equal candles from the ground truth over the same trades.
      // (The simulator stamps trades with wall time, so a minute of candles takes a minute of test.)
      const fromClient = await candles(mine);
      const fromTruth = await candles(truthAsTrades(truth, firstId, lastId));
      expect(fromClient.length).toBeGreaterThanOrEqual(1);
      expect(fromClient.map(({ volume: _volume, ...c }) => c)).toEqual(
        fromTruth.map(({ volume: _volume, ...c }) => c),
      );
      fromClient.forEach((c, i) => expect(c.volume).toBeCloseTo((fromTruth[i] as Candle).volume, 8));
    }

    const health = d.events.filter((e) => e.type === 'health').pop();
    expect(health).toMatchObject({
      type: 'health',
      health: expect.objectContaining({ reconnects: expect.any(Number) }),
    });
    if (health?.type === 'health') {
      expect(health.health.reconnects).toBeGreaterThanOrEqual(8);
      expect(health.health.malformedFrames).toBeGreaterThan(0);
      expect(health.health.backfilledTrades).toBeGreaterThan(0);
    }
    // The unknown symbol was reported once, clearly, and did not stop the others.
    expect(d.events.filter((e) => e.type === 'symbol-error')).toEqual([
      expect.objectContaining({ symbol: 'NOPE-USDT', code: 'unknown_symbol' }),
    ]);
    expect(d.log.records.filter((r) => r.msg.startsWith('malformed frame'))).toHaveLength(1);
  }, 90_000);
});
