import ccxt from 'ccxt';
import { KrakenSimulator } from '../../src/sim/krakenSimulator.js';
import { sampleEthTrades, startSim, stopAll } from './support.js';

let kraken: KrakenSimulator | undefined;
afterEach(async () => {
  await kraken?.stop();
  kraken = undefined;
  await stopAll();
});

/**
 * ccxt.pro.kraken, unmodified, pointed at the simulator's Kraken dialect through its `urls`: markets,
 * currencies, WebSocket v2 trades, REST trades and OHLC all come from the same trades as the OKX dialect.
 */
describe('ccxt (ccxt.pro.kraken) against the simulator', () => {
  it('loads markets, watches v2 trades, fetches trades, OHLC and the ticker', async () => {
    const { sim } = await startSim({
      instruments: [{ instId: 'ETH-USDT', trades: await sampleEthTrades() }],
      speed: 50,
    });
    kraken = new KrakenSimulator(sim);
    const address = await kraken.start();
    const ex = new ccxt.pro.kraken({
      urls: { api: { public: address.restUrl, ws: { publicV2: address.wsV2Url } } },
    });
    try {
      await ex.loadHttpProxyAgent();
      const markets = await ex.loadMarkets();
      expect(markets['ETH/USDT']).toMatchObject({ id: 'ETHUSDT', spot: true, base: 'ETH', quote: 'USDT' });
      expect(markets['ETH/USDT']?.precision).toMatchObject({ price: 0.01, amount: 0.0001 });

      const seen = new Map<string, { price: number; amount: number; side: string; ts: number }>();
      while (seen.size < 200) {
        for (const t of await ex.watchTrades('ETH/USDT')) {
          seen.set(t.id as string, {
            price: t.price as number,
            amount: t.amount as number,
            side: t.side as string,
            ts: t.timestamp as number,
          });
        }
      }
      const truth = new Map(sim.groundTruth('ETH-USDT').map((t) => [t.tradeId, t]));
      for (const [id, t] of seen) {
        const g = truth.get(id);
        expect(g).toBeDefined();
        expect({ px: Number(g?.px), sz: Number(g?.sz), side: g?.side, ts: g?.ts }).toEqual({
          px: t.price,
          sz: t.amount,
          side: t.side,
          ts: t.ts,
        });
      }

      const recent = await ex.fetchTrades('ETH/USDT', undefined, 20);
      expect(recent.length).toBe(20);
      const truthNow = new Set(sim.groundTruth('ETH-USDT').map((t) => t.tradeId));
      expect(recent.every((t) => truthNow.has(t.id as string))).toBe(true);
      // Kraken's REST trades are oldest first and end with the newest.
      expect(Number(recent[19]?.id)).toBeGreaterThan(Number(recent[0]?.id));

      const bars = await ex.fetchOHLCV('ETH/USDT', '1m');
      expect(bars.length).toBeGreaterThan(0);
      const [ts, open, high, low, close] = bars[0] as number[];
      expect((ts as number) % 60_000).toBe(0);
      expect(low).toBeLessThanOrEqual(Math.min(open as number, close as number));
      expect(high).toBeGreaterThanOrEqual(Math.max(open as number, close as number));

      const ticker = await ex.fetchTicker('ETH/USDT');
      expect(ticker.bid).toBeLessThan(ticker.ask as number);
      expect(ticker.baseVolume).toBeGreaterThan(0);
    } finally {
      await ex.close();
    }
  });
});
