import { ManualClock, TestClient, sampleEthTrades, sleep, startSim, stopAll, trade } from './support.js';

afterEach(stopAll);

interface TradePush {
  instId: string;
  tradeId: string;
  px: string;
  sz: string;
  side: string;
  ts: string;
  count?: string;
  source?: string;
  seqId?: number;
}

function data(pushes: Record<string, unknown>[]): TradePush[] {
  return pushes.flatMap((p) => p.data as TradePush[]);
}

/** Trade ids a `trades` push covers: tradeId is the last of `count` contiguous ids. */
function covered(p: TradePush): number[] {
  const last = Number(p.tradeId);
  const count = Number(p.count);
  return Array.from({ length: count }, (_, i) => last - count + 1 + i);
}

describe('trades (/public) and trades-all (/business)', () => {
  it('pushes one aggregated taker order per push: last id, count, summed size, seqId, strings', async () => {
    const clock = new ManualClock();
    const { sim, address } = await startSim({
      now: clock.now,
      loop: false,
      instruments: [
        {
          instId: 'BTC-USDT',
          trades: [
            trade(0, 100, 1, 'buy'), // the first trade happens at start, before anyone subscribes
            trade(1000, 100.5, 0.1, 'buy'), // one order of three trades at 100.5
            trade(1000, 100.5, 0.2, 'buy'),
            trade(1000, 100.5, 0.0000001, 'buy'),
            trade(1000, 100.4, 0.5, 'buy'), // same time, new price: new order
            trade(1000, 100.4, 0.5, 'sell'), // same time and price, other side: new order
            trade(2000, 100.4, 0.25, 'sell'), // later: new order
            trade(2000, 100.4, 0.25, 'sell'),
          ],
        },
      ],
    });
    const pub = await TestClient.connect(address.wsPublicUrl);
    const biz = await TestClient.connect(address.wsBusinessUrl);
    pub.subscribe([{ channel: 'trades', instId: 'BTC-USDT' }]);
    biz.subscribe([{ channel: 'trades-all', instId: 'BTC-USDT' }]);
    await pub.next((m) => m.event === 'subscribe');
    await biz.next((m) => m.event === 'subscribe');
    clock.advance(2000);
    await pub.until(() => pub.pushes('trades').length === 4, 2000, 'four orders');
    await biz.until(() => biz.pushes('trades-all').length === 7, 2000, 'seven trades');

    const t1 = sim.groundTruth('BTC-USDT')[1]?.ts as number;
    const orders = data(pub.pushes('trades'));
    expect(orders).toEqual([
      {
        instId: 'BTC-USDT',
        tradeId: '100000003',
        px: '100.5',
        sz: '0.3000001',
        side: 'buy',
        ts: String(t1),
        count: '3',
        source: '0',
        seqId: 2,
      },
      { ...orders[1], tradeId: '100000004', px: '100.4', sz: '0.5', side: 'buy', count: '1', seqId: 3 },
      { ...orders[1], tradeId: '100000005', px: '100.4', sz: '0.5', side: 'sell', count: '1', seqId: 4 },
      {
        ...orders[1],
        tradeId: '100000007',
        sz: '0.5',
        side: 'sell',
        count: '2',
        seqId: 5,
        ts: String(t1 + 1000),
      },
    ]);
    expect(pub.pushes('trades').every((p) => (p.data as unknown[]).length === 1)).toBe(true);
    expect(pub.pushes('trades')[0]?.arg).toEqual({ channel: 'trades', instId: 'BTC-USDT' });

    const all = data(biz.pushes('trades-all'));
    expect(all.map((t) => [t.tradeId, t.sz])).toEqual([
      ['100000001', '0.1'],
      ['100000002', '0.2'],
      ['100000003', '0.0000001'],
      ['100000004', '0.5'],
      ['100000005', '0.5'],
      ['100000006', '0.25'],
      ['100000007', '0.25'],
    ]);
    expect(all.every((t) => t.count === undefined && t.seqId === undefined)).toBe(true);
    expect(
      all.map(({ tradeId, px, sz, side, ts, instId }) => ({ instId, tradeId, px, sz, side, ts: Number(ts) })),
    ).toEqual(sim.groundTruth('BTC-USDT').slice(1));
  });

  it('covers every generated trade exactly once: the pushed id ranges concatenate to the ground truth', async () => {
    const clock = new ManualClock();
    const { sim, address } = await startSim({
      now: clock.now,
      instruments: [{ instId: 'ETH-USDT', trades: await sampleEthTrades() }],
      speed: 100,
    });
    const c = await TestClient.connect(address.wsPublicUrl);
    c.subscribe([{ channel: 'trades', instId: 'ETH-USDT' }]);
    await c.next((m) => m.event === 'subscribe');
    // Only the trades at start (before the subscription) precede the pushes.
    const before = sim.groundTruth('ETH-USDT').length;
    while (sim.groundTruth('ETH-USDT').length < 3000) {
      clock.advance(50);
      await sleep(2);
    }
    const truth = sim.groundTruth('ETH-USDT');
    await c.until(
      () => c.pushes('trades').length > 0 && ids().length === truth.length - before,
      5000,
      'all pushes',
    );
    function ids(): number[] {
      return data(c.pushes('trades')).flatMap(covered);
    }
    expect(ids()).toEqual(truth.slice(before).map((t) => Number(t.tradeId)));

    // Sizes, prices, sides and times agree with the trades each order covers.
    const byId = new Map(truth.map((t) => [Number(t.tradeId), t]));
    const orders = data(c.pushes('trades'));
    for (const o of orders) {
      const parts = covered(o).map((id) => byId.get(id));
      expect(parts.every((t) => t?.px === o.px && t.side === o.side && String(t.ts) === o.ts)).toBe(true);
      const sum = parts.reduce((s, t) => s + Number(t?.sz), 0);
      expect(Number(o.sz)).toBeCloseTo(sum, 10);
    }
    const seq = orders.map((o) => o.seqId as number);
    expect(seq.every((s, i) => i === 0 || s === (seq[i - 1] as number) + 1)).toBe(true);
    // Real data has multi-trade orders, so aggregation really happened.
    expect(orders.some((o) => Number(o.count) > 1)).toBe(true);
    expect(orders.length).toBeLessThan(truth.length - before);
    expect(orders.every((o) => /^\d+(\.\d+)?$/.test(o.px) && /^\d+(\.\d+)?$/.test(o.sz))).toBe(true);
  });

  it('replays with the real spacing divided by speed, the first trade at start', async () => {
    const clock = new ManualClock();
    const t0 = Date.UTC(2020, 0, 1);
    const { sim } = await startSim({
      now: clock.now,
      speed: 10,
      loop: false,
      instruments: [
        { instId: 'ETH-USDT', trades: [trade(0, 1, 1, 'buy', t0), trade(5000, 2, 1, 'sell', t0)] },
      ],
    });
    const start = clock.ms;
    await sleep(30);
    expect(sim.groundTruth('ETH-USDT').map((t) => t.ts)).toEqual([start]);
    clock.advance(499);
    await sleep(30);
    expect(sim.groundTruth('ETH-USDT')).toHaveLength(1);
    clock.advance(1);
    await sleep(30);
    expect(sim.groundTruth('ETH-USDT').map((t) => t.ts)).toEqual([start, start + 500]);
  });

  it('loops: ids stay contiguous and times keep moving forward with the original spacing', async () => {
    const clock = new ManualClock();
    const { sim } = await startSim({
      now: clock.now,
      instruments: [
        {
          instId: 'ETH-USDT',
          trades: [trade(0, 1, 1, 'buy'), trade(1000, 2, 1, 'sell'), trade(3000, 3, 1, 'buy')],
        },
      ],
    });
    const start = clock.ms;
    clock.advance(10_000);
    await sleep(40);
    const truth = sim.groundTruth('ETH-USDT');
    // Pass length = span (3000) + mean spacing (1500): passes start at 0, 4500, 9000.
    expect(truth.map((t) => t.ts - start)).toEqual([0, 1000, 3000, 4500, 5500, 7500, 9000, 10_000]);
    expect(truth.map((t) => Number(t.tradeId))).toEqual(Array.from({ length: 8 }, (_, i) => 100_000_000 + i));
    expect(truth.map((t) => t.px)).toEqual(['1', '2', '3', '1', '2', '3', '1', '2']);
  });

  it('stops at the end of the data with loop: false', async () => {
    const clock = new ManualClock();
    const { sim } = await startSim({
      now: clock.now,
      loop: false,
      instruments: [{ instId: 'ETH-USDT', trades: [trade(0, 1, 1, 'buy'), trade(1000, 2, 1, 'sell')] }],
    });
    clock.advance(60_000);
    await sleep(40);
    expect(sim.groundTruth('ETH-USDT')).toHaveLength(2);
  });

  it('infers the taker side by the tick rule when the data does not say', async () => {
    const clock = new ManualClock();
    const unknown = (offset: number, price: number) => ({
      ...trade(offset, price, 1, 'buy'),
      side: 'unknown' as const,
    });
    const { sim } = await startSim({
      now: clock.now,
      loop: false,
      instruments: [
        { instId: 'ETH-USDT', trades: [unknown(0, 10), unknown(1, 11), unknown(2, 11), unknown(3, 9)] },
      ],
    });
    clock.advance(10);
    await sleep(40);
    expect(sim.groundTruth('ETH-USDT').map((t) => t.side)).toEqual(['buy', 'buy', 'buy', 'sell']);
  });
});
