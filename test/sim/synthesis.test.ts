import type { Candle } from '../../src/domain/candle.js';
import { candleTradeSource, type RawTrade } from '../../src/sim/source.js';
import { getJson, ManualClock, TestClient, sleep, startSim, stopAll } from './support.js';

afterEach(stopAll);

/**
 * Real Binance spot BTC/USDT 1m candles (tooyipjee__BTC_USDT-1m.csv lines 6193–6200, GPL-3.0; see
 * shared/data), as [open time, open, high, low, close, volume]; plus one made-up zero-volume minute.
 */
const ROWS: [number, number, number, number, number, number][] = [
  [1619322780000, 49721.34, 49750.0, 49670.02, 49731.84, 120.871771],
  [1619322840000, 49731.83, 49749.98, 49672.15, 49674.78, 32.402935],
  [1619322900000, 49677.29, 49700.0, 49668.79, 49677.36, 22.56704],
  [1619322960000, 49677.36, 49719.02, 49677.04, 49698.97, 16.636203],
  [1619323020000, 49698.96, 49702.75, 49635.13, 49650.0, 26.174736],
  [1619323080000, 49650.0, 49696.82, 49642.06, 49683.05, 18.224997],
  [1619323140000, 49689.03, 49694.46, 49615.5, 49615.54, 13.96771],
  [1619323200000, 49626.76, 49705.04, 49600.24, 49683.94, 5.887034],
  [1619323260000, 49683.94, 49683.94, 49683.94, 49683.94, 0],
];
const CANDLES: Candle[] = ROWS.map(([open, o, h, l, c, v]) => ({
  symbol: 'BTC-USDT',
  timeframe: '1m',
  closeTimeMs: open + 60_000,
  open: o,
  high: h,
  low: l,
  close: c,
  volume: v,
  tradesCount: 0,
  closed: true,
  revision: 0,
}));

function synthesizedByMinute(seed: number): RawTrade[][] {
  const source = candleTradeSource('BTC-USDT', CANDLES, seed);
  const byMinute: RawTrade[][] = CANDLES.map(() => []);
  const it = source.pass();
  for (let r = it.next(); !r.done; r = it.next())
    byMinute[Math.floor(r.value.offsetMs / 60_000)]?.push(r.value);
  return byMinute;
}

describe('trades synthesized from 1m candles', () => {
  it('stay inside the minute and [low, high], open first, close last, touch high and low, sizes sum to the volume', () => {
    const byMinute = synthesizedByMinute(42);
    CANDLES.forEach((c, i) => {
      const trades = byMinute[i] as RawTrade[];
      if (c.volume === 0) {
        expect(trades).toEqual([]);
        return;
      }
      expect(trades.length).toBeGreaterThanOrEqual(3);
      expect(trades.length).toBeLessThanOrEqual(20);
      const prices = trades.map((t) => t.px);
      expect(prices[0]).toBe(c.open);
      expect(prices[prices.length - 1]).toBe(c.close);
      expect(Math.max(...prices)).toBe(c.high);
      expect(Math.min(...prices)).toBe(c.low);
      expect(trades[0]?.offsetMs).toBe(i * 60_000);
      expect(trades.every((t, k) => k === 0 || t.offsetMs >= (trades[k - 1] as RawTrade).offsetMs)).toBe(
        true,
      );
      expect(trades.every((t) => t.offsetMs < (i + 1) * 60_000 && t.lots >= 1)).toBe(true);
      expect(trades.reduce((s, t) => s + t.lots, 0)).toBe(Math.round(c.volume * 1e8));
    });
    // More volume, more trades.
    expect(byMinute[0]?.length).toBeGreaterThan(byMinute[7]?.length as number);
  });

  it('are the same for the same seed and differ for another', () => {
    expect(synthesizedByMinute(42)).toEqual(synthesizedByMinute(42));
    expect(synthesizedByMinute(43)).not.toEqual(synthesizedByMinute(42));
  });

  it('rebuild the original candles at speed 1 (REST history-candles equals the input bars)', async () => {
    const clock = new ManualClock(Date.UTC(2024, 0, 1, 12, 0));
    const { address } = await startSim({
      now: clock.now,
      loop: false,
      instruments: [{ instId: 'BTC-USDT', candles: CANDLES, seed: 7 }],
    });
    clock.advance(9 * 60_000);
    await sleep(30);
    const r = await getJson(`${address.restUrl}/api/v5/market/history-candles?instId=BTC-USDT&bar=1m`);
    const rows = (r.body.data as string[][]).filter((row) => row[8] === '1').reverse();
    expect(rows.map((row) => row.slice(1, 6).map(Number))).toEqual(
      // The zero-volume minute becomes a quiet bar at the previous close, as OKX shows it.
      ROWS.map(([, o, h, l, c, v]) => [o, h, l, c, v]),
    );
    expect(rows.map((row) => Number(row[0]) - clock.ms)).toEqual(ROWS.map((_, i) => (i - 9) * 60_000));
  });
});

describe('determinism', () => {
  /** Runs a simulator on a manual clock and records every frame a trades-all subscriber receives. */
  async function record(
    candleSeed: number,
    faultSeed: number,
  ): Promise<{ truth: unknown[]; frames: string[] }> {
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    const { sim, address } = await startSim({
      now: clock.now,
      speed: 30,
      instruments: [{ instId: 'BTC-USDT', candles: CANDLES, seed: candleSeed }],
      faults: { garbageRate: 0.2, duplicateRate: 0.2, seed: faultSeed },
    });
    const c = await TestClient.connect(address.wsBusinessUrl);
    c.subscribe([{ channel: 'trades-all', instId: 'BTC-USDT' }]);
    await c.next((m) => m.event === 'subscribe');
    for (let i = 0; i < 40; i++) {
      clock.advance(500);
      await sleep(12);
    }
    await sleep(50);
    const truth = [...sim.groundTruth('BTC-USDT')];
    await sim.stop();
    return { truth, frames: c.frames.map((f) => (f.binary ? `binary:${f.text}` : f.text)) };
  }

  it('the same seeds on the same clock give the same trades and the same frames, faults included', async () => {
    const a = await record(1, 9);
    const b = await record(1, 9);
    expect(a.truth.length).toBeGreaterThan(50);
    expect(b.truth).toEqual(a.truth);
    expect(b.frames).toEqual(a.frames);
    const otherFaults = await record(1, 10);
    expect(otherFaults.truth).toEqual(a.truth);
    expect(otherFaults.frames).not.toEqual(a.frames);
    const otherCandles = await record(2, 9);
    expect(otherCandles.truth).not.toEqual(a.truth);
  });
});
