import ccxt from 'ccxt';
import { sampleEthTrades, startSim, stopAll } from './support.js';

afterEach(stopAll);

/**
 * A widely used third-party OKX client, unmodified, pointed at the simulator through its documented `urls`
 * setting: if it works here, the simulator speaks the protocol the way OKX does (as far as ccxt reads it).
 */
describe('ccxt (ccxt.pro.okx) against the simulator', () => {
  it('loads markets over REST, watches trades on /public and 1m candles on /business, fetches history', async () => {
    const { sim, address } = await startSim({
      instruments: [{ instId: 'ETH-USDT', trades: await sampleEthTrades() }],
      speed: 50,
    });
    const okx = new ccxt.pro.okx({
      urls: { api: { rest: address.restUrl, ws: address.wsPublicUrl.replace(/\/public$/, '') } },
      options: { fetchMarkets: { types: ['spot'] } }, // the simulator lists spot pairs only
    });
    try {
      // ccxt's own public call for plain ws:// URLs (it refuses non-TLS WebSockets without it).
      await okx.loadHttpProxyAgent();
      const markets = await okx.loadMarkets();
      expect(markets['ETH/USDT']).toMatchObject({ id: 'ETH-USDT', spot: true, base: 'ETH', quote: 'USDT' });
      expect(markets['ETH/USDT']?.precision).toMatchObject({ price: 0.01, amount: 0.0001 });

      const seen = new Map<string, { price: number; amount: number; side: string }>();
      while (seen.size < 50) {
        for (const t of await okx.watchTrades('ETH/USDT')) {
          seen.set(t.id as string, {
            price: t.price as number,
            amount: t.amount as number,
            side: t.side as string,
          });
        }
      }
      // ccxt reports OKX's aggregated pushes: each id is the last trade of an order, as in the ground truth.
      const truth = new Map(sim.groundTruth('ETH-USDT').map((t) => [t.tradeId, t]));
      for (const [id, t] of seen) {
        expect(truth.get(id)).toMatchObject({ px: String(t.price), side: t.side });
      }

      const candles = await okx.watchOHLCV('ETH/USDT', '1m');
      const [ts, open, high, low, close, volume] = candles[candles.length - 1] as number[];
      expect((ts as number) % 60_000).toBe(0);
      expect(low).toBeLessThanOrEqual(Math.min(open as number, close as number));
      expect(high).toBeGreaterThanOrEqual(Math.max(open as number, close as number));
      expect(volume).toBeGreaterThan(0);

      const recent = await okx.fetchTrades('ETH/USDT', undefined, 20);
      expect(recent.length).toBe(20);
      const truthNow = new Set(sim.groundTruth('ETH-USDT').map((t) => t.tradeId));
      expect(recent.every((t) => truthNow.has(t.id as string))).toBe(true);
      const bars = await okx.fetchOHLCV('ETH/USDT', '1m');
      expect(bars.length).toBeGreaterThan(0);
      expect(sim.stats().connections).toBeGreaterThanOrEqual(2); // /public and /business
    } finally {
      await okx.close();
    }
  });
});
