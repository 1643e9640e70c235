import type { Subscription } from 'rxjs';
import { firstValueFrom, take, toArray } from 'rxjs';
import { NotFoundError } from '../../src/domain/errors.js';
import type { Trade } from '../../src/domain/trade.js';
import { CcxtAdapter } from '../../src/exchanges/ccxtAdapter.js';
import type { FeedEvent } from '../../src/exchanges/exchangeAdapter.js';
import { KrakenSimulator } from '../../src/sim/krakenSimulator.js';
import { readTradeCsv } from '../../src/streams/tradeCsv.js';
import { BTC_SAMPLE, sampleEthTrades, startSim, stopAll } from '../sim/support.js';

let kraken: KrakenSimulator | undefined;
let adapter: CcxtAdapter | undefined;
afterEach(async () => {
  await adapter?.close();
  await kraken?.stop();
  adapter = undefined;
  kraken = undefined;
  await stopAll();
});

async function setup(events: FeedEvent[] = []) {
  const btc = (await readTradeCsv(BTC_SAMPLE, { symbol: 'BTC-USDT' })).trades;
  const { sim } = await startSim({
    instruments: [
      { instId: 'BTC-USDT', trades: btc },
      { instId: 'ETH-USDT', trades: await sampleEthTrades() },
    ],
    speed: 20,
  });
  kraken = new KrakenSimulator(sim);
  const address = await kraken.start();
  adapter = await CcxtAdapter.create({
    exchange: 'kraken',
    urls: { api: { public: address.restUrl, ws: { publicV2: address.wsV2Url } } },
    onEvent: (e) => events.push(e),
    backoff: { baseMs: 300, maxMs: 1000 },
  });
  return { sim, kraken, adapter };
}

/** Waits (polling) until `done` holds; fails after `ms`. */
async function until(done: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('CcxtAdapter (ccxt.pro.kraken) against the simulator', () => {
  it('lists instruments in both symbol forms', async () => {
    const { adapter } = await setup();
    const list = await adapter.instruments();
    expect(list.find((i) => i.symbol === 'BTC-USDT')).toMatchObject({
      unified: 'BTC/USDT',
      exchangeId: 'XBTUSDT',
      base: 'BTC',
      quote: 'USDT',
      active: true,
    });
    expect(list.map((i) => i.symbol).sort()).toEqual(['BTC-USDT', 'ETH-USDT']);
  });

  it('streams every trade once, in order, and fills a dropped connection from REST', async () => {
    const events: FeedEvent[] = [];
    const { sim, kraken, adapter } = await setup(events);
    const got: Trade[] = [];
    const sub: Subscription = adapter.trades$(['ETH-USDT', 'BTC-USDT']).subscribe((t) => got.push(t));
    try {
      await until(() => got.filter((t) => t.symbol === 'ETH-USDT').length >= 200);
      expect(kraken.dropConnections()).toBeGreaterThanOrEqual(1);
      const afterDrop = got.length;
      await until(
        () =>
          events.filter((e) => e.type === 'backfill').length >= 2 &&
          got.filter((t) => t.symbol === 'BTC-USDT').length > 0 &&
          got.length > afterDrop + 500,
      );
    } finally {
      sub.unsubscribe();
    }
    expect(events.some((e) => e.type === 'disconnected')).toBe(true);
    expect(events.some((e) => e.type === 'connected' && e.reconnect)).toBe(true);
    for (const symbol of ['ETH-USDT', 'BTC-USDT']) {
      const mine = got.filter((t) => t.symbol === symbol);
      const truth = sim.groundTruth(symbol);
      const firstIndex = truth.findIndex((t) => t.tradeId === mine[0]?.tradeId);
      expect(firstIndex).toBeGreaterThanOrEqual(0);
      // Contiguous: exactly the simulator's trades from the first one seen, none lost across the drop.
      const expected = truth.slice(firstIndex, firstIndex + mine.length);
      expect(mine.map((t) => [t.tradeId, t.tsMs, t.price, t.size, t.side])).toEqual(
        expected.map((t) => [t.tradeId, t.ts, Number(t.px), Number(t.sz), t.side]),
      );
    }
  }, 120_000);

  it("keeps every symbol's trades coming while another symbol trades on every push", async () => {
    // The simulator sends BTC's update before ETH's on every push (20 ms), both in one read. ccxt resolves
    // a multi-symbol watch with the first symbol's trades only; the others wait in its caches until their
    // own message comes first, which a BTC trading every 5 ms never lets ETH's (a trade a second) do.
    const t0 = Date.UTC(2024, 7, 8, 23, 54, 0);
    const synthetic = (symbol: string, n: number, everyMs: number, price: number): Trade[] =>
      Array.from({ length: n }, (_, i) => ({
        symbol,
        tradeId: String(i + 1),
        tsMs: t0 + i * everyMs,
        price: price + (i % 7),
        size: 0.5,
        side: i % 2 === 0 ? 'buy' : 'sell',
      }));
    const { sim } = await startSim({
      instruments: [
        { instId: 'BTC-USDT', trades: synthetic('BTC-USDT', 20_000, 5, 60_000) },
        { instId: 'ETH-USDT', trades: synthetic('ETH-USDT', 100, 1000, 2600) },
      ],
    });
    kraken = new KrakenSimulator(sim);
    const address = await kraken.start();
    adapter = await CcxtAdapter.create({
      exchange: 'kraken',
      urls: { api: { public: address.restUrl, ws: { publicV2: address.wsV2Url } } },
    });
    const got: Trade[] = [];
    const sub = adapter.trades$(['BTC-USDT', 'ETH-USDT']).subscribe((t) => got.push(t));
    const eth = (): Trade[] => got.filter((t) => t.symbol === 'ETH-USDT');
    try {
      await until(() => eth().length >= 5, 30_000);
    } finally {
      sub.unsubscribe();
    }
    expect(got.filter((t) => t.symbol === 'BTC-USDT').length).toBeGreaterThan(500);
    const truth = sim.groundTruth('ETH-USDT').map((t) => t.tradeId);
    const at = truth.indexOf(eth()[0]?.tradeId ?? '');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(eth().map((t) => t.tradeId)).toEqual(truth.slice(at, at + eth().length));
  }, 60_000);

  it('fetches 1m candles and trades over REST, and refuses an unknown symbol', async () => {
    const { sim, adapter } = await setup();
    // A few trades in, so REST has something.
    await firstValueFrom(adapter.trades$(['ETH-USDT']).pipe(take(100), toArray()));
    const candles = await adapter.fetchCandles1m('ETH-USDT');
    expect(candles.length).toBeGreaterThan(0);
    const truth = sim.groundTruth('ETH-USDT');
    const c = candles[0];
    const inMinute = truth.filter(
      (t) => t.ts >= (c?.closeTimeMs ?? 0) - 60_000 && t.ts < (c?.closeTimeMs ?? 0),
    );
    expect(c?.open).toBe(Number(inMinute[0]?.px));
    expect(c?.high).toBe(Math.max(...inMinute.map((t) => Number(t.px))));
    const trades = await adapter.fetchTrades('ETH-USDT', undefined, 10);
    const now = sim.groundTruth('ETH-USDT');
    const at = now.findIndex((t) => t.tradeId === trades[0]?.tradeId);
    expect(trades.length).toBe(10);
    expect(trades.map((t) => t.tradeId)).toEqual(now.slice(at, at + 10).map((t) => t.tradeId));
    await expect(adapter.fetchTrades('DOGE-USDT')).rejects.toBeInstanceOf(NotFoundError);
  }, 60_000);
});
